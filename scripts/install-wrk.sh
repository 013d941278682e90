#!/usr/bin/env bash
# Installs wrk (the HTTP load generator of the search benchmark) when it is missing, from the
# system's packages (Debian: apt-get). Exits 0 without it when it cannot be installed here;
# the benchmark then falls back to its own Python client and says so in its report.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-wrk: wrk is missing and cannot be installed here (needs root and apt-get)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends wrk >/dev/null 2>&1; then
    apt-get update -q >/dev/null 2>&1 || true
    apt-get install -y -q --no-install-recommends wrk >/dev/null 2>&1 \
        || echo "install-wrk: apt-get could not install wrk" >&2
fi
command -v wrk >/dev/null 2>&1 && echo "install-wrk: $(wrk --version 2>&1 | head -1)"
exit 0
