//go:build cgo && linux

package prover

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The loader's failure paths, without a GPU.

func TestLoaderMissingLibraries(t *testing.T) {
	err := openDriver([]string{"/nonexistent/libcuda.so.1"})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "dlopen /nonexistent/libcuda.so.1") ||
		!strings.Contains(err.Error(), "No such file") {
		t.Fatalf("no driver: %v", err)
	}
	if _, err := openNVRTC([]string{"/nonexistent/libnvrtc.so.12", "/nonexistent/libnvrtc.so.13"}); !errors.Is(err, ErrUnavailable) ||
		!strings.Contains(err.Error(), "nvrtc") || strings.Count(err.Error(), "dlopen") != 2 {
		t.Fatalf("no nvrtc: %v", err)
	}
	if _, err := openCuBLASLt([]string{"/nonexistent/libcublasLt.so.12"}); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "cublasLt") {
		t.Fatalf("no cublasLt: %v", err)
	}
}

// A library that loads but is not the one asked for names the missing
// symbol, and leaves what was loaded before intact.
func TestLoaderWrongLibrary(t *testing.T) {
	nvrtcBefore := loadNVRTC()
	for _, tc := range []struct {
		open func() error
		want string
	}{
		{func() error { return openDriver([]string{"libc.so.6"}) }, "libc.so.6 lacks cuInit"},
		{func() error { _, err := openNVRTC([]string{"libc.so.6"}); return err }, "libc.so.6 lacks nvrtcVersion"},
		{func() error { _, err := openCuBLASLt([]string{"libc.so.6"}); return err }, "libc.so.6 lacks cublasLtCreate"},
	} {
		if err := tc.open(); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("got %v, want %q", err, tc.want)
		}
	}
	if nvrtcBefore == nil {
		if _, err := compileSource(kernelSource, 75); err != nil {
			t.Fatalf("a failed load clobbered the loaded nvrtc: %v", err)
		}
	}
}

// nvrtcHere loads NVRTC or skips: CI has none; a host with the CUDA
// toolkit or Debian's libnvrtc11.2 compiles the real kernels.
func nvrtcHere(t *testing.T) {
	t.Helper()
	if err := loadNVRTC(); err != nil {
		t.Skipf("no NVRTC here: %v", err)
	}
}

func TestNVRTCCompilesKernels(t *testing.T) {
	nvrtcHere(t)
	t.Logf("%s version %d, architectures %v", cudaLib.nvrtcName, cudaLib.nvrtcVersion, cudaLib.archs)
	for _, cc := range []int{75, 80, 90} {
		if !slices.Contains(cudaLib.archs, cc) {
			continue
		}
		arch, err := chooseArch(cc, cudaLib.archs)
		if err != nil || arch != cc {
			t.Fatalf("chooseArch(%d) = %d, %v", cc, arch, err)
		}
		ptx, err := kernelPTX(arch)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{kernGen, kernLeafReduce, kernNodeReduce, kernGather} {
			if !strings.Contains(string(ptx), ".entry "+name+"(") {
				t.Fatalf("compute_%d PTX lacks kernel %s", cc, name)
			}
		}
		t.Logf("compute_%d: %d bytes of PTX", cc, len(ptx))
		// CRUCIBLE_PTX_DIR keeps the PTX, e.g. for ptxas (scripts/gpu-check.sh).
		if dir := os.Getenv("CRUCIBLE_PTX_DIR"); dir != "" {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("kernels.compute_%d.ptx", cc)), ptx, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestNVRTCCompileErrorIsReported(t *testing.T) {
	nvrtcHere(t)
	_, err := compileSource("extern \"C\" __global__ void k() { undefined_thing(); }\n", 75)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "NVRTC_ERROR_COMPILATION") ||
		!strings.Contains(err.Error(), "undefined_thing") {
		t.Fatalf("compile error: %v", err)
	}
}
