#!/usr/bin/env bash
# Throwaway test material for run.sh: a root CA, an intermediate, and a leaf
# for one name (EC P-256 keys throughout).
#
# Usage: make-test-material.sh OUTDIR [NAME]   (NAME defaults to client.example.com)
# Writes OUTDIR/{cert.pem,key.pem,chain.pem} (chain.pem = the intermediate)
# plus the CA files they came from.
set -euo pipefail
out=${1:?usage: make-test-material.sh OUTDIR [NAME]}
name=${2:-client.example.com}
mkdir -p "$out"
cd "$out"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key root.key
openssl req -x509 -new -key root.key -sha256 -days 3650 -subj "/CN=peter test root" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out root.pem

key intermediate.key
openssl req -new -key intermediate.key -subj "/CN=peter test intermediate" -out intermediate.csr
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > intermediate.ext
openssl x509 -req -in intermediate.csr -CA root.pem -CAkey root.key -CAcreateserial -sha256 \
  -days 1825 -extfile intermediate.ext -out chain.pem 2>/dev/null

key key.pem
openssl req -new -key key.pem -subj "/CN=$name" -out leaf.csr
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n' "$name" > leaf.ext
openssl x509 -req -in leaf.csr -CA chain.pem -CAkey intermediate.key -CAcreateserial -sha256 \
  -days 90 -extfile leaf.ext -out cert.pem 2>/dev/null

openssl verify -CAfile root.pem -untrusted chain.pem cert.pem >/dev/null
echo "$out: cert.pem key.pem chain.pem for $name"
