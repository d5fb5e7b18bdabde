#!/usr/bin/env bash
# Creates the oracle's virtual environment (PyPI only) and prints its python's path.
#   tools/oracle/setup_venv.sh            -> tools/oracle/.venv
#   PETL_ORACLE_VENV=/some/dir tools/oracle/setup_venv.sh
# Nothing in the build or in CI needs it: it only regenerates the committed fixtures.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${PETL_ORACLE_VENV:-$here/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
echo "$venv/bin/python"
