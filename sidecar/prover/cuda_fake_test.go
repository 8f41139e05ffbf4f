//go:build cgo && linux

package prover

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// resetCUDALib forgets what the process loaded, so the next NewCUDA loads
// the libraries the environment names.
func resetCUDALib() {
	cudaLib.once = sync.Once{}
	cudaLib.err = nil
	cudaLib.nvrtcOnce = sync.Once{}
	cudaLib.nvrtcErr = nil
	cudaLib.archs = nil
	cudaLib.ptxMu.Lock()
	cudaLib.ptx = nil
	cudaLib.ptxMu.Unlock()
}

// fakeCUDA builds testdata/fakecuda/fakecuda.c into a shared library and
// points the loader's three libraries at it (skipping without a C
// compiler).
func fakeCUDA(t *testing.T) {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		if cc, err = exec.LookPath("gcc"); err != nil {
			t.Skip("no C compiler for the fake CUDA libraries")
		}
	}
	lib := filepath.Join(t.TempDir(), "libfakecuda.so")
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-O1", "-o", lib, "testdata/fakecuda/fakecuda.c").CombinedOutput(); err != nil {
		t.Fatalf("building the fake CUDA libraries: %v\n%s", err, out)
	}
	for _, v := range []string{"CUDA_DRIVER_LIBRARY", "CUBLASLT_LIBRARY", "NVRTC_LIBRARY"} {
		t.Setenv(v, lib)
	}
	resetCUDALib()
	t.Cleanup(resetCUDALib)
}

// The cgo device path and the loader's failure paths against fake CUDA
// libraries: no device, wrong compute capability, a module the driver
// refuses, out of device memory (free memory and a failing cuMemAlloc), a
// kernel fault, and a device whose results fail the host's check.
func TestFakeCUDALoaderPaths(t *testing.T) {
	fakeCUDA(t)
	ctx := context.Background()
	small := poc.Params{N: 64, K: 64, M: 4, Samples: 4}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
		is   error
	}{
		{"cuInit fails", map[string]string{"FAKE_CU_INIT": "100"}, []string{"cuInit failed with CUresult 100: no CUDA-capable device is detected"}, ErrUnavailable},
		{"no gpu", map[string]string{"FAKE_CU_COUNT": "0"}, []string{"sees no GPU"}, ErrUnavailable},
		{"volta", map[string]string{"FAKE_CU_CC": "70"}, []string{"compute capability 7.0 is below 7.5"}, ErrUnavailable},
		{"old driver", map[string]string{"FAKE_CU_MODULE_ERR": "222"}, []string{"cuModuleLoadDataEx failed with CUresult 222", "newer than the driver", "JIT log: ptxas fatal: fake JIT failure"}, ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			resetCUDALib()
			_, err := NewCUDA(CUDAOptions{})
			if !errors.Is(err, tc.is) {
				t.Fatalf("got %v, want %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q lacks %q", err, w)
				}
			}
		})
	}

	resetCUDALib()
	c, err := NewCUDA(CUDAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if d := c.Device(); !strings.Contains(d, "Fake H100 0") || !strings.Contains(d, "compute 9.0") || !strings.Contains(d, "compute_90") {
		t.Fatalf("device: %s", d)
	}
	if _, err := NewCUDA(CUDAOptions{Device: "7"}); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), `no cuda device "7"`) {
		t.Fatalf("unknown device: %v", err)
	}

	// Production does not fit 1 GiB free; the test size does.
	t.Setenv("FAKE_CU_FREE_MIB", "1024")
	if _, err := c.Prove(ctx, poc.ProductionParams(), [32]byte{}); !errors.Is(err, ErrDeviceMemory) || !strings.Contains(err.Error(), "needs 1.1") {
		t.Fatalf("production in 1 GiB: %v", err)
	}
	// A cuMemAlloc that fails mid-way: out of memory, everything released.
	t.Setenv("FAKE_CU_ALLOC_OK", "3")
	resetCUDALib()
	c2, err := NewCUDA(CUDAOptions{}) // cuInit resets the fake's count; the workspace is alloc 1
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Prove(ctx, small, [32]byte{}); !errors.Is(err, ErrDeviceMemory) || !strings.Contains(err.Error(), "failed with CUresult 2: out of memory") {
		t.Fatalf("failing cuMemAlloc: %v", err)
	}
	t.Setenv("FAKE_CU_ALLOC_OK", "")

	// The kernels of the fake do nothing: the host check refuses the result.
	s, err := c.Prove(ctx, small, [32]byte{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx); !errors.Is(err, errDeviceFault) {
		t.Fatalf("commit on a device that computes nothing: %v", err)
	}
	_ = s.Close()
	// A kernel fault surfaces with the driver's string.
	t.Setenv("FAKE_CU_LAUNCH_ERR", "700")
	s, err = c.Prove(ctx, small, [32]byte{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx); err == nil || !strings.Contains(err.Error(), "cuLaunchKernel(crc_gen) failed with CUresult 700: an illegal memory access") {
		t.Fatalf("kernel fault: %v", err)
	}
	_ = s.Close()
	// The known-answer test refuses such a device.
	t.Setenv("FAKE_CU_LAUNCH_ERR", "")
	if err := KnownAnswer(ctx, c); !errors.Is(err, ErrKnownAnswer) {
		t.Fatalf("known answer on the fake: %v", err)
	}
	// A fleet over every device of the fake (two).
	t.Setenv("FAKE_CU_COUNT", "2")
	resetCUDALib()
	f, err := NewCUDAFleet(GPUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Members()) != 2 {
		t.Fatalf("fleet of %d", len(f.Members()))
	}
	_ = f.Close()
}
