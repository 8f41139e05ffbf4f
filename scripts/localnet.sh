#!/usr/bin/env bash
# Loopback localnets for crucibled.
#
#   scripts/localnet.sh single   # one validator on 127.0.0.1 in a temporary home
#   scripts/localnet.sh multi    # four validators on loopback ports
#
# Runs until Ctrl-C (or until height $LOCALNET_BLOCKS when set), then stops
# every node it started and removes the temporary home (set LOCALNET_KEEP=1
# to keep it). Environment:
#   CRUCIBLED        binary (default ./build/crucibled)
#   LOCALNET_DIR     home root (default: a new mktemp -d)
#   LOCALNET_PORT    base port: node i uses PORT+10i (p2p), +1 rpc, +2 grpc, +3 api (default 26600)
#   LOCALNET_BLOCKS  stop once node0 reaches this height (default: run until interrupted)
set -euo pipefail

MODE=${1:-single}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CRUCIBLED=${CRUCIBLED:-$ROOT/build/crucibled}
PORT=${LOCALNET_PORT:-26600}
case "$MODE" in
  single) N=1 ;;
  multi) N=4 ;;
  *) echo "usage: $0 single|multi" >&2; exit 2 ;;
esac
[[ -x "$CRUCIBLED" ]] || { echo "localnet: $CRUCIBLED not built (run make build)" >&2; exit 1; }

DIR=${LOCALNET_DIR:-$(mktemp -d -t crucible-localnet.XXXXXX)}
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ "${LOCALNET_KEEP:-0}" != 1 ]]; then rm -rf "$DIR"; else echo "localnet: kept $DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$CRUCIBLED" testnet init-files --validators "$N" --output-dir "$DIR/net" \
  --base-port "$PORT" --chain-id "crucible-$MODE" >/dev/null
for ((i = 0; i < N; i++)); do
  "$CRUCIBLED" start --home "$DIR/net/node$i" >"$DIR/node$i.log" 2>&1 &
  PIDS+=($!)
done

height() { # node index -> latest height (empty when unreachable)
  "$CRUCIBLED" status --node "tcp://127.0.0.1:$((PORT + 10 * $1 + 1))" 2>/dev/null | tr -d ' \n' |
    sed -n 's/.*"latest_block_height":"\([0-9]*\)".*/\1/p' || true
}

echo "localnet: $N validator(s), chain crucible-$MODE, homes under $DIR/net"
for ((i = 0; i < N; i++)); do
  echo "  node$i  rpc tcp://127.0.0.1:$((PORT + 10 * i + 1))  grpc 127.0.0.1:$((PORT + 10 * i + 2))  api http://127.0.0.1:$((PORT + 10 * i + 3))  log $DIR/node$i.log"
done
echo "  keys (test keyring in every home): node0..node$((N - 1)), alice, bob"
echo "  try: $CRUCIBLED --home $DIR/net/node0 q bank balances \$($CRUCIBLED --home $DIR/net/node0 keys show alice -a)"

last=0
while true; do
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "localnet: a node exited; see $DIR/node*.log" >&2; tail -5 "$DIR"/node*.log >&2; exit 1; }
  done
  h=$(height 0); h=${h:-0}
  if ((h != last)); then echo "localnet: height $h"; last=$h; fi
  if [[ -n "${LOCALNET_BLOCKS:-}" ]] && ((h >= LOCALNET_BLOCKS)); then
    echo "localnet: reached height $h, stopping"
    exit 0
  fi
  sleep 1
done
