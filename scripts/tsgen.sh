#!/usr/bin/env bash
# Regenerates the TypeScript client's generated code (clients/ts/src/generated) from proto/,
# fully offline once the Go modules are in the module cache and clients/ts/node_modules exists:
#
#   bash scripts/tsgen.sh      # = make ts-gen
#
#   1. scripts/protocgen.sh when .tools/bin/buf or third_party/proto is missing (tools + the
#      imported protos from the Go module cache);
#   2. npm ci in clients/ts when node_modules is missing (ts-proto, the plugin);
#   3. buf generate with clients/ts/buf.gen.ts.yaml (ts-proto, imports included);
#   4. go run ./scripts/tsamino > registry.ts (registry entries + amino-JSON schema).
# TS_OUT (optional) writes elsewhere than clients/ts/src/generated.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TOOLS_BIN=${TOOLS_BIN:-$ROOT/.tools/bin}
OUT=${TS_OUT:-clients/ts/src/generated}   # scripts/protocheck.sh points TS_OUT at a temp dir

if [[ ! -x $TOOLS_BIN/buf || ! -d third_party/proto ]]; then
  bash scripts/protocgen.sh
fi
if [[ ! -x clients/ts/node_modules/.bin/protoc-gen-ts_proto ]]; then
  (cd clients/ts && npm ci --no-audit --no-fund)
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tsgen.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
"$TOOLS_BIN/buf" generate --template clients/ts/buf.gen.ts.yaml --path proto/crucible -o "$TMP/gen"
go run ./scripts/tsamino >"$TMP/gen/registry.ts"
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
cp -r "$TMP/gen" "$OUT"
echo "tsgen: $(find "$OUT" -name '*.ts' | wc -l) files in $OUT" >&2
