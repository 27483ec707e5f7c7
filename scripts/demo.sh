#!/usr/bin/env bash
# Installs the project into a project-local virtual environment (.venv) and starts the demo on loopback:
# `resque-exporter --demo` (metrics, :9447) in the background and `resque-sidecar --demo` (the attention
# pages and the API, :9448) in the foreground, each on in-process fake Redis Resques. No Redis needed.
# The sidecar prints a fresh login token at start-up. Extra arguments go to `resque-sidecar --demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  echo "python3-venv is missing: sudo apt-get install -y python3-venv" >&2
  exit 1
fi
. scripts/venv.sh
"$VENV_PYTHON" -m pip install -q --disable-pip-version-check .
"$venv_dir/bin/resque-exporter" --demo --web.listen-address 127.0.0.1:9447 &
exporter_pid=$!
trap 'kill "$exporter_pid" 2>/dev/null || true' EXIT
"$venv_dir/bin/resque-sidecar" --demo --web.listen-address 127.0.0.1:9448 "$@"
