#!/usr/bin/env bash
# Generate the Python protobuf/gRPC modules and their .pyi stubs from protos/dubset/v1/*.proto.
# Usage: tools/gen_protos.sh [OUT_DIR]   (default libs/dubset_protos/src; PY picks the interpreter)
set -euo pipefail

cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
OUT="${1:-libs/dubset_protos/src}"

# protoc finds protoc-gen-mypy and protoc-gen-mypy_grpc next to the interpreter's scripts.
BIN="$("$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
for plugin in protoc-gen-mypy protoc-gen-mypy_grpc; do
  if [[ ! -x "$BIN/$plugin" ]]; then
    echo "gen_protos: $BIN/$plugin not found: install mypy-protobuf into $PY's environment" >&2
    exit 1
  fi
done

# Sorted under the C locale so the file order, and so the output, is the same everywhere.
mapfile -t PROTOS < <(LC_ALL=C ls protos/dubset/v1/*.proto | LC_ALL=C sort)
if [[ ${#PROTOS[@]} -eq 0 ]]; then
  echo "gen_protos: no protos under protos/dubset/v1" >&2
  exit 1
fi

# The dubset/ tree under OUT holds generated code only, so a removed proto leaves nothing behind.
mkdir -p "$OUT"
rm -rf "$OUT/dubset"
mkdir -p "$OUT/dubset/v1"

"$PY" -m grpc_tools.protoc -I protos \
  --plugin="protoc-gen-mypy=$BIN/protoc-gen-mypy" \
  --plugin="protoc-gen-mypy_grpc=$BIN/protoc-gen-mypy_grpc" \
  --python_out="$OUT" \
  --grpc_python_out="$OUT" \
  --mypy_out="quiet:$OUT" \
  --mypy_grpc_out="quiet:$OUT" \
  "${PROTOS[@]}"

printf '"""Generated dubset protobuf code (package dubset-protos)."""\n' >"$OUT/dubset/__init__.py"
printf '"""Generated modules of the protobuf package dubset.v1."""\n' >"$OUT/dubset/v1/__init__.py"
: >"$OUT/dubset/py.typed"

echo "gen_protos: ${#PROTOS[@]} protos -> $OUT/dubset/v1"
