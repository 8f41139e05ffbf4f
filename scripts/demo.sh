#!/usr/bin/env bash
# make demo: the whole Crucible story on this machine, in a temporary home.
#
#   1. an embedded one-validator chain on 127.0.0.1
#   2. a provider (bob) registers its GPUs from the sidecar's inventory (the
#      real ones where NVML finds any, else simulated H100s) and grants the
#      sidecar's hot key only the messages it needs (x/authz)
#   3. crucible-sidecar starts: bids, runs jobs, answers challenges
#   4. a tenant (alice) rents a GPU (`crucibled tenant rent`), submits a job,
#      reads its logs and result, and checks the provider's on-chain receipt.
#      Run as root with runc and busybox-static, the job is a container: a
#      busybox image served by a registry on 127.0.0.1 (crucible-sidecar
#      dev-registry), the leased GPU injected through CDI (a fake device for
#      the simulated GPU), and a web server in it that the tenant reaches
#      through the sidecar's authenticated proxy (`crucibled tenant forward`).
#      Elsewhere the development process backend runs it.
#   5. the provider answers a proof-of-compute challenge and passes
#   6. the provider withdraws its earnings, the tenant closes the lease
#   7. a summary of balances before and after, reconciled to the coin
#
# It stops everything it started and removes the home (DEMO_KEEP=1 keeps it).
# Environment: CRUCIBLED, SIDECAR (binaries, default ./build/...), DEMO_PORT
# (base port, default 26900: 26900-26908 are used).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CRUCIBLED=${CRUCIBLED:-$ROOT/build/crucibled}
SIDECAR=${SIDECAR:-$ROOT/build/crucible-sidecar}
PORT=${DEMO_PORT:-26900}
RPC="tcp://127.0.0.1:$((PORT + 1))"
GRPC="127.0.0.1:$((PORT + 2))"
API_PORT=$((PORT + 5))
METRICS_PORT=$((PORT + 6))
DIR=$(mktemp -d -t crucible-demo.XXXXXX)
NODE_HOME=$DIR/net/node0
REGISTRY_PORT=$((PORT + 7))
FORWARD_PORT=$((PORT + 8))
NODE_PID="" SIDECAR_PID="" REGISTRY_PID="" FORWARD_PID=""
T0=$SECONDS

cleanup() {
  local rc=$?
  [[ -n "$FORWARD_PID" ]] && { kill -TERM "$FORWARD_PID" 2>/dev/null || true; wait "$FORWARD_PID" 2>/dev/null || true; }
  [[ -n "$SIDECAR_PID" ]] && { kill -TERM "$SIDECAR_PID" 2>/dev/null || true; wait "$SIDECAR_PID" 2>/dev/null || true; }
  [[ -n "$NODE_PID" ]] && { kill -TERM "$NODE_PID" 2>/dev/null || true; wait "$NODE_PID" 2>/dev/null || true; }
  # A stopping sidecar leaves running containers for its next start to
  # re-adopt; the demo has no next start: delete what is left.
  if [[ -d "$DIR/work/runc" ]] && command -v runc >/dev/null; then
    for c in $(runc --root "$DIR/work/runc" list -q 2>/dev/null); do runc --root "$DIR/work/runc" delete --force "$c" 2>/dev/null || true; done
  fi
  [[ -n "$REGISTRY_PID" ]] && { kill -TERM "$REGISTRY_PID" 2>/dev/null || true; wait "$REGISTRY_PID" 2>/dev/null || true; }
  if ((rc != 0)); then
    echo "demo: failed (exit $rc); last lines of the logs:" >&2
    tail -n 15 "$DIR/node.log" "$DIR/sidecar.log" 2>/dev/null >&2 || true
  fi
  if [[ "${DEMO_KEEP:-0}" == 1 ]]; then echo "demo: kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== [%3ss] %s\n' "$((SECONDS - T0))" "$*"; }
fail() { echo "demo: $*" >&2; exit 1; }
cru() { "$CRUCIBLED" "$@" --home "$NODE_HOME"; }
# json_str KEY: the last "KEY":"value" in the JSON on stdin (no jq needed)
json_str() { tr -d ' \n' | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
json_num() { tr -d ' \n' | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
height() { "$CRUCIBLED" status --node "$RPC" 2>/dev/null | json_str latest_block_height || true; }
alive() {
  kill -0 "$NODE_PID" 2>/dev/null || fail "the node exited"
  [[ -z "$SIDECAR_PID" ]] || kill -0 "$SIDECAR_PID" 2>/dev/null || fail "the sidecar exited"
}
wait_height() { # target timeout-seconds
  local deadline=$((SECONDS + $2)) h
  while ((SECONDS < deadline)); do
    h=$(height); [[ -n "$h" ]] && ((h >= $1)) && return 0
    alive; sleep 0.5
  done
  fail "timed out waiting for height $1"
}
tx() { # from args... : broadcast, wait for the block, fail on a non-zero code
  local from=$1; shift
  local out hash code deadline
  out=$(cru tx "$@" --from "$from" --yes --gas 400000 --output json) || fail "tx $*: $out"
  hash=$(json_str txhash <<<"$out")
  code=$(json_num code <<<"$out")
  [[ "${code:-0}" == 0 ]] || fail "tx $* refused: $out"
  deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    if out=$(cru q tx "$hash" --output json 2>/dev/null); then
      code=$(tr -d ' \n' <<<"$out" | sed -n 's/^{"height":"[0-9]*","txhash":"[0-9A-F]*","codespace":"[^"]*","code":\([0-9]*\).*/\1/p')
      [[ "${code:-0}" == 0 ]] || fail "tx $* failed: $(json_str raw_log <<<"$out")"
      return 0
    fi
    sleep 0.3
  done
  fail "tx $* not in a block after 30s"
}
balance() { cru q bank balance "$1" ucru --output json | json_str amount; }

step "1. lay out and start a one-validator chain (127.0.0.1, ports $PORT-$((PORT + 6)), home $DIR)"
"$CRUCIBLED" testnet init-files --validators 1 --output-dir "$DIR/net" --base-port "$PORT" \
  --chain-id crucible-demo --accounts alice,bob,sidecar --home "$DIR/client" >/dev/null
"$CRUCIBLED" start --home "$NODE_HOME" --log_no_color >"$DIR/node.log" 2>&1 &
NODE_PID=$!
wait_height 2 90
echo "chain crucible-demo is producing blocks (height $(height)); keys: alice (tenant), bob (provider), sidecar (bob's hot key)"

ALICE=$(cru keys show alice -a)
BOB=$(cru keys show bob -a)
HOT=$(cru keys show sidecar -a)
ESCROW=$(cru q auth module-account escrow --output json | json_str address)
A0=$(balance "$ALICE"); B0=$(balance "$BOB"); H0=$(balance "$HOT")

step "2. the sidecar's inventory, then bob registers it on chain with a 1000 CRU bond"
# Containers where root, runc and a static busybox are here (ldd fails on a
# static binary); else the development process backend.
CONTAINERS=0
if [[ $EUID == 0 ]] && command -v runc >/dev/null && [[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1; then
  CONTAINERS=1
fi
if ((CONTAINERS)); then
  "$SIDECAR" dev-registry --listen "127.0.0.1:$REGISTRY_PORT" --repo demo/busybox:1 >"$DIR/registry.log" 2>&1 &
  REGISTRY_PID=$!
  for _ in $(seq 100); do grep -q '^image ' "$DIR/registry.log" && break; sleep 0.1; done
  IMAGE=$(sed -n 's/^image //p' "$DIR/registry.log")
  [[ -n "$IMAGE" ]] || fail "dev-registry did not start: $(cat "$DIR/registry.log")"
  # The simulated GPUs get fake device nodes (no driver behind them) in a CDI
  # spec, as nvidia-ctk writes one for real GPUs.
  # The containers' root is an unprivileged host uid (user namespace): it
  # must be able to traverse to its lease's directories.
  chmod 711 "$DIR"
  mkdir -p "$DIR/cdi" "$DIR/dev"
  { echo 'cdiVersion: "0.6.0"'; echo 'kind: nvidia.com/gpu'; echo 'devices:'
    for i in 0 1; do
      mknod "$DIR/dev/nvidia$i" c 240 "$i"
      printf -- '- name: GPU-sim-demo-%s\n  containerEdits:\n    deviceNodes:\n    - path: /dev/nvidia%s\n      hostPath: %s\n' "$i" "$i" "$DIR/dev/nvidia$i"
    done; } >"$DIR/cdi/sim-gpus.yaml"
  RUNNER='"backend": "container", "cdi_spec_dirs": ["'"$DIR/cdi"'"], "max_memory_bytes": 268435456, "max_pids": 256, "max_disk_bytes": 268435456'
  echo "  lease runner: runc containers; image $IMAGE from a registry on 127.0.0.1:$REGISTRY_PORT"
else
  RUNNER='"backend": "process"'
  echo "  lease runner: the process backend (development only); run as root with runc and busybox-static for containers"
fi
cat >"$DIR/sidecar.json" <<EOF
{
  "chain": {"grpc_addr": "$GRPC", "rpc_addr": "$RPC", "chain_id": "crucible-demo",
            "provider_address": "$BOB", "hot_key_name": "sidecar", "keyring_dir": "$NODE_HOME",
            "keyring_backend": "test", "gas_prices": "0ucru", "gas_adjustment": 1.5},
  "inventory": {"backend": "auto", "sim_gpus": [{"model": "NVIDIA H100 80GB HBM3", "memory_mib": 81559, "count": 2, "uuid_prefix": "demo"}]},
  "bid": {"denom": "ucru", "deposit": 500000,
          "pricing": [{"model": "H100", "price_per_block": 90, "min_price_per_block": 50, "markup_bps": 0}]},
  "runner": {"work_dir": "$DIR/work", "max_job_time": "5m", "max_output_bytes": 10485760, $RUNNER},
  "api": {"listen_addr": "127.0.0.1:$API_PORT", "max_request_bytes": 1048576, "signature_max_age": "5m"},
  "metrics": {"listen_addr": "127.0.0.1:$METRICS_PORT"},
  "prover": {"backend": "auto"}
}
EOF
SC=(--home "$DIR/sidecar" --config "$DIR/sidecar.json")
"$SIDECAR" inventory "${SC[@]}"
"$SIDECAR" register "${SC[@]}" --from bob --bond 1000000000ucru --host-uri "http://127.0.0.1:$API_PORT" \
  --region eu-west --tier datacenter | tail -n 3

step "3. bob grants the sidecar's hot key only what it needs (x/authz); the hot key never holds bob's funds"
for m in /crucible.market.v1.MsgCreateBid /crucible.market.v1.MsgCloseBid /crucible.market.v1.MsgSubmitResult /crucible.market.v1.MsgCloseLease \
         /crucible.attest.v1.MsgCommitProof /crucible.attest.v1.MsgRevealProof; do
  tx bob authz grant "$HOT" generic --msg-type "$m"
  echo "  granted $m"
done

step "4. start crucible-sidecar (bid engine, lease runner, tenant API on :$API_PORT, challenge responder)"
"$SIDECAR" start "${SC[@]}" --poll-interval 250ms >"$DIR/sidecar.log" 2>&1 &
SIDECAR_PID=$!
sleep 2; alive
grep -m1 "prover ready" "$DIR/sidecar.log" | sed 's/^/  /' || true

step "5. alice rents one H100 for 300 blocks at up to 100 ucru/block (crucibled tenant rent)"
if ((CONTAINERS)); then
  # A version 2 manifest: the image pinned by digest; the job serves a page
  # and a CGI on port 8000 until the tenant has reached it through the
  # proxy, then writes its answer and ends.
  sed "s|@IMAGE@|$IMAGE|" >"$DIR/job.json" <<'EOF'
{"version": 2, "image": "@IMAGE@", "ports": [{"port": 8000}], "resources": {"memory_bytes": 67108864, "pids": 64}, "max_runtime": "2m",
 "command": ["/bin/sh", "-c", "echo \"job in container $(hostname) on GPUs $CUDA_VISIBLE_DEVICES (lease $CRUCIBLE_LEASE_ID); GPU devices it sees: $(ls /dev | grep nvidia)\"; mkdir -p /tmp/www/cgi-bin; echo \"hello from lease $CRUCIBLE_LEASE_ID, inside its container\" > /tmp/www/index.html; printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho cgi says: the answer is 42\\ntouch /tmp/served\\n' > /tmp/www/cgi-bin/answer; chmod +x /tmp/www/cgi-bin/answer; httpd -p 8000 -h /tmp/www; echo serving on :8000; i=0; while [ ! -e /tmp/served ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; echo 42 > \"$CRUCIBLE_OUTPUT_DIR/answer.txt\"; echo done"]}
EOF
else
cat >"$DIR/job.json" <<'EOF'
{"command": ["/bin/sh", "-c", "echo \"job on GPUs $CUDA_VISIBLE_DEVICES (lease $CRUCIBLE_LEASE_ID)\"; for i in 1 2 3; do echo step $i; sleep 0.2; done; echo 42 > \"$CRUCIBLE_OUTPUT_DIR/answer.txt\"; echo done"], "max_runtime": "1m"}
EOF
fi
RENT=$(cru tenant rent --class h100 --count 1 --max-price 100ucru --duration 300 --deposit 2000000ucru \
  --manifest "$DIR/job.json" --wait 60s --from alice --output json)
LEASE=$(json_num lease_id <<<"$RENT")
[[ -n "$LEASE" ]] || fail "no lease in $RENT"
echo "  lease $LEASE: provider $(json_str provider <<<"$RENT"), price $(json_str price_per_block <<<"$RENT")/block," \
  "order at height $(json_num order_height <<<"$RENT"), active at height $(json_num lease_height <<<"$RENT")"

step "6. alice submits the job to the provider's sidecar (signed with her key) and follows it"
cru tenant job submit "$LEASE" "$DIR/job.json" --from alice
if ((CONTAINERS)); then
  echo "  alice forwards the container's port 8000 to 127.0.0.1:$FORWARD_PORT (crucibled tenant forward: every request signed)"
  # Started directly (not through the cru function), so $! is the process itself.
  "$CRUCIBLED" tenant forward "$LEASE" 8000 --listen "127.0.0.1:$FORWARD_PORT" --from alice --home "$NODE_HOME" >"$DIR/forward.log" 2>&1 &
  FORWARD_PID=$!
  deadline=$((SECONDS + 60))
  until PAGE=$(curl -sf "http://127.0.0.1:$FORWARD_PORT/"); do
    ((SECONDS < deadline)) || fail "the service was not reachable through the proxy: $(cat "$DIR/forward.log")"
    alive; sleep 0.3
  done
  echo "  GET / through the proxy: $PAGE"
  echo "  GET /cgi-bin/answer through the proxy: $(curl -sf "http://127.0.0.1:$FORWARD_PORT/cgi-bin/answer")"
  echo "  the same port unsigned, straight to the sidecar: $(curl -s "http://127.0.0.1:$API_PORT/v1/leases/$LEASE/ports/8000/")"
  kill -TERM "$FORWARD_PID" 2>/dev/null || true; wait "$FORWARD_PID" 2>/dev/null || true; FORWARD_PID=""
fi
cru tenant job status "$LEASE" --wait 60s --from alice
echo "  logs:"; cru tenant job logs "$LEASE" --from alice | sed 's/^/    /'
deadline=$((SECONDS + 30))
until cru q market lease "$LEASE" --output json | grep -q '"result_hash"'; do
  ((SECONDS < deadline)) || fail "no result receipt on chain"
  alive; sleep 0.5
done
echo "  on-chain receipt: $(cru q market lease "$LEASE" --output json | tr -d ' \n' | sed -n 's/.*"result":\({[^}]*}\).*/\1/p')"
mkdir -p "$DIR/results"
# Downloads the files, recomputes their hash and compares it with the receipt (non-zero exit unless MATCH).
cru tenant job results "$LEASE" --download "$DIR/results" --from alice --output json >"$DIR/result.json" ||
  fail "the result files do not match the receipt on chain: $(cat "$DIR/result.json")"
echo "  result hash $(json_str hash <"$DIR/result.json"), answer.txt = $(cat "$DIR/results/answer.txt"); receipt check: $(json_str verdict <"$DIR/result.json")"

step "7. the chain challenges bob's GPUs (a window every 15 s here); the sidecar proves, commits, reveals"
deadline=$((SECONDS + 90))
until cru q attest challenges --provider "$BOB" --state passed --output json | grep -q '"id"'; do
  ((SECONDS < deadline)) || fail "no challenge passed within 90s (see $DIR/sidecar.log)"
  alive; sleep 1
done
cru q attest challenges --provider "$BOB" --state passed --output json | tr -d ' \n' |
  sed -n 's/.*"id":"\([0-9]*\)","provider":"[^"]*","gpu_uuid":"\([^"]*\)".*"issued_height":"\([0-9]*\)".*"commit_height":"\([0-9]*\)","finished_height":"\([0-9]*\)".*/  challenge \1 on \2: issued at \3, committed at \4, passed at \5/p'
echo
echo "  bob's record: $(cru q attest record "$BOB" --output json | tr -d ' \n')"

step "8. bob withdraws his earnings; alice closes the lease (the rest of the escrow returns to her)"
tx bob escrow withdraw "$LEASE"
cru tenant close "$LEASE" --from alice
ACCT=$(cru q escrow account "$LEASE" --output json | tr -d ' \n')
PAID=$(sed -n 's/.*"total_paid":{"denom":"ucru","amount":"\([0-9]*\)"}.*/\1/p' <<<"$ACCT")
TAKEN=$(sed -n 's/.*"total_taken":{"denom":"ucru","amount":"\([0-9]*\)"}.*/\1/p' <<<"$ACCT")

step "9. summary"
A1=$(balance "$ALICE"); B1=$(balance "$BOB"); H1=$(balance "$HOT"); E1=$(balance "$ESCROW")
printf '  %-8s %-44s %16s %16s %12s\n' account address before after change
printf '  %-8s %-44s %16s %16s %12s\n' alice "$ALICE" "$A0" "$A1" "$((A1 - A0))"
printf '  %-8s %-44s %16s %16s %12s\n' bob "$BOB" "$B0" "$B1" "$((B1 - B0))"
printf '  %-8s %-44s %16s %16s %12s\n' sidecar "$HOT" "$H0" "$H1" "$((H1 - H0))"
echo "  escrow account $LEASE: paid $PAID ucru to bob, of which $TAKEN ucru (2%) went to the community pool; escrow module now holds $E1"
((A1 - A0 == -PAID)) || fail "alice's change $((A1 - A0)) != -$PAID paid"
((B1 - B0 == -1000000000 + PAID - TAKEN)) || fail "bob's change $((B1 - B0)) != -bond + paid - take"
((H1 == H0)) || fail "the hot key's balance moved"
echo "  reconciled: alice paid exactly $PAID; bob got $((PAID - TAKEN)) and his 1000 CRU bond stays locked; no fees on this localnet"
echo "  demo finished in $((SECONDS - T0))s"
step "10. stop the sidecar and the node, remove $DIR"
