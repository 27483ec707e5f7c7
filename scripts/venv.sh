# Sourced by the other scripts: creates (once) and names the project-local virtual environment.
# Uses the python3 on PATH (on a fresh Debian/Ubuntu, the system Python) and never installs into it.
# The folder is $RESQUE_VENV, else .venv (scripts/test.sh defaults it to .venv-test).
venv_dir="${RESQUE_VENV:-.venv}"
if [ ! -x "$venv_dir/bin/python" ]; then
  echo "== creating the virtual environment $venv_dir (python3 -m venv)"
  python3 -m venv "$venv_dir"
  echo "== upgrading pip in $venv_dir"
  "$venv_dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
fi
VENV_PYTHON="$venv_dir/bin/python"
export PATH="$(cd "$venv_dir/bin" && pwd):$PATH"
