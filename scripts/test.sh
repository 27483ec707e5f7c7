#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian 12 machine, then runs all of it:
# lint, type check and pytest (unit, real redis-server integration, real promtool/Prometheus tiers).
set -euo pipefail
cd "$(dirname "$0")/.."

# Real binaries the tests run. A missing one fails the suite; it is never skipped.
debs=(redis-server prometheus prometheus-alertmanager)
bins=(redis-server promtool prometheus prometheus-alertmanager)
missing=0
for bin in "${bins[@]}"; do command -v "$bin" >/dev/null 2>&1 || missing=1; done
if [ "$missing" = 1 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${debs[@]}"
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test]'

echo "== ruff"; python3 -m ruff check . && python3 -m ruff format --check .
echo "== mypy"; python3 -m mypy exporter
echo "== pytest"; python3 -m pytest "$@"
