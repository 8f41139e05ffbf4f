#!/usr/bin/env bash
# make bench: runs the chain's and the prover's benchmarks in one go and
# prints one table, also written to bench/results.md.
#
#   bash scripts/bench.sh                 # full run (the 100k-lease setup takes minutes)
#   BENCH_QUICK=1 bash scripts/bench.sh   # settlement and memory at 1k and 10k leases only
#
# Each figure comes from `go test -run '^$' -bench ... -count 1` in its
# package; raw output goes to bench/tmp/<step>.txt (ignored by git). Only
# bash, awk and Go are used. Every benchmark runs on the CPUs of this
# machine; a GPU row is filled only when `crucible-sidecar prover selftest
# --backend cuda` opens a device.
set -uo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
QUICK=${BENCH_QUICK:-0}
TMP=bench/tmp
RESULTS=bench/results.md
mkdir -p "$TMP"
rm -f "$TMP"/*.txt
T0=$(date +%s)
FAILED=()

log() { printf '[bench %4ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }

# gobench STEP PKG REGEX BENCHTIME [extra go test flags...]
gobench() {
	local step=$1 pkg=$2 re=$3 bt=$4
	shift 4
	log "$step: go test $pkg -bench '$re' -benchtime $bt $*"
	local try
	for try in 1 2 3; do
		$GO test -run '^$' -count 1 -timeout 90m -bench "$re" -benchtime "$bt" "$@" "$pkg" >"$TMP/$step.txt" 2>&1 && return 0
		# A build failure is retried: another job may be editing the tree.
		grep -q -e '\[build failed\]' -e '\[setup failed\]' "$TMP/$step.txt" || break
		log "$step: build failed, retrying in 20s"
		sleep 20
	done
	FAILED+=("$step")
	log "$step FAILED; last lines of $TMP/$step.txt:"
	tail -n 20 "$TMP/$step.txt" >&2
}

# metric STEP BENCH UNIT: the value of UNIT on benchmark BENCH's line (its
# name without the -GOMAXPROCS suffix), or nothing.
metric() {
	awk -v b="$2" -v u="$3" '
		$1 ~ /^Benchmark/ {
			n = $1; sub(/-[0-9]+$/, "", n)
			if (n != b) next
			for (i = 3; i < NF; i += 2) if ($(i + 1) == u) { print $i; exit }
		}' "$TMP/$1.txt" 2>/dev/null
}

# metricstat STEP BENCH UNIT max|median: over every line of BENCH (runs
# with -count N), the largest or the median value of UNIT.
metricstat() {
	awk -v b="$2" -v u="$3" -v what="$4" '
		$1 ~ /^Benchmark/ {
			n = $1; sub(/-[0-9]+$/, "", n)
			if (n != b) next
			for (i = 3; i < NF; i += 2) if ($(i + 1) == u) v[c++] = $i + 0
		}
		END {
			if (c == 0) exit
			for (i = 1; i < c; i++) for (j = i; j > 0 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
			if (what == "max") print v[c - 1]; else print v[int((c - 1) / 2)]
		}' "$TMP/$1.txt" 2>/dev/null
}

# calc EXPR [name=value...]: evaluates an awk expression; empty when any
# value is missing.
calc() {
	local expr=$1 a args=()
	shift
	for a in "$@"; do
		[[ -n ${a#*=} ]] || return 0
		args+=(-v "$a")
	done
	awk "${args[@]}" "BEGIN { print $expr }" </dev/null
}

# fmtn VALUE PRINTF-FORMAT: formats a number; "n/a" when empty.
fmtn() { if [[ -n $1 ]]; then awk -v v="$1" -v f="$2" 'BEGIN { printf f, v }'; else printf 'n/a'; fi; }

# verdict VALUE OP TARGET: ok / MISS against a target ("" when no value).
verdict() {
	[[ -n $1 ]] || { printf 'n/a'; return; }
	awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
		ok = (op == "<=") ? (v <= t) : (v >= t)
		printf ok ? "ok" : "MISS" }'
}

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); }

# ---------------------------------------------------------------- run ----

gobench gas ./app '^BenchmarkMarketTxGas$' 1x
if [[ $QUICK == 1 ]]; then tp_rounds=2x; else tp_rounds=5x; fi
gobench throughput ./app '^BenchmarkMarketThroughput$' "$tp_rounds"

sizes=(1000 10000 100000)
SCALE_BLOCKS=200x
[[ $QUICK == 1 ]] && sizes=(1000 10000)
for n in "${sizes[@]}"; do
	# One process per size: the peak RSS (VmHWM) is per process.
	gobench "scale$n" ./app "^BenchmarkScaleBlockPeakRSS\$/^leases=$n\$" "$SCALE_BLOCKS"
done

gobench verify ./x/attest/poc '^BenchmarkVerifyReveal$' 2s -benchmem
# Five runs each: the machine is shared and a run's speed swings by up to 2x
# (a busy neighbour on the same physical core); the table quotes the best
# run and the median, and the kernel against the plain triple loop.
gobench unitproduct ./x/attest/poc '^(BenchmarkUnitProduct|BenchmarkPlainLoop)$' 2s -count 5 -cpu 1
gobench reveal ./x/attest/keeper '^BenchmarkRevealProof$' 1s -benchmem
gobench cpuprover ./sidecar/prover '^BenchmarkCPUProver$' 3s

# crucibled and crucible-sidecar as real processes: a genesis holding n
# ACTIVE leases, imported by a one-validator node, then a load of signed
# transactions while /proc is sampled (bench/nodebench).
node_sizes=(1000 100000)
[[ $QUICK == 1 ]] && node_sizes=(1000)
for n in "${node_sizes[@]}"; do
	gobench "node$n" ./bench/nodebench "^BenchmarkNodePeakRSS\$/^leases=$n\$" 1x
done

# The sidecar's reaction times on an in-process chain (real start command,
# 300 ms blocks, 100 ms poll): ~80 s.
gobench sidecar ./sidecar/e2e '^BenchmarkSidecarLatency$' 1x

# The proof of compute's soundness table: provider strategies with a capacity
# model through the whole app (app/soundness_test.go). SOUNDNESS_SEEDS runs
# per cheating strategy (default 10; 5 in a quick run).
[[ $QUICK == 1 ]] && export SOUNDNESS_SEEDS=${SOUNDNESS_SEEDS:-5}
gobench soundness ./app '^BenchmarkSoundness$' 1x

log "gpu: crucible-sidecar prover selftest --backend cuda"
gpu_row="not measured: no GPU in this run"
if $GO build -o "$TMP/crucible-sidecar" ./cmd/crucible-sidecar >"$TMP/gpu.txt" 2>&1; then
	rm -rf "$TMP/sidecar-home"
	if "$TMP/crucible-sidecar" prover selftest --home "$TMP/sidecar-home" --backend cuda >>"$TMP/gpu.txt" 2>&1; then
		gpu_row=$(awk '/^throughput:/ { printf "%.3g int8 MAC/s", $2 }' "$TMP/gpu.txt")
		[[ -n $gpu_row ]] || gpu_row="selftest passed, no throughput line (see $TMP/gpu.txt)"
	else
		why=$(tail -n 1 "$TMP/gpu.txt" | tr '|' '/' | cut -c1-120)
		gpu_row="not measured: no GPU in this run (selftest --backend cuda: ${why})"
	fi
else
	FAILED+=(gpu-build)
fi

# -------------------------------------------------------------- table ----

# Market gas (deterministic).
send=$(metric gas BenchmarkMarketTxGas gas/send)
row "market gas" "bank send (reference)" "$(fmtn "$send" '%d gas')" "" "BenchmarkMarketTxGas"
for tx in order bid lease deposit withdraw close; do
	g=$(metric gas BenchmarkMarketTxGas "gas/$tx")
	r=$(calc 'g / s' "g=$g" "s=$send")
	target="" status=""
	if [[ $tx == bid || $tx == lease ]]; then target="<= 1.5x"; status=" $(verdict "$r" '<=' 1.5)"; fi
	name=$tx
	case $tx in order) name=create-order ;; bid) name=create-bid ;; lease) name=create-lease ;; close) name=close-lease ;; esac
	row "market gas" "$name" "$(fmtn "$g" '%d gas') ($(fmtn "$r" '%.2f')x send)" "$target$status" "BenchmarkMarketTxGas"
done

# Market throughput.
tp=BenchmarkMarketThroughput
txs=$(metric throughput $tp txs/block)
s=$(metric throughput $tp send-tx/s)
row "market throughput" "bank sends delivered ($(fmtn "$txs" '%d') per block, FinalizeBlock+Commit)" "$(fmtn "$s" '%.0f tx/s')" "" "$tp ($tp_rounds)"
for k in bid lease; do
	v=$(metric throughput $tp "$k-tx/s")
	r=$(metric throughput $tp "$k/send")
	row "market throughput" "create-$k delivered" "$(fmtn "$v" '%.0f tx/s') ($(fmtn "$r" '%.2f')x send)" "" "$tp ($tp_rounds)"
done

# Settlement scaling and memory.
first=${sizes[0]} last=${sizes[-1]}
sb="BenchmarkScaleBlockPeakRSS ($SCALE_BLOCKS)"
for n in "${sizes[@]}"; do
	ns=$(metric "scale$n" "BenchmarkScaleBlockPeakRSS/leases=$n" ns/op)
	row "settlement" "empty block with $n active leases" "$(fmtn "$(calc 'ns / 1e6' "ns=$ns")" '%.2f ms/block')" "" "$sb"
done
ns1=$(metric "scale$first" "BenchmarkScaleBlockPeakRSS/leases=$first" ns/op)
nsN=$(metric "scale$last" "BenchmarkScaleBlockPeakRSS/leases=$last" ns/op)
ratio=$(calc 'b / a' "a=$ns1" "b=$nsN")
target="near 1, <= 1.1"
[[ $last == 100000 ]] || target="(100k/1k <= 1.1; quick run)"
row "settlement" "block time ratio ${last}/${first} leases" "$(fmtn "$ratio" '%.2fx')" "$target $(verdict "$ratio" '<=' 1.1)" "$sb"
for n in "${sizes[@]}"; do
	rss=$(metric "scale$n" "BenchmarkScaleBlockPeakRSS/leases=$n" peak-RSS-MiB)
	heap=$(metric "scale$n" "BenchmarkScaleBlockPeakRSS/leases=$n" heap-inuse-MiB)
	row "memory" "Go test process peak RSS, $n-lease setup and blocks (Go heap in use at the end)" "$(fmtn "$rss" '%.0f MiB') ($(fmtn "$heap" '%.0f MiB'))" "" "BenchmarkScaleBlockPeakRSS (VmHWM)"
done
for n in "${node_sizes[@]}"; do
	bn="BenchmarkNodePeakRSS/leases=$n"
	imp=$(metric "node$n" "$bn" crucibled-import-peak-RSS-MiB)
	steady=$(metric "node$n" "$bn" crucibled-steady-peak-RSS-MiB)
	side=$(metric "node$n" "$bn" sidecar-peak-RSS-MiB)
	tps=$(metric "node$n" "$bn" tx/s)
	gen=$(metric "node$n" "$bn" genesis-MiB)
	target=""
	[[ $n == 100000 ]] && target="< 2048 MiB $(verdict "$steady" '<=' 2048)"
	row "memory" "crucibled peak RSS, $n active leases, under load ($(fmtn "$tps" '%.0f') tx/s), after the genesis import" "$(fmtn "$steady" '%.0f MiB')" "$target" "bench/nodebench $bn"
	row "memory" "crucibled peak RSS, $n active leases, genesis import included ($(fmtn "$gen" '%.0f') MiB genesis)" "$(fmtn "$imp" '%.0f MiB')" "" "bench/nodebench $bn"
	target=""
	[[ $n == 100000 ]] && target="< 200 MiB $(verdict "$side" '<=' 200)"
	row "memory" "crucible-sidecar peak RSS, same run" "$(fmtn "$side" '%.0f MiB')" "$target" "bench/nodebench $bn"
done

# Proof of compute.
v=$(metric verify BenchmarkVerifyReveal/production ns/op)
row "attest" "verify one reveal, production size (N=4096, K=65536)" "$(fmtn "$(calc 'v / 1e6' "v=$v")" '%.2f ms')" "<= 5 ms $(verdict "$(calc 'v / 1e6' "v=$v")" '<=' 5)" "poc BenchmarkVerifyReveal/production"
v=$(metric verify BenchmarkVerifyReveal/test ns/op)
row "attest" "verify one reveal, test size (N=K=256, M=4)" "$(fmtn "$(calc 'v / 1e3' "v=$v")" '%.1f us')" "" "poc BenchmarkVerifyReveal/test"
g=$(metric reveal BenchmarkRevealProof gas/reveal)
row "attest" "MsgRevealProof gas, test-size reveal" "$(fmtn "$g" '%d gas')" "" "keeper BenchmarkRevealProof"
g=$(metric reveal BenchmarkRevealProof est-gas/prod-reveal)
row "attest" "MsgRevealProof gas, production reveal (estimated)" "$(fmtn "$g" '%d gas')" "" "keeper BenchmarkRevealProof"
plain=$(metricstat unitproduct BenchmarkPlainLoop GMAC/s max)
row "prover" "plain Go triple loop n=256/k=4096, one core (reference; best of 5)" "$(fmtn "$plain" '%.2f G int8 MAC/s')" "" "poc BenchmarkPlainLoop"
for d in n=256/k=256 n=512/k=4096 n=1024/k=8192; do
	m=$(metricstat unitproduct "BenchmarkUnitProduct/$d" GMAC/s max)
	med=$(metricstat unitproduct "BenchmarkUnitProduct/$d" GMAC/s median)
	target=""
	[[ $d == n=1024/k=8192 ]] && target=">= 6 G $(verdict "$m" '>=' 6)"
	row "prover" "CPU unit product $d, one core (best of 5; median)" "$(fmtn "$m" '%.2f G int8 MAC/s') ($(fmtn "$med" '%.2f'); $(fmtn "$(calc 'm / p' "m=$m" "p=$plain")" '%.1f')x plain loop)" "$target" "poc BenchmarkUnitProduct"
done
m=$(metric cpuprover BenchmarkCPUProver MAC/s)
row "prover" "CPU prover, whole challenge (TestParams, all $(nproc) cores)" "$(fmtn "$(calc 'm / 1e9' "m=$m")" '%.2f G int8 MAC/s')" "" "sidecar/prover BenchmarkCPUProver"
row "prover" "CUDA prover" "$gpu_row" "" "crucible-sidecar prover selftest --backend cuda"

# Sidecar reaction times: from the moment the node has committed the block
# (order or challenge) to the sidecar's tx in the mempool, and in a block.
for pair in "OrderToBid order-to-bid order's block -> bid" "ChallengeToCommit challenge-to-commit challenge's block -> commit"; do
	read -r sub name label <<<"$pair"
	bn="BenchmarkSidecarLatency/$sub"
	poll=$(metric sidecar "$bn" sidecar-poll-ms)
	blk=$(metric sidecar "$bn" block-interval-ms-p50)
	nsamp=$(metric sidecar "$bn" "$name-samples")
	for where in mempool block; do
		in="in the mempool"
		[[ $where == block ]] && in="included in a block"
		p50=$(metric sidecar "$bn" "$name-$where-ms-p50")
		p90=$(metric sidecar "$bn" "$name-$where-ms-p90")
		pmax=$(metric sidecar "$bn" "$name-$where-ms-max")
		fig="n/a"
		[[ -n $p50 ]] && fig="$(fmtn "$p50" '%.0f') / $(fmtn "$p90" '%.0f') / $(fmtn "$pmax" '%.0f') ms (n=$(fmtn "$nsamp" '%.0f'))"
		row "sidecar" "$label $in, p50 / p90 / max (poll $(fmtn "$poll" '%.0f') ms, blocks $(fmtn "$blk" '%.0f') ms)" "$fig" "" "sidecar/e2e BenchmarkSidecarLatency/$sub"
	done
done

ELAPSED=$(($(date +%s) - T0))
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
mode=full
[[ $QUICK == 1 ]] && mode="quick (BENCH_QUICK=1: 1k and 10k leases only)"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"

{
	echo "# make bench results"
	echo
	echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') at commit $commit, $mode run, ${ELAPSED}s in all."
	echo "Machine: ${cpu:-unknown CPU}, $(nproc) cores, $($GO env GOVERSION) $($GO env GOOS)/$($GO env GOARCH)."
	echo "Figures are wall-clock on a machine that may be shared; gas is deterministic."
	echo
	echo "| area | figure | measured | target | source |"
	echo "| --- | --- | --- | --- | --- |"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "## Proof of compute: soundness table"
	echo
	echo "Provider strategies with a capacity model, driven through the whole app with signed transactions"
	echo "(app/soundness_test.go, BenchmarkSoundness); each cheating strategy over independent seeds (block"
	echo "hashes), windows counted from the first window after the leases start."
	echo
	cat "$TMP/soundness.md" 2>/dev/null || echo "not measured (see $TMP/soundness.txt)"
	echo
	echo "Notes:"
	echo
	echo "- Market throughput: each round delivers one block of N bank sends, one of N create-bid (one per"
	echo "  open order, each on its own GPU) and one of N create-lease, all real signed transactions through"
	echo "  the ante handler (testutil/apptest, in-memory chain); the time is FinalizeBlock + Commit, signing"
	echo "  and the untimed orders and lease closes excluded."
	echo "- Settlement: one empty block (every module's begin/end blockers, then Commit) with n ACTIVE leases"
	echo "  in state, on BenchmarkBlockWithActiveLeases's setup (n/64 providers of 64 GPUs, challenge rate 0:"
	echo "  settlement alone), timed with b.Loop so that the setup runs once per size; the setup's garbage is"
	echo "  collected before the timed blocks."
	echo "- Memory: VmHWM of the Go test process that builds the n-lease state in an in-memory database and"
	echo "  runs the blocks above, one process per size (Go runtime, test binary and the setup's garbage"
	echo "  included); it stands in for crucibled's peak RSS, which keeps its state on disk. The heap figure"
	echo "  is the Go heap in use after a GC at the end, with the chain alive."
	echo "- CPU unit product is single-threaded; the CPU prover uses every core."
	if ((${#FAILED[@]})); then echo "- FAILED steps: ${FAILED[*]} (logs in $TMP/)."; fi
	echo
	echo "Raw benchmark lines:"
	echo
	echo '```'
	cat "$TMP"/{gas,throughput,scale*,verify,unitproduct,reveal,cpuprover}.txt 2>/dev/null | grep -E '^Benchmark' | sed -E 's/[[:space:]]+/ /g'
	echo '```'
} >"$RESULTS"

echo
echo "| area | figure | measured | target | source |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${ROWS[@]}"
echo
echo "make bench: ${ELAPSED}s ($mode); written to $RESULTS"
if ((${#FAILED[@]})); then
	echo "FAILED: ${FAILED[*]} (logs in $TMP/)" >&2
	exit 1
fi
