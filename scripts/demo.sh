#!/usr/bin/env bash
# make demo: start an embedded one-validator chain on 127.0.0.1 in a
# temporary home, walk through the story, print a summary, stop everything
# and remove the home. Environment: CRUCIBLED (default ./build/crucibled),
# DEMO_PORT (default 26900), DEMO_KEEP=1 keeps the home for inspection.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CRUCIBLED=${CRUCIBLED:-$ROOT/build/crucibled}
PORT=${DEMO_PORT:-26900}
RPC="tcp://127.0.0.1:$((PORT + 1))"
DIR=$(mktemp -d -t crucible-demo.XXXXXX)
NODE_PID=""

cleanup() {
  [[ -n "$NODE_PID" ]] && { kill -TERM "$NODE_PID" 2>/dev/null || true; wait "$NODE_PID" 2>/dev/null || true; }
  if [[ "${DEMO_KEEP:-0}" == 1 ]]; then echo "demo: kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }
HOME_FLAGS=(--home "$DIR/net/node0")
cru() { "$CRUCIBLED" "$@" "${HOME_FLAGS[@]}"; }

# json_str KEY: the last "KEY":"value" in the JSON on stdin (no jq needed)
json_str() { tr -d ' \n' | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
height() { "$CRUCIBLED" status --node "$RPC" 2>/dev/null | json_str latest_block_height || true; }
wait_height() { # target, timeout seconds
  local deadline=$((SECONDS + ${2:-60})) h
  while ((SECONDS < deadline)); do
    h=$(height); if [[ -n "$h" ]] && ((h >= $1)); then return 0; fi
    kill -0 "$NODE_PID" 2>/dev/null || { echo "demo: node exited" >&2; tail -20 "$DIR/node.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "demo: timed out waiting for height $1" >&2; tail -20 "$DIR/node.log" >&2; exit 1
}
wait_tx() { # txhash
  local deadline=$((SECONDS + 30)) out
  while ((SECONDS < deadline)); do
    if out=$(cru q tx "$1" --output json 2>/dev/null); then
      local code; code=$(tr -d ' \n' <<<"$out" | sed -n 's/^{"height":"[0-9]*","txhash":"[0-9A-F]*","codespace":"[^"]*","code":\([0-9]*\).*/\1/p')
      echo "${code:-0}"; return 0
    fi
    sleep 0.5
  done
  echo "demo: tx $1 not included" >&2; exit 1
}
balance() { cru q bank balance "$1" ucru --output json | json_str amount; }

step "1. lay out a one-validator chain in $DIR (127.0.0.1, base port $PORT)"
"$CRUCIBLED" testnet init-files --validators 1 --output-dir "$DIR/net" --base-port "$PORT" \
  --chain-id crucible-demo --home "$DIR/client" >/dev/null
echo "chain crucible-demo, rpc $RPC, keys: node0 (validator), alice (tenant), bob (provider)"

step "2. start the node and wait for blocks"
"$CRUCIBLED" start --home "$DIR/net/node0" --log_no_color >"$DIR/node.log" 2>&1 &
NODE_PID=$!
wait_height 2 90
echo "producing blocks: height $(height)"

ALICE=$(cru keys show alice -a)
BOB=$(cru keys show bob -a)
A0=$(balance "$ALICE"); B0=$(balance "$BOB")

step "3. alice sends 1,000,000 ucru to bob"
TX=$(cru tx bank send alice "$BOB" 1000000ucru --fees 2000ucru --yes --output json | json_str txhash)
echo "txhash $TX"
CODE=$(wait_tx "$TX")
[[ "$CODE" == 0 ]] || { echo "demo: transfer failed with code $CODE" >&2; exit 1; }
A1=$(balance "$ALICE"); B1=$(balance "$BOB")

step "4. summary"
printf '%-8s %-46s %22s %22s %14s\n' account address before after change
printf '%-8s %-46s %22s %22s %14s\n' alice "$ALICE" "$A0" "$A1" "$((A1 - A0))"
printf '%-8s %-46s %22s %22s %14s\n' bob "$BOB" "$B0" "$B1" "$((B1 - B0))"
[[ $((B1 - B0)) == 1000000 && $((A0 - A1)) == 1002000 ]] || { echo "demo: balances do not reconcile" >&2; exit 1; }
echo "reconciled: bob +1000000, alice -1000000 -2000 fee"

step "5. stop the node and remove $DIR"
