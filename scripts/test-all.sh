#!/usr/bin/env bash
# Run every check suite of the portal and report each one as passed, FAILED or SKIPPED.
#
#   scripts/test-all.sh                          every suite, in order
#   scripts/test-all.sh pytest-postgresql browser only those suites
#
# Every suite runs even when an earlier one fails. The exit status is non-zero when a suite
# failed; with CI=true a skipped suite fails the run too. Missing PostgreSQL or Chromium is
# installed with apt-get when running as root; otherwise that suite is skipped with a reason.
#
# The suites receive:
#   PORTAL_TEST_DATABASE_URL  pytest-postgresql only: a throwaway PostgreSQL database
#                             (unset for every other suite, so those use SQLite)
#   PORTAL_CHROMIUM           browser only: the Chromium executable (/usr/bin/chromium)
#
# Deliberately no `set -e`: a failing suite must not stop the others.
# The suites are called by name (suite_<name>), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -u

ALL_SUITES=(ruff format mypy migrations pytest-sqlite pytest-postgresql browser dockerfile)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
BIN="$ROOT/.venv/bin"
CHROMIUM=/usr/bin/chromium

# A developer's own database settings must not leak into the suites.
unset PORTAL_TEST_DATABASE_URL PORTAL_DATABASE_URL PORTAL_CHROMIUM

usage() {
    echo "usage: $0 [suite ...]" >&2
    echo "suites: ${ALL_SUITES[*]}" >&2
}

# ----------------------------------------------------------------------------------------
# Output helpers

if [[ -t 1 ]]; then
    BOLD=$'\e[1m' RED=$'\e[31m' GREEN=$'\e[32m' YELLOW=$'\e[33m' RESET=$'\e[0m'
else
    BOLD='' RED='' GREEN='' YELLOW='' RESET=''
fi

banner() {
    echo
    echo "${BOLD}==== $* ====${RESET}"
}

# Print a command, then run it.
run() {
    echo "+ $*"
    "$@"
}

# ----------------------------------------------------------------------------------------
# Installing what a suite needs (apt-get update runs at most once per run)

APT_UPDATED=0

can_apt() {
    [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1
}

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if [[ $APT_UPDATED -eq 0 ]]; then
        echo "+ apt-get update -qq"
        apt-get update -qq || return 1
        APT_UPDATED=1
    fi
    echo "+ apt-get install -y -qq $*"
    apt-get install -y -qq "$@" >/dev/null
}

# ----------------------------------------------------------------------------------------
# Suites: each returns 0 (passed), 1 (FAILED) or SKIP after setting SKIP_REASON.

SKIP=77
SKIP_REASON=''

pytest_failed() {
    # pytest's exit status 5 means it collected no tests, which counts as a failure here.
    local status=$1
    if [[ $status -eq 5 ]]; then
        echo "${RED}pytest collected no tests (exit status 5): counted as a failure${RESET}"
    fi
    [[ $status -ne 0 ]]
}

suite_ruff() {
    run "$BIN/ruff" check .
}

suite_format() {
    run "$BIN/ruff" format --check .
}

suite_mypy() {
    run "$BIN/mypy"
}

# upgrade head, check, downgrade base, upgrade head against PORTAL_DATABASE_URL=$1
migrations_round_trip() {
    local url=$1 step
    for step in "upgrade head" "check" "downgrade base" "upgrade head"; do
        echo "+ PORTAL_DATABASE_URL=$url alembic $step"
        # shellcheck disable=SC2086  # the step is meant to split into words
        PORTAL_DATABASE_URL=$url "$BIN/alembic" $step || return 1
    done
}

suite_migrations() {
    local dir status
    dir=$(mktemp -d "${TMPDIR:-/tmp}/portal-migrations.XXXXXX") || return 1
    migrations_round_trip "sqlite:///$dir/check.db"
    status=$?
    rm -rf "$dir"
    return "$status"
}

suite_pytest_sqlite() {
    run "$BIN/pytest" tests --ignore=tests/browser \
        --cov=app --cov-report=term --cov-fail-under=90 -q
    pytest_failed $? && return 1
    return 0
}

# PostgreSQL: a throwaway cluster in a temporary directory, removed by cleanup_postgres,
# which also runs from the EXIT/INT/TERM traps when the run fails or is interrupted.
PG_BIN=''
PG_DIR=''
PG_STARTED=0

find_postgres() {
    local candidate
    PG_BIN=''
    # The newest version directory wins; Debian puts the server outside PATH.
    for candidate in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
        [[ -x $candidate/initdb && -x $candidate/pg_ctl ]] && PG_BIN=$candidate
    done
    if [[ -z $PG_BIN ]] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        PG_BIN=$(dirname "$(command -v initdb)")
    fi
    [[ -n $PG_BIN ]]
}

# Run a PostgreSQL program as the cluster's owner: `postgres` when we are root (PostgreSQL
# refuses to run as root), the current user otherwise.
as_pg_owner() {
    if [[ $EUID -eq 0 ]]; then
        (cd "$PG_DIR" && runuser -u postgres -- "$@")
    else
        (cd "$PG_DIR" && "$@")
    fi
}

cleanup_postgres() {
    if [[ -n $PG_DIR && -d $PG_DIR ]]; then
        if [[ $PG_STARTED -eq 1 ]]; then
            echo "+ pg_ctl stop (throwaway cluster in $PG_DIR)"
            as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
            PG_STARTED=0
        fi
        rm -rf "$PG_DIR"
        echo "removed $PG_DIR"
    fi
    PG_DIR=''
}

free_port() {
    "$BIN/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

start_postgres() {
    local port=$1
    # Under /tmp, not $TMPDIR: the postgres user must be able to reach it.
    PG_DIR=$(mktemp -d /tmp/portal-postgresql.XXXXXX) || return 1
    if [[ $EUID -eq 0 ]]; then
        chown postgres: "$PG_DIR" || return 1
    fi
    echo "+ initdb -D $PG_DIR/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8"
    as_pg_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log"; return 1; }
    echo "+ pg_ctl start (port $port)"
    PG_STARTED=1
    as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        -w start >/dev/null \
        || { cat "$PG_DIR/server.log"; return 1; }
    echo "+ createdb portal_test"
    as_pg_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres portal_test
}

suite_pytest_postgresql() {
    if ! find_postgres; then
        if ! can_apt; then
            SKIP_REASON="PostgreSQL server not installed and not installable: $([[ $EUID -ne 0 ]] && echo 'not root' || echo 'no apt-get')"
            return "$SKIP"
        fi
        apt_install postgresql || { echo "apt-get install postgresql failed"; return 1; }
        find_postgres || { echo "PostgreSQL was installed but initdb/pg_ctl are not found"; return 1; }
    fi
    echo "PostgreSQL binaries: $PG_BIN"
    if [[ $EUID -eq 0 ]] && ! id -u postgres >/dev/null 2>&1; then
        local group_option=--user-group
        getent group postgres >/dev/null && group_option=--gid=postgres
        run useradd --system "$group_option" --home-dir /var/lib/postgresql --shell /bin/bash \
            postgres || return 1
    fi

    local port url status=0
    port=$(free_port) || return 1
    if ! start_postgres "$port"; then
        cleanup_postgres
        return 1
    fi
    url="postgresql+psycopg://postgres@127.0.0.1:$port/portal_test"

    echo "+ PORTAL_TEST_DATABASE_URL=$url pytest tests --ignore=tests/browser -q -p no:cacheprovider"
    PORTAL_TEST_DATABASE_URL=$url "$BIN/pytest" tests --ignore=tests/browser -q -p no:cacheprovider
    pytest_failed $? && status=1

    banner "pytest-postgresql: migrations round trip on PostgreSQL"
    migrations_round_trip "$url" || status=1

    cleanup_postgres
    return "$status"
}

suite_browser() {
    if [[ ! -x $CHROMIUM ]]; then
        if ! can_apt; then
            SKIP_REASON="chromium not installable: $([[ $EUID -ne 0 ]] && echo 'not root' || echo 'no apt-get')"
            return "$SKIP"
        fi
        if ! apt_install chromium || [[ ! -x $CHROMIUM ]]; then
            SKIP_REASON="chromium not installable: apt-get install chromium failed"
            return "$SKIP"
        fi
    fi
    echo "+ PORTAL_CHROMIUM=$CHROMIUM pytest tests/browser -q -p no:cacheprovider"
    PORTAL_CHROMIUM=$CHROMIUM "$BIN/pytest" tests/browser -q -p no:cacheprovider
    pytest_failed $? && return 1
    return 0
}

suite_dockerfile() {
    run "$BIN/hadolint" Dockerfile
}

# ----------------------------------------------------------------------------------------
# Main

on_exit() {
    cleanup_postgres
}
trap on_exit EXIT
trap 'echo; echo "interrupted"; exit 130' INT
trap 'echo; echo "terminated"; exit 143' TERM

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    usage
    exit 0
fi

SELECTED=()
if [[ $# -eq 0 ]]; then
    SELECTED=("${ALL_SUITES[@]}")
else
    for wanted in "$@"; do
        if [[ " ${ALL_SUITES[*]} " != *" $wanted "* ]]; then
            echo "unknown suite: $wanted" >&2
            usage
            exit 2
        fi
    done
    # Keep the canonical order whatever order the arguments came in.
    for suite in "${ALL_SUITES[@]}"; do
        for wanted in "$@"; do
            if [[ $suite == "$wanted" ]]; then
                SELECTED+=("$suite")
                break
            fi
        done
    done
fi

if [[ ! -x $BIN/python ]]; then
    echo "${RED}.venv is missing: run \`make install\` (or \`make test\`) first${RESET}" >&2
    exit 2
fi

declare -A RESULT DURATION
for suite in "${SELECTED[@]}"; do
    banner "$suite"
    SKIP_REASON=''
    started=$SECONDS
    "suite_${suite//-/_}"
    status=$?
    DURATION[$suite]=$((SECONDS - started))
    if [[ $status -eq 0 ]]; then
        RESULT[$suite]=passed
        echo "${GREEN}-- $suite: passed${RESET}"
    elif [[ $status -eq $SKIP ]]; then
        RESULT[$suite]="SKIPPED($SKIP_REASON)"
        echo "${YELLOW}*** SKIPPED: $suite ($SKIP_REASON) ***${RESET}"
    else
        RESULT[$suite]=FAILED
        echo "${RED}-- $suite: FAILED${RESET}"
    fi
done

failed=0
skipped=0
summary="SUMMARY:"
echo
echo "${BOLD}================================ SUMMARY ================================${RESET}"
for suite in "${SELECTED[@]}"; do
    result=${RESULT[$suite]}
    case $result in
        passed) colour=$GREEN ;;
        FAILED) colour=$RED; failed=$((failed + 1)) ;;
        *) colour=$YELLOW; skipped=$((skipped + 1)) ;;
    esac
    printf '  %-18s %s%s%s (%ss)\n' "$suite" "$colour" "$result" "$RESET" "${DURATION[$suite]}"
    summary+=" $suite=$result"
done
for suite in "${SELECTED[@]}"; do
    if [[ ${RESULT[$suite]} == SKIPPED* ]]; then
        reason=${RESULT[$suite]#SKIPPED(}
        echo "${YELLOW}*** SKIPPED: $suite (${reason%)}) ***${RESET}"
    fi
done
echo "========================================================================="
echo "$summary"

if [[ $failed -gt 0 ]]; then
    exit 1
fi
if [[ $skipped -gt 0 && ${CI:-} == true ]]; then
    echo "${RED}CI=true: a skipped suite fails the run${RESET}"
    exit 1
fi
exit 0
