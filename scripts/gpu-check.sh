#!/usr/bin/env bash
# gpu-check.sh: the GPU prover's proof on hardware, in one go (issue #12).
#
# Builds crucible-sidecar with cgo into .device/ (git-ignored), then runs
#   1. crucible-sidecar inventory                       (what the sidecar sees)
#   2. crucible-sidecar prover selftest --backend cuda  (golden vectors bit for bit)
#   3. crucible-sidecar prover bench --size production  (whole H100-class challenge
#      against its commit deadline and against the GEMM alone)
# and prints one table. Every step's full output is kept in .device/logs/.
#
# Needs: Go, a C compiler (cgo), an NVIDIA driver (libcuda.so.1), cuBLASLt
# (libcublasLt.so.12/.13) and NVRTC (libnvrtc.so.12/.13) on the library path;
# CUDA_DRIVER_LIBRARY, CUBLASLT_LIBRARY and NVRTC_LIBRARY pick them
# explicitly. Nothing else: the kernels are compiled at run time by NVRTC.
#
# scripts/gpu-check.sh --kernels compiles the kernels only (no GPU needed): NVRTC
# through the sidecar's own loader (go test -run TestNVRTCCompilesKernels, PTX
# kept in .device/ptx), then ptxas -arch=sm_90 when PTXAS or ptxas on PATH
# names one (Debian: libnvrtc11.2 for NVRTC; ptxas from nvidia-cuda-toolkit),
# printing registers, shared memory and spills per kernel.
#
# Options (environment):
#   DEVICE=0                 cuda ordinal or GPU UUID
#   BENCH_ARGS="..."         extra flags for prover bench (e.g. --units 512 for a
#                            quicker, extrapolated run, --batch 4, --tune)
#   SKIP_BUILD=1             reuse .device/bin/crucible-sidecar
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.device"
bin="$out/bin/crucible-sidecar"
logs="$out/logs"
mkdir -p "$out/bin" "$logs"
device=${DEVICE:-0}

if [[ "${1:-}" == "--kernels" ]]; then
	mkdir -p "$out/ptx"
	echo "compiling the kernels with NVRTC (PTX into $out/ptx)..."
	(cd "$root" && CRUCIBLE_PTX_DIR="$out/ptx" go test -count=1 -v -run 'TestNVRTCCompilesKernels|TestNVRTCCompileErrorIsReported' ./sidecar/prover/) || exit 1
	ls "$out"/ptx/*.ptx >/dev/null 2>&1 || { echo "no PTX: NVRTC not found (the test skipped)" >&2; exit 1; }
	ptxas=${PTXAS:-$(command -v ptxas || true)}
	if [[ -z "$ptxas" ]]; then
		echo "no ptxas (set PTXAS): PTX compiled, not assembled"
		exit 0
	fi
	"$ptxas" --version | tail -1
	for ptx in "$out"/ptx/kernels.compute_90.ptx "$out"/ptx/kernels.compute_75.ptx; do
		[[ -f $ptx ]] || continue
		arch=sm_${ptx##*compute_}
		arch=${arch%.ptx}
		echo "== ptxas -arch=$arch $(basename "$ptx")"
		"$ptxas" -arch="$arch" -v "$ptx" -o "${ptx%.ptx}.$arch.cubin" 2>&1 | grep -E "Compiling|registers|spill" || exit 1
	done
	exit 0
fi

if [[ -z "${SKIP_BUILD:-}" ]]; then
	echo "building $bin (cgo on)..."
	if ! (cd "$root" && CGO_ENABLED=1 go build -o "$bin" ./cmd/crucible-sidecar) >"$logs/build.log" 2>&1; then
		cat "$logs/build.log"
		echo "build failed" >&2
		exit 1
	fi
fi

declare -a names results
step() { # name, log, command...
	local name=$1 log=$2
	shift 2
	echo "== $name: $*"
	local start=$SECONDS
	"$@" 2>&1 | tee "$logs/$log"
	local rc=${PIPESTATUS[0]}
	names+=("$name")
	if [[ $rc -eq 0 ]]; then
		results+=("ok ($((SECONDS - start)) s)")
	else
		results+=("FAILED rc=$rc ($((SECONDS - start)) s)")
	fi
	return "$rc"
}

home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT

step inventory inventory.log "$bin" inventory --home "$home"
step selftest selftest.log "$bin" prover selftest --home "$home" --backend cuda --device "$device"
# shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
step bench bench.log "$bin" prover bench --home "$home" --backend cuda --device "$device" --size production ${BENCH_ARGS:-}

grab() { # log, pattern: the first matching line, trimmed
	grep -m1 -E "$2" "$logs/$1" 2>/dev/null | sed -E 's/[[:space:]]+/ /g' || true
}

echo
echo "==================== gpu-check $(date -u +%Y-%m-%dT%H:%MZ) ===================="
printf '%-16s %s\n' "host" "$(hostname)"
printf '%-16s %s\n' "inventory" "$(grab inventory.log '^backend:')"
printf '%-16s %s\n' "backend" "$(grab selftest.log '^backend:')"
for i in "${!names[@]}"; do
	printf '%-16s %s\n' "${names[$i]}" "${results[$i]}"
	[[ ${results[$i]} == ok* ]] || printf '%-16s %s\n' "" "$(grab "${names[$i]}.log" '^Error:')"
done
printf '%-16s %s\n' "golden" "$(grep -cE '^golden .*: ok' "$logs/selftest.log" 2>/dev/null) ok, $(grep -cE '^golden .*FAIL' "$logs/selftest.log" 2>/dev/null) failed"
printf '%-16s %s\n' "selftest TOPS" "$(grab selftest.log '^throughput:')"
for key in "device memory" "commit" "reveal" "whole challenge" "gemm alone" "deadline" "bid this class"; do
	printf '%-16s %s\n' "$key" "$(grab bench.log "^$key" | sed -E "s/^$key //")"
done
echo "logs: $logs"
for r in "${results[@]}"; do
	[[ $r == ok* ]] || exit 1
done
