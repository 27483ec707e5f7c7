#!/usr/bin/env bash
# Installs the project into a project-local virtual environment (.venv) as a user would (a regular, not
# editable, install; RESQUE_VENV names another folder), then runs `resque-demo` in the foreground: one
# throwaway Redis (redis-server when it is installed, else an in-process fake), resque-exporter (:9447),
# resque-sidecar (:9448: the pages and the API), resque-agent (:9449) and a few demo workers on this
# host, all on that one Redis. It prints the URLs and the login tokens once everything is up; Ctrl-C
# stops every process and deletes its temporary files. Extra arguments go to resque-demo
# (e.g. --sidecar.port 9500; see .venv/bin/resque-demo --help).
# The tests install into their own environment (.venv-test, scripts/test.sh): running them while the
# demo runs cannot change the code under it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  echo "python3-venv is missing: sudo apt-get install -y python3-venv" >&2
  exit 1
fi
. scripts/venv.sh
echo "== installing resque-exporter and its dependencies into $venv_dir (the first time takes a minute)"
"$VENV_PYTHON" -m pip install --disable-pip-version-check .
command -v redis-server >/dev/null 2>&1 \
  || echo "== no redis-server on PATH: the demo runs on fakeredis inside the launcher (apt-get install redis-server for a real one)"
echo "== starting resque-demo (Ctrl-C stops it)"
exec "$venv_dir/bin/resque-demo" "$@"
