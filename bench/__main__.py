"""``make bench``: the portal's benchmarks.

python -m bench            the pages benchmark, then the search benchmark
python -m bench web        the pages benchmark only (bench/web.py)
python -m bench search     the search benchmark only (bench/search.py; BENCH_SIZES,
                           BENCH_DATABASES, see its docstring)
"""

from __future__ import annotations

import sys

from bench import search, web


def main(argv: list[str]) -> None:
    which = argv[0] if argv else "all"
    if which not in ("all", "web", "search"):
        sys.exit(f"usage: python -m bench [web|search]  (not {which!r})")
    if which in ("all", "web"):
        web.main()
        print()
    if which in ("all", "search"):
        search.main()


if __name__ == "__main__":
    main(sys.argv[1:])
