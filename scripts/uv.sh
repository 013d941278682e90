#!/usr/bin/env bash
# Run uv with the given arguments, installing uv from PyPI first when this machine lacks it.
#
#   scripts/uv.sh sync --frozen
#
# uv is looked up on PATH first, then as `python3 -m uv` (a `pip install --user` may put the
# binary in a directory that is not on PATH). When neither works, uv is installed with pip;
# Debian's own Python refuses system-wide installs (PEP 668), so the fallback is a user
# install, which does not touch the packages Debian manages.
set -euo pipefail

PYTHON=${PYTHON:-python3}

find_uv() {
    if command -v uv >/dev/null 2>&1; then
        UV=(uv)
    elif "$PYTHON" -m uv --version >/dev/null 2>&1; then
        UV=("$PYTHON" -m uv)
    else
        return 1
    fi
}

install_uv() {
    echo "uv is not installed: installing it from PyPI with pip." >&2
    if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
        if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
            echo "pip is missing: installing python3-pip with apt-get." >&2
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq python3-pip >/dev/null
        else
            echo "error: neither uv nor pip is available; install uv (https://docs.astral.sh/uv/)." >&2
            exit 1
        fi
    fi
    "$PYTHON" -m pip install --quiet uv \
        || "$PYTHON" -m pip install --quiet --user --break-system-packages uv
}

if ! find_uv; then
    install_uv
    find_uv || { echo "error: uv was installed but cannot be run." >&2; exit 1; }
fi

exec "${UV[@]}" "$@"
