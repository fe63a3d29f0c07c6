#!/usr/bin/env bash
# What the test suites need from the machine, in one place: `npm test` runs it first and
# `.ci/run` runs it before `npm ci`. As root it installs what is missing with apt-get (quietly,
# one line saying what); otherwise it stops at once with one line naming what is missing and
# the command that installs it. Nothing missing: silent, exit 0.
set -uo pipefail

need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client-15)
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
command -v jq >/dev/null 2>&1 || need+=(jq)
command -v check_postgres >/dev/null 2>&1 || need+=(check-postgres)
command -v mkfifo >/dev/null 2>&1 || need+=(coreutils)
# The HTML report's browser test (test/cli/doctor-html.test.ts) drives Debian's Chromium headless.
# Installed without its Recommends (mesa's DRI drivers and LLVM, CUPS tools, upower…: ~95 of
# its ~114 packages, which headless --disable-gpu never uses): 19 packages, seconds, not minutes.
lean=()
[ -x /usr/bin/chromium ] || lean+=(chromium)

if [ "$(id -u)" -ne 0 ]; then
  need+=("${lean[@]}")
  if ((${#need[@]})); then
    echo "npm test: missing ${need[*]}; install them with: sudo apt-get install -y ${need[*]} (then run the tests as root: sudo npm test)" >&2
  else
    echo "npm test: the suites start PostgreSQL and PgBouncer as the postgres user (runuser) and mount a tmpfs, which needs root: run sudo npm test" >&2
  fi
  exit 1
fi

if ((${#need[@]})); then
  command -v apt-get >/dev/null 2>&1 || { echo "npm test: missing ${need[*]} and no apt-get to install them (a Debian machine is expected)" >&2; exit 1; }
  echo "npm test: installing ${need[*]}" >&2
  log=$(mktemp)
  # apt's own chatter (debconf notes) goes to the log, shown only when something fails.
  apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; echo "npm test: apt-get update failed" >&2; rm -f "$log"; exit 1; }
  updated=1
  # policy-rc.d may block service starts; the suites start their own clusters anyway.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >"$log" 2>&1 || { cat "$log" >&2; echo "npm test: apt-get install ${need[*]} failed" >&2; rm -f "$log"; exit 1; }
  rm -f "$log"
fi
if ((${#lean[@]})); then
  command -v apt-get >/dev/null 2>&1 || { echo "npm test: missing ${lean[*]} and no apt-get to install them (a Debian machine is expected)" >&2; exit 1; }
  echo "npm test: installing ${lean[*]} (without recommended packages)" >&2
  log=$(mktemp)
  [ -n "${updated:-}" ] || apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; echo "npm test: apt-get update failed" >&2; rm -f "$log"; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${lean[@]}" >"$log" 2>&1 || { cat "$log" >&2; echo "npm test: apt-get install ${lean[*]} failed" >&2; rm -f "$log"; exit 1; }
  rm -f "$log"
fi
id postgres >/dev/null 2>&1 || { echo "npm test: the postgres OS user is missing (reinstall postgresql-15)" >&2; exit 1; }
exit 0
