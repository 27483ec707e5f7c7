#!/usr/bin/env bash
# Installs the project into a project-local virtual environment (.venv) and starts the demo:
# two Resques on an in-process fake Redis, kept moving, served on loopback. No Redis needed.
# Extra arguments go to `resque-exporter --demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  echo "python3-venv is missing: sudo apt-get install -y python3-venv" >&2
  exit 1
fi
. scripts/venv.sh
"$VENV_PYTHON" -m pip install -q --disable-pip-version-check .
exec "$venv_dir/bin/resque-exporter" --demo --web.listen-address 127.0.0.1:9447 "$@"
