#!/usr/bin/env bash
# Creates the oracle's virtual environment (PyPI only) and prints its python's path.
#   tools/oracle/setup_venv.sh            -> tools/oracle/.venv
#   PETL_ORACLE_VENV=/some/dir tools/oracle/setup_venv.sh
#   tools/oracle/setup_venv.sh adapters   -> tools/oracle/.venv-adapters (requirements-adapters.txt:
#                                            AdapterHub `adapters` needs transformers 4.x)
# Nothing in the build or in CI needs it: it only regenerates the committed fixtures.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
flavour="${1:-}"
case "$flavour" in
  "") requirements="$here/requirements.txt"; venv="${PETL_ORACLE_VENV:-$here/.venv}" ;;
  adapters) requirements="$here/requirements-adapters.txt"; venv="${PETL_ORACLE_VENV:-$here/.venv-adapters}" ;;
  *) echo "setup_venv.sh: unknown environment '$flavour' (expected nothing or 'adapters')" >&2; exit 2 ;;
esac
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
echo "$venv/bin/python"
