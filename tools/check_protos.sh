#!/usr/bin/env bash
# Fail when the committed generated code under libs/dubset_protos/src/dubset differs from
# what tools/gen_protos.sh makes from protos/ now.
set -euo pipefail

cd "$(dirname "$0")/.."
COMMITTED="libs/dubset_protos/src/dubset"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

tools/gen_protos.sh "$TMP" >/dev/null

if [[ ! -d "$COMMITTED" ]] \
  || ! diff -r -u -x __pycache__ "$TMP/dubset" "$COMMITTED" >"$TMP.diff" 2>&1; then
  cat "$TMP.diff" 2>/dev/null | head -n 40 >&2 || true
  rm -f "$TMP.diff"
  echo "generated protobuf code is stale: run make protos" >&2
  exit 1
fi
rm -f "$TMP.diff"
echo "check_protos: generated protobuf code is up to date"
