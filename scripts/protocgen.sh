#!/usr/bin/env bash
# Regenerates the Go code (gogoproto + gRPC + grpc-gateway v1) for every .proto under
# proto/crucible, and the OpenAPI spec of its queries (app/openapi/crucible.swagger.json), fully offline once the Go modules are in the module cache (the Buf Schema
# Registry is never contacted).
#
#   bash scripts/protocgen.sh       # regenerate into the repository (= make proto-gen)
#
# Steps:
#   1. installs the pinned tools into ./.tools/bin (GOBIN) when missing or at another version;
#   2. fills the git-ignored third_party/proto (2nd module of buf.yaml) with the imported
#      protos, taken from the Go module cache: cosmos-sdk's proto/ (cosmos/..., amino/, tendermint/),
#      gogoproto's gogoproto/, cosmos-proto's proto/ (cosmos_proto/) and
#      google/api/{annotations,http}.proto from grpc-gateway v1's third_party/googleapis;
#   3. `buf lint` on proto/ (our module only);
#   4. `buf generate --template proto/buf.gen.gogo.yaml` into a temp dir, then copies
#      <temp>/<go module path>/... into $GO_OUT, leaving files whose content is unchanged alone,
#      and (when GO_OUT is the repository) deletes generated files under x/ whose proto source
#      (crucible/...) no longer produces them.
#
# Environment (all optional):
#   GO_OUT              where <go module path>/... is copied to (default: the repository root);
#                       scripts/protocheck.sh points it at a temp dir.
#   TOOLS_BIN           where the tools are installed (default: .tools/bin)
#   PROTOCGEN_MANIFEST  if set, the sorted list of generated files (relative to GO_OUT) is
#                       written there
#   PROTOCGEN_NO_LINT   if set to 1, skips `buf lint`
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BUF_VERSION=v1.50.0
GOGOPROTO_VERSION=v1.7.2        # protoc-gen-gocosmos; keep equal to github.com/cosmos/gogoproto in go.mod
GRPC_GATEWAY_VERSION=v1.16.0    # protoc-gen-grpc-gateway (v1, as the Cosmos SDK uses)
# Versions of the imported proto sources. The version go.mod's module graph selects is used
# when the module is in it; these are the fallbacks (and what go.mod has today).
COSMOS_SDK_VERSION=v0.54.4
COSMOS_PROTO_VERSION=v1.0.0-beta.5

GO_OUT=${GO_OUT:-$ROOT}
TOOLS_BIN=${TOOLS_BIN:-$ROOT/.tools/bin}
TEMPLATE=proto/buf.gen.gogo.yaml
THIRD_PARTY=$ROOT/third_party/proto

log() { echo "protocgen: $*" >&2; }
die() { echo "protocgen: error: $*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH"
mkdir -p "$GO_OUT" "$TOOLS_BIN"
GO_OUT=$(cd "$GO_OUT" && pwd)
TOOLS_BIN=$(cd "$TOOLS_BIN" && pwd)

MODULE_PATH=$(awk '$1 == "module" { print $2; exit }' "$ROOT/go.mod")
[[ -n $MODULE_PATH ]] || die "cannot read the module path from go.mod"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/protocgen.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# ---------------------------------------------------------------------------------------------
# 1. Tools.
# ---------------------------------------------------------------------------------------------
# install_tool BINARY PACKAGE VERSION: go install PACKAGE@VERSION unless TOOLS_BIN/BINARY is
# already built from that module version. Runs outside the repository so that go.mod/go.sum
# are never touched.
install_tool() {
  local bin=$1 pkg=$2 want=$3 have=""
  if [[ -x $TOOLS_BIN/$bin ]]; then
    have=$(go version -m "$TOOLS_BIN/$bin" 2>/dev/null | awk '$1 == "mod" { print $3; exit }') || true
  fi
  if [[ $have != "$want" ]]; then
    log "installing $pkg@$want into $TOOLS_BIN (buf compiles for several minutes the first time)"
    (cd "$TMP" && GOBIN=$TOOLS_BIN GOFLAGS=-buildvcs=false go install "$pkg@$want") ||
      die "go install $pkg@$want failed"
  fi
}
install_tool buf github.com/bufbuild/buf/cmd/buf "$BUF_VERSION"
install_tool protoc-gen-gocosmos github.com/cosmos/gogoproto/protoc-gen-gocosmos "$GOGOPROTO_VERSION"
install_tool protoc-gen-grpc-gateway github.com/grpc-ecosystem/grpc-gateway/protoc-gen-grpc-gateway "$GRPC_GATEWAY_VERSION"
install_tool protoc-gen-swagger github.com/grpc-ecosystem/grpc-gateway/protoc-gen-swagger "$GRPC_GATEWAY_VERSION"
export PATH="$TOOLS_BIN:$PATH"

gogo_in_gomod=$(go list -m -f '{{.Version}}' github.com/cosmos/gogoproto 2>/dev/null) || gogo_in_gomod=""
if [[ -n $gogo_in_gomod && $gogo_in_gomod != "$GOGOPROTO_VERSION" ]]; then
  log "warning: go.mod has github.com/cosmos/gogoproto $gogo_in_gomod but protoc-gen-gocosmos is $GOGOPROTO_VERSION"
fi

# ---------------------------------------------------------------------------------------------
# 2. Imported protos, from the Go module cache.
# ---------------------------------------------------------------------------------------------
# mod_dir MODULE FALLBACK_VERSION: prints the module's directory in the module cache, at the
# version go.mod's module graph selects (FALLBACK_VERSION when the module is not in the graph),
# downloading it when needed. Downloads run outside the repository so go.sum is never touched.
mod_dir() {
  local mod=$1 ver dir=""
  ver=$(go list -m -f '{{.Version}}' "$mod" 2>/dev/null) || ver=""
  if [[ -n $ver ]]; then
    dir=$(go list -m -f '{{.Dir}}' "$mod" 2>/dev/null) || dir=""
  else
    ver=$2
  fi
  if [[ -z $dir || ! -d $dir ]]; then
    dir=$(cd "$TMP" && GOFLAGS= go mod download -json "$mod@$ver" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p') || dir=""
  fi
  [[ -n $dir && -d $dir ]] || die "cannot find $mod@$ver in the Go module cache (go mod download failed?)"
  log "imports: $mod@$ver"
  echo "$dir"
}

# copy_protos SRC_DIR DEST_DIR PATH...: copies the .proto files under SRC_DIR/PATH... into
# DEST_DIR, keeping their paths relative to SRC_DIR.
copy_protos() {
  local src=$1 dest=$2
  shift 2
  (cd "$src" && find "$@" -name '*.proto' -type f -print0 | tar --null -cf - -T -) |
    (cd "$dest" && tar --no-same-owner -xf -)
}

SDK_DIR=$(mod_dir github.com/cosmos/cosmos-sdk "$COSMOS_SDK_VERSION")
GOGO_DIR=$(mod_dir github.com/cosmos/gogoproto "$GOGOPROTO_VERSION")
COSMOS_PROTO_DIR=$(mod_dir github.com/cosmos/cosmos-proto "$COSMOS_PROTO_VERSION")
GATEWAY_DIR=$(mod_dir github.com/grpc-ecosystem/grpc-gateway "$GRPC_GATEWAY_VERSION")

staging=$TMP/third_party
mkdir -p "$staging"
copy_protos "$SDK_DIR/proto" "$staging" .                        # cosmos/..., amino/, tendermint/
copy_protos "$GOGO_DIR" "$staging" gogoproto                     # gogoproto/gogo.proto
copy_protos "$COSMOS_PROTO_DIR/proto" "$staging" cosmos_proto    # cosmos_proto/cosmos.proto
copy_protos "$GATEWAY_DIR/third_party/googleapis" "$staging" \
  google/api/annotations.proto google/api/http.proto
chmod -R u+w "$staging"      # the module cache is read-only
rm -rf "$THIRD_PARTY"
mkdir -p "$(dirname "$THIRD_PARTY")"
mv "$staging" "$THIRD_PARTY"

# ---------------------------------------------------------------------------------------------
# 3. Lint and generate.
# ---------------------------------------------------------------------------------------------
if [[ -z $(find proto/crucible -name '*.proto' -print -quit 2>/dev/null) ]]; then
  log "no .proto files under proto/crucible: nothing to generate"
  [[ -z ${PROTOCGEN_MANIFEST:-} ]] || : >"$PROTOCGEN_MANIFEST"
  exit 0
fi

if [[ ${PROTOCGEN_NO_LINT:-0} != 1 ]]; then
  log "buf lint proto"
  buf lint --path proto/crucible || die "buf lint failed"
fi

GEN=$TMP/gen
mkdir -p "$GEN"
log "buf generate proto/crucible"
buf generate --template "$TEMPLATE" --path proto/crucible -o "$GEN" || die "buf generate failed"

# Everything must land inside this Go module: a go_package outside it is a mistake.
stray=$(cd "$GEN" && find . -type f ! -path "./$MODULE_PATH/*" | sed 's|^\./||')
if [[ -n $stray ]]; then
  die "generated files outside $MODULE_PATH (check option go_package):"$'\n'"$stray"
fi
SRC=$GEN/$MODULE_PATH
[[ -d $SRC ]] || die "buf generate produced nothing under $MODULE_PATH"

# The OpenAPI spec of every Crucible query, one merged file, embedded by app/openapi and
# served at /swagger/ (protoc-gen-swagger, proto/buf.gen.swagger.yaml).
OPENAPI=app/openapi/crucible.swagger.json
log "buf generate OpenAPI -> $OPENAPI"
query_paths=()
while IFS= read -r f; do query_paths+=(--path "$f"); done < <(find proto/crucible -name query.proto | LC_ALL=C sort)
buf generate --template proto/buf.gen.swagger.yaml "${query_paths[@]}" -o "$TMP/openapi" || die "buf generate (OpenAPI) failed"
mkdir -p "$SRC/$(dirname "$OPENAPI")"
# protoc-gen-swagger titles a merged spec after its first file; name it after the API instead.
sed -e '0,/"title": "[^"]*"/s//"title": "Crucible REST API: queries of x\/market, x\/provider, x\/escrow, x\/attest"/' \
  "$TMP/openapi/crucible.swagger.json" >"$SRC/$OPENAPI"

# Copy <module path>/... into GO_OUT, leaving files whose content did not change untouched.
changed=0
manifest=$TMP/manifest
(cd "$SRC" && find . -type f | sed 's|^\./||' | LC_ALL=C sort) >"$manifest"
while IFS= read -r f; do
  if ! cmp -s "$SRC/$f" "$GO_OUT/$f"; then
    mkdir -p "$GO_OUT/$(dirname "$f")"
    cp "$SRC/$f" "$GO_OUT/$f"
    log "wrote $f"
    changed=$((changed + 1))
  fi
done <"$manifest"

# In the repository, delete generated files that no proto produces any more (a proto removed
# or renamed, or its go_package moved). Only files generated from our own protos (whose
# "// source:" header names crucible/...) are candidates.
removed=0
if [[ $GO_OUT == "$ROOT" && -d $ROOT/x ]]; then
  while IFS= read -r -d '' f; do
    rel=${f#./}
    grep -qxF -- "$rel" "$manifest" && continue
    src=$(sed -n '1,15{s|^// source: ||p}' "$rel" | head -n 1)
    [[ $src == crucible/* ]] || continue
    rm -f -- "$rel"
    log "removed $rel (no longer generated from $src)"
    removed=$((removed + 1))
  done < <(find ./x \( -name '*.pb.go' -o -name '*.pb.gw.go' \) -type f -print0)
fi

[[ -z ${PROTOCGEN_MANIFEST:-} ]] || cp "$manifest" "$PROTOCGEN_MANIFEST"
log "done: $(wc -l <"$manifest") generated files, $changed written, $removed removed"
