#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian 12 / Ubuntu machine, then runs all of it:
# lint, type check and pytest (unit, real redis-server/redis-sentinel integration, real
# Prometheus/Alertmanager end to end, real headless Chromium page tests).
# Python packages go into a project-local virtual environment (.venv-test, editable with the test extras),
# never into the system Python (PEP 668), and never into the demo's .venv: the tests replace the package
# under them, which must not happen to a running demo. Set RESQUE_VENV to use another folder.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real binaries the tests run. A missing one fails the suite; it is never skipped.
debs=(redis-server redis-sentinel openssl prometheus prometheus-alertmanager chromium chromium-driver python3-venv)
bins=(redis-server redis-sentinel openssl promtool prometheus prometheus-alertmanager chromium chromedriver)
missing=0
for bin in "${bins[@]}"; do command -v "$bin" >/dev/null 2>&1 || missing=1; done
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing=1
if [ "$missing" = 1 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${debs[@]}"
fi

RESQUE_VENV="${RESQUE_VENV:-.venv-test}"
. scripts/venv.sh
echo "== installing the project (editable) and its test dependencies into $venv_dir (the first time takes a minute or two)"
"$VENV_PYTHON" -m pip install --disable-pip-version-check -e '.[test]'

echo "== ruff"; "$VENV_PYTHON" -m ruff check . && "$VENV_PYTHON" -m ruff format --check .
echo "== mypy"; "$VENV_PYTHON" -m mypy exporter
echo "== pytest"; "$VENV_PYTHON" -m pytest "$@"
