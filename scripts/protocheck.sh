#!/usr/bin/env bash
# Proves the generated Go code in the tree is what the .proto files give:
#
#   bash scripts/protocheck.sh      # = make proto-check
#
# Regenerates with scripts/protocgen.sh into a temp dir (the tree's Go files are not touched)
# and compares with the repository. Exits 1 and lists the files when a generated file
#   - differs from the one in the tree (stale),
#   - is missing from the tree, or
#   - is extra: a *.pb.go / *.pb.gw.go under x/ whose "// source:" header names one of our
#     protos (crucible/...) but which this generation did not produce (proto removed or
#     renamed, or its go_package moved).
# It also checks the TypeScript client's generated code (clients/ts/src/generated, make ts-gen)
# when clients/ts/node_modules is installed, and fails when a .proto under proto/ is not in `buf format` style (fix: .tools/bin/buf
# format -w proto; formatting never changes the generated code).
# It compares the working tree, so on a clean checkout (CI) it checks the committed code; run
# `git status` too if you have uncommitted edits. buf lint runs as part of the generation.
# Same environment variables as protocgen.sh (TOOLS_BIN, PROTOCGEN_NO_LINT).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

TOOLS_BIN=${TOOLS_BIN:-$ROOT/.tools/bin}
mkdir -p "$TOOLS_BIN"
TOOLS_BIN=$(cd "$TOOLS_BIN" && pwd)
export TOOLS_BIN
TMP=$(mktemp -d "${TMPDIR:-/tmp}/protocheck.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
manifest=$TMP/manifest
out=$TMP/out

GO_OUT=$out PROTOCGEN_MANIFEST=$manifest bash "$ROOT/scripts/protocgen.sh" 2>"$TMP/log" || {
  cat "$TMP/log" >&2
  echo "protocheck: scripts/protocgen.sh failed" >&2
  exit 1
}

fail=0
if ! "$TOOLS_BIN/buf" format -d --exit-code proto >"$TMP/format.diff" 2>&1; then
  echo "protocheck: .proto files not in buf format style (run: .tools/bin/buf format -w proto):" >&2
  head -n 80 "$TMP/format.diff" >&2
  fail=1
fi

stale=() missing=() extra=()
while IFS= read -r f; do
  if [[ ! -f $ROOT/$f ]]; then
    missing+=("$f")
  elif ! cmp -s "$out/$f" "$ROOT/$f"; then
    stale+=("$f")
  fi
done <"$manifest"

if [[ -d $ROOT/x ]]; then
  while IFS= read -r -d '' f; do
    rel=${f#./}
    grep -qxF -- "$rel" "$manifest" && continue
    src=$(sed -n '1,15{s|^// source: ||p}' "$rel" | head -n 1)
    [[ $src == crucible/* ]] || continue
    extra+=("$rel (source: $src)")
  done < <(find ./x \( -name '*.pb.go' -o -name '*.pb.gw.go' \) -type f -print0 | LC_ALL=C sort -z)
fi

report() {
  local title=$1
  shift
  [[ $# -gt 0 ]] || return 0
  echo "protocheck: $title:" >&2
  printf '  %s\n' "$@" >&2
}
report "generated files that differ from the .proto files (stale)" "${stale[@]}"
report "generated files missing from the tree" "${missing[@]}"
report "generated files no .proto produces any more (extra)" "${extra[@]}"

if [[ ${#stale[@]} -gt 0 ]]; then
  for f in "${stale[@]}"; do
    diff -u "$ROOT/$f" "$out/$f" | head -n 60 >&2 || true
  done
fi

# The TypeScript client's generated code (make ts-gen), when its npm packages are installed.
if [[ -x $ROOT/clients/ts/node_modules/.bin/protoc-gen-ts_proto ]]; then
  if ! TS_OUT=$TMP/ts bash "$ROOT/scripts/tsgen.sh" 2>"$TMP/tslog"; then
    cat "$TMP/tslog" >&2
    echo "protocheck: scripts/tsgen.sh failed" >&2
    exit 1
  fi
  if ! diff -r "$TMP/ts" "$ROOT/clients/ts/src/generated" >"$TMP/ts.diff"; then
    echo "protocheck: clients/ts/src/generated is stale (run make ts-gen and commit it):" >&2
    head -n 40 "$TMP/ts.diff" >&2
    fail=1
  fi
else
  echo "protocheck: clients/ts/node_modules missing: TypeScript generated code not checked (cd clients/ts && npm ci)" >&2
fi

if [[ $(( ${#stale[@]} + ${#missing[@]} + ${#extra[@]} )) -gt 0 ]]; then
  echo "protocheck: FAIL: run scripts/protocgen.sh and commit the result" >&2
  exit 1
fi
[[ $fail == 0 ]] || exit 1
echo "protocheck: ok: $(wc -l <"$manifest") generated files are up to date" >&2
