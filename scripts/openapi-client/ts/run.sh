#!/usr/bin/env bash
# The flow of ../flow.py through a TypeScript client generated from peter's
# OpenAPI document: openapi-typescript (types) + openapi-fetch (requests),
# compiled by tsc --strict and run with node. Versions are pinned exactly in
# package.json / package-lock.json.
#
# Usage: run.sh SPEC_PATH BASE_URL TOKEN CERT_PEM KEY_PEM CHAIN_PEM
#   SPEC_PATH  the OpenAPI document (a file)
#   BASE_URL   the server, e.g. http://127.0.0.1:7300 (paths carry /.well-known/peter_sslers)
#   TOKEN      the admin token
#   CERT_PEM KEY_PEM CHAIN_PEM  a leaf for client.example.com, its key, its chain
#              (make-test-material.sh makes some)
# PETER_FLOW_DOMAIN (optional) names another domain for reruns; see flow.ts.
#
# Exits non-zero on any failure; the last line on success is
# "typescript flow: all good".
set -euo pipefail

if [ "$#" -ne 6 ]; then
  echo "usage: $0 SPEC_PATH BASE_URL TOKEN CERT_PEM KEY_PEM CHAIN_PEM" >&2
  exit 2
fi
spec=$(realpath "$1")
shift
for f in "$spec" "$3" "$4" "$5"; do
  [ -r "$f" ] || { echo "run.sh: cannot read $f" >&2; exit 2; }
done

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

# (a) dependencies, from the lockfile, when node_modules is missing or was
# installed from another package.json / package-lock.json (a stamp holds
# their hash).
stamp=node_modules/.run-sh.sha256
want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "run.sh: npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$want" > "$stamp"
fi

# (b) types from the document. Note: openapi-typescript lints the document
# with the redocly.yaml of the working directory when there is one; with
# `extends: recommended` it stops on the document's Redocly errors. So this
# directory deliberately has no redocly.yaml (`redocly lint` needs none: its
# default ruleset is `recommended`).
rm -rf generated build
mkdir -p generated
npx --no-install openapi-typescript "$spec" -o generated/schema.d.ts

# (c) compile: flow.ts and the generated schema (both listed in tsconfig.json;
# skipLibCheck is off there so the generated .d.ts is type-checked too).
npx --no-install tsc --strict -p tsconfig.json

# (d) run
node build/flow.js "$@"

echo "typescript flow: all good"
