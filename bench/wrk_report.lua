-- wrk's report for bench/search.py: one JSON line with the figures it needs.
-- Latencies in microseconds; errors are failed connections, reads, writes, timeouts and
-- responses with a status other than 2xx or 3xx.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.status + e.timeout))
end
