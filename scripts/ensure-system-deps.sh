#!/usr/bin/env bash
# Install the system packages PlugPool needs when they are missing: PostGIS for the
# PostgreSQL server that runs here, and SpatiaLite for the embedded default database.
set -euo pipefail

need=()
pg_major="${PG_MAJOR:-}"
if [ -z "$pg_major" ] && command -v pg_lsclusters >/dev/null; then
  pg_major="$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1}')"
fi
if [ -z "$pg_major" ] && command -v psql >/dev/null; then
  pg_major="$(psql --version | sed -E 's/.* ([0-9]+)\..*/\1/')"
fi
pg_major="${pg_major:-15}"

if [ ! -f "/usr/share/postgresql/${pg_major}/extension/postgis.control" ]; then
  need+=("postgresql-${pg_major}-postgis-3")
fi
if ! ls /usr/lib/*/mod_spatialite.so >/dev/null 2>&1; then
  need+=("libsqlite3-mod-spatialite")
fi

sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

# Headless Chromium for the browser tests (`make test` sets PLUGPOOL_BROWSER_DEPS=1): Debian's
# package, driven by Playwright through executable_path; no browser is downloaded. Without
# it those tests skip and say why, so a failed install does not stop the run.
if [ "${PLUGPOOL_BROWSER_DEPS:-}" = "1" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "Installing system package: chromium (browser tests)"
  { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq chromium >/dev/null; } \
    || echo "chromium could not be installed: the browser tests will skip" >&2
fi

if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi

echo "Installing system packages: ${need[*]}"
$sudo_cmd apt-get update -qq
$sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
