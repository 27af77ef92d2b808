#!/usr/bin/env bash
# The Python tools the contract checks use (openapi-python-client,
# openapi-spec-validator, schemathesis), pinned in scripts/openapi-client/requirements.txt,
# in a venv under target/ (or $PETER_TEST_VENV). Idempotent; prints the venv's
# python for PETER_TEST_PYTHON on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${PETER_TEST_VENV:-$PWD/target/test-venv}"
req=scripts/openapi-client/requirements.txt
stamp="$venv/.requirements"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
    echo "[python-tools] venv up to date: $venv" >&2
else
    command -v python3 >/dev/null || { echo "FATAL: python3 is missing" >&2; exit 1; }
    rm -rf "$venv"
    python3 -m venv "$venv" || { echo "FATAL: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$stamp"
    echo "[python-tools] installed $(tr '\n' ' ' < "$req")into $venv" >&2
fi
echo "$venv/bin/python"
