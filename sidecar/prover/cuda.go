//go:build cgo && linux

package prover

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Minimal declarations of the CUDA driver API and cuBLASLt, resolved with
// dlsym at run time: nothing here needs the CUDA headers or libraries to
// build. Enum values are from cuda.h, library_types.h and cublasLt.h.
typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext;
typedef unsigned long long CUdeviceptr;
typedef int cublasStatus_t;
typedef void *cublasLtHandle_t;
typedef void *cublasLtMatmulDesc_t;
typedef void *cublasLtMatrixLayout_t;
typedef void *cublasLtMatmulPreference_t;
typedef struct { uint64_t data[8]; } cublasLtMatmulAlgo_t;
typedef struct {
	cublasLtMatmulAlgo_t algo;
	size_t workspaceSize;
	cublasStatus_t state;
	float wavesCount;
	int reserved[4];
} cublasLtMatmulHeuristicResult_t;

enum {
	CRC_CUDA_R_8I = 3,
	CRC_CUDA_R_32I = 10,
	CRC_CUBLAS_COMPUTE_32I = 72,
	CRC_CUBLAS_OP_N = 0,
	CRC_CUBLAS_OP_T = 1,
	CRC_DESC_TRANSA = 3,
	CRC_DESC_TRANSB = 4,
	CRC_PREF_MAX_WORKSPACE_BYTES = 1,
};

#define CRC_WORKSPACE (32u << 20)

static struct {
	void *cuda, *lt;
	CUresult (*cuInit)(unsigned int);
	CUresult (*cuDriverGetVersion)(int *);
	CUresult (*cuDeviceGetCount)(int *);
	CUresult (*cuDeviceGet)(CUdevice *, int);
	CUresult (*cuDeviceGetName)(char *, int, CUdevice);
	CUresult (*cuDeviceGetUuid)(unsigned char *, CUdevice);
	CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
	CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
	CUresult (*cuCtxSetCurrent)(CUcontext);
	CUresult (*cuCtxSynchronize)(void);
	CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
	CUresult (*cuMemFree)(CUdeviceptr);
	CUresult (*cuMemAllocHost)(void **, size_t);
	CUresult (*cuMemFreeHost)(void *);
	CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
	CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
	CUresult (*cuGetErrorString)(CUresult, const char **);
	cublasStatus_t (*ltCreate)(cublasLtHandle_t *);
	cublasStatus_t (*ltDestroy)(cublasLtHandle_t);
	size_t (*ltGetVersion)(void);
	cublasStatus_t (*descCreate)(cublasLtMatmulDesc_t *, int, int);
	cublasStatus_t (*descDestroy)(cublasLtMatmulDesc_t);
	cublasStatus_t (*descSetAttr)(cublasLtMatmulDesc_t, int, const void *, size_t);
	cublasStatus_t (*layoutCreate)(cublasLtMatrixLayout_t *, int, uint64_t, uint64_t, int64_t);
	cublasStatus_t (*layoutDestroy)(cublasLtMatrixLayout_t);
	cublasStatus_t (*prefCreate)(cublasLtMatmulPreference_t *);
	cublasStatus_t (*prefDestroy)(cublasLtMatmulPreference_t);
	cublasStatus_t (*prefSetAttr)(cublasLtMatmulPreference_t, int, const void *, size_t);
	cublasStatus_t (*heuristic)(cublasLtHandle_t, cublasLtMatmulDesc_t, cublasLtMatrixLayout_t,
		cublasLtMatrixLayout_t, cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
		cublasLtMatmulPreference_t, int, cublasLtMatmulHeuristicResult_t *, int *);
	cublasStatus_t (*matmul)(cublasLtHandle_t, cublasLtMatmulDesc_t, const void *,
		const void *, cublasLtMatrixLayout_t, const void *, cublasLtMatrixLayout_t,
		const void *, const void *, cublasLtMatrixLayout_t, void *, cublasLtMatrixLayout_t,
		const cublasLtMatmulAlgo_t *, void *, size_t, void *);
} crc;

static void crc_err(char *err, size_t n, const char *what, int code) {
	const char *s = NULL;
	if (crc.cuGetErrorString != NULL && strncmp(what, "cublas", 6) != 0) {
		crc.cuGetErrorString((CUresult)code, &s);
	}
	snprintf(err, n, "%s failed with %s %d%s%s", what,
		strncmp(what, "cublas", 6) == 0 ? "cublasStatus" : "CUresult", code,
		s ? ": " : "", s ? s : "");
}

#define CRC_SYM(lib, field, name) do { \
	*(void **)(&crc.field) = dlsym(crc.lib, name); \
	if (crc.field == NULL) { snprintf(err, n, "%s lacks %s", #lib, name); return 1; } \
} while (0)

#define CRC_SYM2(lib, field, name, fallback) do { \
	*(void **)(&crc.field) = dlsym(crc.lib, name); \
	if (crc.field == NULL) *(void **)(&crc.field) = dlsym(crc.lib, fallback); \
	if (crc.field == NULL) { snprintf(err, n, "%s lacks %s", #lib, name); return 1; } \
} while (0)

// crc_load_cuda opens the driver library and initializes the driver.
static int crc_load_cuda(const char *name, char *err, size_t n) {
	crc.cuda = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (crc.cuda == NULL) { snprintf(err, n, "dlopen %s: %s", name, dlerror()); return 1; }
	CRC_SYM(cuda, cuInit, "cuInit");
	CRC_SYM(cuda, cuDriverGetVersion, "cuDriverGetVersion");
	CRC_SYM(cuda, cuDeviceGetCount, "cuDeviceGetCount");
	CRC_SYM(cuda, cuDeviceGet, "cuDeviceGet");
	CRC_SYM(cuda, cuDeviceGetName, "cuDeviceGetName");
	CRC_SYM2(cuda, cuDeviceGetUuid, "cuDeviceGetUuid_v2", "cuDeviceGetUuid");
	CRC_SYM(cuda, cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
	CRC_SYM2(cuda, cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease");
	CRC_SYM(cuda, cuCtxSetCurrent, "cuCtxSetCurrent");
	CRC_SYM(cuda, cuCtxSynchronize, "cuCtxSynchronize");
	CRC_SYM2(cuda, cuMemAlloc, "cuMemAlloc_v2", "cuMemAlloc");
	CRC_SYM2(cuda, cuMemFree, "cuMemFree_v2", "cuMemFree");
	CRC_SYM2(cuda, cuMemAllocHost, "cuMemAllocHost_v2", "cuMemAllocHost");
	CRC_SYM(cuda, cuMemFreeHost, "cuMemFreeHost");
	CRC_SYM2(cuda, cuMemcpyHtoD, "cuMemcpyHtoD_v2", "cuMemcpyHtoD");
	CRC_SYM2(cuda, cuMemcpyDtoH, "cuMemcpyDtoH_v2", "cuMemcpyDtoH");
	*(void **)(&crc.cuGetErrorString) = dlsym(crc.cuda, "cuGetErrorString");
	CUresult r = crc.cuInit(0);
	if (r != 0) { crc_err(err, n, "cuInit", r); return 1; }
	return 0;
}

// crc_load_lt opens cuBLASLt.
static int crc_load_lt(const char *name, char *err, size_t n) {
	crc.lt = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (crc.lt == NULL) { snprintf(err, n, "dlopen %s: %s", name, dlerror()); return 1; }
	CRC_SYM(lt, ltCreate, "cublasLtCreate");
	CRC_SYM(lt, ltDestroy, "cublasLtDestroy");
	CRC_SYM(lt, ltGetVersion, "cublasLtGetVersion");
	CRC_SYM(lt, descCreate, "cublasLtMatmulDescCreate");
	CRC_SYM(lt, descDestroy, "cublasLtMatmulDescDestroy");
	CRC_SYM(lt, descSetAttr, "cublasLtMatmulDescSetAttribute");
	CRC_SYM(lt, layoutCreate, "cublasLtMatrixLayoutCreate");
	CRC_SYM(lt, layoutDestroy, "cublasLtMatrixLayoutDestroy");
	CRC_SYM(lt, prefCreate, "cublasLtMatmulPreferenceCreate");
	CRC_SYM(lt, prefDestroy, "cublasLtMatmulPreferenceDestroy");
	CRC_SYM(lt, prefSetAttr, "cublasLtMatmulPreferenceSetAttribute");
	CRC_SYM(lt, heuristic, "cublasLtMatmulAlgoGetHeuristic");
	CRC_SYM(lt, matmul, "cublasLtMatmul");
	return 0;
}

static void crc_close_lt(void) {
	if (crc.lt != NULL) dlclose(crc.lt);
	crc.lt = NULL;
}

static int crc_device_count(int *count, char *err, size_t n) {
	CUresult r = crc.cuDeviceGetCount(count);
	if (r != 0) { crc_err(err, n, "cuDeviceGetCount", r); return 1; }
	return 0;
}

static int crc_driver_version(void) {
	int v = 0;
	crc.cuDriverGetVersion(&v);
	return v;
}

static size_t crc_lt_version(void) { return crc.ltGetVersion(); }

static int crc_device_info(int ordinal, unsigned char *uuid, char *name, int namelen, char *err, size_t n) {
	CUdevice dev;
	CUresult r = crc.cuDeviceGet(&dev, ordinal);
	if (r != 0) { crc_err(err, n, "cuDeviceGet", r); return 1; }
	r = crc.cuDeviceGetUuid(uuid, dev);
	if (r != 0) { crc_err(err, n, "cuDeviceGetUuid", r); return 1; }
	r = crc.cuDeviceGetName(name, namelen, dev);
	if (r != 0) { crc_err(err, n, "cuDeviceGetName", r); return 1; }
	return 0;
}

// crc_engine holds one device's cuBLASLt state for one shape (N, K).
typedef struct {
	CUdevice dev;
	CUcontext ctx;
	int has_ctx;
	cublasLtHandle_t lt;
	cublasLtMatmulDesc_t desc;
	cublasLtMatrixLayout_t la, lb, lc;
	cublasLtMatmulAlgo_t algo;
	CUdeviceptr dA, dB, dC, dW;
	uint64_t n, k;
} crc_engine;

static void crc_engine_free(crc_engine *e) {
	if (e->has_ctx) crc.cuCtxSetCurrent(e->ctx);
	if (e->dA) crc.cuMemFree(e->dA);
	if (e->dB) crc.cuMemFree(e->dB);
	if (e->dC) crc.cuMemFree(e->dC);
	if (e->dW) crc.cuMemFree(e->dW);
	if (e->la) crc.layoutDestroy(e->la);
	if (e->lb) crc.layoutDestroy(e->lb);
	if (e->lc) crc.layoutDestroy(e->lc);
	if (e->desc) crc.descDestroy(e->desc);
	if (e->lt) crc.ltDestroy(e->lt);
	if (e->has_ctx) crc.cuDevicePrimaryCtxRelease(e->dev);
	free(e);
}

#define CRC_CU(call, what) do { CUresult _r = (call); if (_r != 0) { crc_err(err, n, what, _r); goto fail; } } while (0)
#define CRC_LT(call, what) do { cublasStatus_t _s = (call); if (_s != 0) { crc_err(err, n, what, _s); goto fail; } } while (0)

// crc_engine_new prepares C = A * B^T for row-major A, B (nn x kk int8) and
// C (nn x nn int32). cuBLASLt is column-major: the memory of row-major B is
// the column-major kk x nn matrix X, that of A is Y, and the memory of
// row-major C is the column-major Z = C^T = B * A^T = X^T * Y. So the
// matmul's first operand is B's memory with TRANSA = T, the second A's
// memory with TRANSB = N (the "TN" layout int8 tensor-core kernels need),
// giving m = n = nn, k = kk; all leading dimensions are the row lengths.
static crc_engine *crc_engine_new(int ordinal, uint64_t nn, uint64_t kk, char *err, size_t n) {
	crc_engine *e = calloc(1, sizeof(crc_engine));
	cublasLtMatmulPreference_t pref = NULL;
	if (e == NULL) { snprintf(err, n, "out of memory"); return NULL; }
	e->n = nn;
	e->k = kk;
	CRC_CU(crc.cuDeviceGet(&e->dev, ordinal), "cuDeviceGet");
	CRC_CU(crc.cuDevicePrimaryCtxRetain(&e->ctx, e->dev), "cuDevicePrimaryCtxRetain");
	e->has_ctx = 1;
	CRC_CU(crc.cuCtxSetCurrent(e->ctx), "cuCtxSetCurrent");
	CRC_CU(crc.cuMemAlloc(&e->dA, nn * kk), "cuMemAlloc(A)");
	CRC_CU(crc.cuMemAlloc(&e->dB, nn * kk), "cuMemAlloc(B)");
	CRC_CU(crc.cuMemAlloc(&e->dC, nn * nn * 4), "cuMemAlloc(C)");
	CRC_CU(crc.cuMemAlloc(&e->dW, CRC_WORKSPACE), "cuMemAlloc(workspace)");
	CRC_LT(crc.ltCreate(&e->lt), "cublasLtCreate");
	CRC_LT(crc.descCreate(&e->desc, CRC_CUBLAS_COMPUTE_32I, CRC_CUDA_R_32I), "cublasLtMatmulDescCreate");
	int32_t opT = CRC_CUBLAS_OP_T, opN = CRC_CUBLAS_OP_N;
	CRC_LT(crc.descSetAttr(e->desc, CRC_DESC_TRANSA, &opT, sizeof(opT)), "cublasLtMatmulDescSetAttribute(TRANSA)");
	CRC_LT(crc.descSetAttr(e->desc, CRC_DESC_TRANSB, &opN, sizeof(opN)), "cublasLtMatmulDescSetAttribute(TRANSB)");
	CRC_LT(crc.layoutCreate(&e->la, CRC_CUDA_R_8I, kk, nn, (int64_t)kk), "cublasLtMatrixLayoutCreate(A)");
	CRC_LT(crc.layoutCreate(&e->lb, CRC_CUDA_R_8I, kk, nn, (int64_t)kk), "cublasLtMatrixLayoutCreate(B)");
	CRC_LT(crc.layoutCreate(&e->lc, CRC_CUDA_R_32I, nn, nn, (int64_t)nn), "cublasLtMatrixLayoutCreate(C)");
	CRC_LT(crc.prefCreate(&pref), "cublasLtMatmulPreferenceCreate");
	uint64_t ws = CRC_WORKSPACE;
	CRC_LT(crc.prefSetAttr(pref, CRC_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)), "cublasLtMatmulPreferenceSetAttribute");
	cublasLtMatmulHeuristicResult_t res;
	int got = 0;
	memset(&res, 0, sizeof(res));
	CRC_LT(crc.heuristic(e->lt, e->desc, e->la, e->lb, e->lc, e->lc, pref, 1, &res, &got), "cublasLtMatmulAlgoGetHeuristic");
	if (got < 1) {
		snprintf(err, n, "cuBLASLt has no int8 algorithm for N=%llu K=%llu", (unsigned long long)nn, (unsigned long long)kk);
		goto fail;
	}
	e->algo = res.algo;
	crc.prefDestroy(pref);
	return e;
fail:
	if (pref) crc.prefDestroy(pref);
	crc_engine_free(e);
	return NULL;
}

// crc_engine_run computes hc = ha * hb^T: copies in, one matmul, copies out.
static int crc_engine_run(crc_engine *e, const void *ha, const void *hb, void *hc, char *err, size_t n) {
	int32_t alpha = 1, beta = 0;
	CRC_CU(crc.cuCtxSetCurrent(e->ctx), "cuCtxSetCurrent");
	CRC_CU(crc.cuMemcpyHtoD(e->dA, ha, e->n * e->k), "cuMemcpyHtoD(A)");
	CRC_CU(crc.cuMemcpyHtoD(e->dB, hb, e->n * e->k), "cuMemcpyHtoD(B)");
	CRC_LT(crc.matmul(e->lt, e->desc, &alpha,
		(const void *)(uintptr_t)e->dB, e->la,
		(const void *)(uintptr_t)e->dA, e->lb,
		&beta, (const void *)(uintptr_t)e->dC, e->lc,
		(void *)(uintptr_t)e->dC, e->lc,
		&e->algo, (void *)(uintptr_t)e->dW, CRC_WORKSPACE, NULL), "cublasLtMatmul");
	CRC_CU(crc.cuCtxSynchronize(), "cuCtxSynchronize");
	CRC_CU(crc.cuMemcpyDtoH(hc, e->dC, e->n * e->n * 4), "cuMemcpyDtoH(C)");
	return 0;
fail:
	return 1;
}

static void *crc_host_alloc(crc_engine *e, size_t size, char *err, size_t n) {
	void *p = NULL;
	CRC_CU(crc.cuCtxSetCurrent(e->ctx), "cuCtxSetCurrent");
	CRC_CU(crc.cuMemAllocHost(&p, size), "cuMemAllocHost");
	return p;
fail:
	return NULL;
}

static void crc_host_free(crc_engine *e, void *p) {
	crc.cuCtxSetCurrent(e->ctx);
	crc.cuMemFreeHost(p);
}
*/
import "C"

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// Library names tried, in order. CUDA_DRIVER_LIBRARY and CUBLASLT_LIBRARY
// (paths or names) override them.
var (
	cudaDriverNames = []string{"libcuda.so.1"}
	cublasLtNames   = []string{
		"libcublasLt.so.13", "libcublasLt.so.12",
		"/usr/local/cuda/lib64/libcublasLt.so.13", "/usr/local/cuda/lib64/libcublasLt.so.12",
		"/usr/local/cuda/targets/x86_64-linux/lib/libcublasLt.so.13",
		"/usr/local/cuda/targets/x86_64-linux/lib/libcublasLt.so.12",
	}
)

// cudaLib is the process-wide loaded driver and cuBLASLt (dlopen handles
// are process-wide anyway).
var cudaLib struct {
	once      sync.Once
	err       error
	ltName    string
	driver    int
	ltVersion uint64
}

const errBufLen = 512

func cerr(buf []C.char) string { return C.GoString(&buf[0]) }

func loadCUDA() error {
	cudaLib.once.Do(func() {
		buf := make([]C.char, errBufLen)
		drivers := cudaDriverNames
		if v := os.Getenv("CUDA_DRIVER_LIBRARY"); v != "" {
			drivers = []string{v}
		}
		var reasons []string
		ok := false
		for _, name := range drivers {
			cs := C.CString(name)
			rc := C.crc_load_cuda(cs, &buf[0], errBufLen)
			C.free(unsafe.Pointer(cs))
			if rc == 0 {
				ok = true
				break
			}
			reasons = append(reasons, cerr(buf))
		}
		if !ok {
			cudaLib.err = fmt.Errorf("%w: cuda driver: %s", ErrUnavailable, strings.Join(reasons, "; "))
			return
		}
		cudaLib.driver = int(C.crc_driver_version())
		lts := cublasLtNames
		if v := os.Getenv("CUBLASLT_LIBRARY"); v != "" {
			lts = []string{v}
		}
		reasons = nil
		for _, name := range lts {
			cs := C.CString(name)
			rc := C.crc_load_lt(cs, &buf[0], errBufLen)
			C.free(unsafe.Pointer(cs))
			if rc == 0 {
				cudaLib.ltName = name
				cudaLib.ltVersion = uint64(C.crc_lt_version())
				return
			}
			reasons = append(reasons, cerr(buf))
			C.crc_close_lt()
		}
		cudaLib.err = fmt.Errorf("%w: cublasLt: %s", ErrUnavailable, strings.Join(reasons, "; "))
	})
	return cudaLib.err
}

// CUDAOptions selects the CUDA device.
type CUDAOptions struct {
	// Device is a CUDA ordinal ("0", "1", ...) or an NVML-style UUID
	// ("GPU-xxxxxxxx-..."); empty means ordinal 0.
	Device string
	// MaxPinnedBytes bounds the page-locked host memory of a session
	// (0: 4 GiB).
	MaxPinnedBytes uint64
}

// CUDA is the cuBLASLt prover on one device. Sessions from one CUDA may run
// one at a time or concurrently (each has its own buffers and handle).
type CUDA struct {
	ordinal   int
	name      string
	uuid      string
	maxPinned uint64
}

var _ Prover = (*CUDA)(nil)

// NewCUDA loads the CUDA driver and cuBLASLt and finds the device. It fails
// with an error wrapping ErrUnavailable when they are missing or there is
// no such device.
func NewCUDA(opts CUDAOptions) (*CUDA, error) {
	if err := loadCUDA(); err != nil {
		return nil, err
	}
	buf := make([]C.char, errBufLen)
	var count C.int
	if C.crc_device_count(&count, &buf[0], errBufLen) != 0 {
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, cerr(buf))
	}
	if count == 0 {
		return nil, fmt.Errorf("%w: the cuda driver sees no GPU", ErrUnavailable)
	}
	var devices []string
	for i := range int(count) {
		var uuid [16]C.uchar
		name := make([]C.char, 256)
		if C.crc_device_info(C.int(i), &uuid[0], &name[0], 256, &buf[0], errBufLen) != 0 {
			return nil, fmt.Errorf("%w: device %d: %s", ErrUnavailable, i, cerr(buf))
		}
		var u [16]byte
		for j := range u {
			u[j] = byte(uuid[j])
		}
		id := fmt.Sprintf("GPU-%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
		want := opts.Device
		if want == "" {
			want = "0"
		}
		if want == strconv.Itoa(i) || strings.EqualFold(want, id) {
			maxPinned := opts.MaxPinnedBytes
			if maxPinned == 0 {
				maxPinned = 4 << 30
			}
			return &CUDA{ordinal: i, name: C.GoString(&name[0]), uuid: id, maxPinned: maxPinned}, nil
		}
		devices = append(devices, id)
	}
	return nil, fmt.Errorf("%w: no cuda device %q (have %d: %s)", ErrUnavailable, opts.Device, count, strings.Join(devices, ", "))
}

// Name implements Prover.
func (*CUDA) Name() string { return "cuda" }

// Device describes the device and libraries.
func (c *CUDA) Device() string {
	return fmt.Sprintf("cuda device %d: %s, %s (driver %d, %s %d)", c.ordinal, c.name, c.uuid, cudaLib.driver, cudaLib.ltName, cudaLib.ltVersion)
}

// Close implements io.Closer; the libraries stay loaded.
func (*CUDA) Close() error { return nil }

// Prove implements Prover: it allocates the device buffers and pinned host
// slots for params (released by Session.Close).
func (c *CUDA) Prove(_ context.Context, params poc.Params, seed [32]byte) (Session, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	eng, err := newCUDAEngine(c.ordinal, params, c.maxPinned)
	if err != nil {
		return nil, err
	}
	return newEngineSession(params, seed, eng), nil
}

type cudaSlot struct {
	a, b, c unsafe.Pointer
}

type cudaEngine struct {
	e     *C.crc_engine
	n, k  int
	slotv []cudaSlot
	buf   []C.char
}

func newCUDAEngine(ordinal int, p poc.Params, maxPinned uint64) (*cudaEngine, error) {
	buf := make([]C.char, errBufLen)
	n, k := uint64(p.N), uint64(p.K)
	ce := C.crc_engine_new(C.int(ordinal), C.uint64_t(n), C.uint64_t(k), &buf[0], errBufLen)
	if ce == nil {
		return nil, fmt.Errorf("prover: cuda: N=%d K=%d: %s", n, k, cerr(buf))
	}
	eng := &cudaEngine{e: ce, n: int(n), k: int(k), buf: buf}
	slotBytes := 2*n*k + 4*n*n
	want := min(uint64(runtime.GOMAXPROCS(0))+2, max(2, maxPinned/slotBytes))
	for range want {
		var s cudaSlot
		for i, size := range []uint64{n * k, n * k, 4 * n * n} {
			ptr := C.crc_host_alloc(ce, C.size_t(size), &buf[0], errBufLen)
			if ptr == nil {
				err := fmt.Errorf("prover: cuda: pinned host memory: %s", cerr(buf))
				for _, q := range []unsafe.Pointer{s.a, s.b}[:i] {
					C.crc_host_free(ce, q)
				}
				_ = eng.close()
				return nil, err
			}
			switch i {
			case 0:
				s.a = ptr
			case 1:
				s.b = ptr
			default:
				s.c = ptr
			}
		}
		eng.slotv = append(eng.slotv, s)
	}
	return eng, nil
}

func (e *cudaEngine) slots() int { return len(e.slotv) }

func (e *cudaEngine) host(slot int) ([]int8, []int8, []int32) {
	s := e.slotv[slot]
	nk := e.n * e.k
	return unsafe.Slice((*int8)(s.a), nk), unsafe.Slice((*int8)(s.b), nk), unsafe.Slice((*int32)(s.c), e.n*e.n)
}

// matmul runs on the pipeline's single device goroutine.
func (e *cudaEngine) matmul(slot int) error {
	s := e.slotv[slot]
	if C.crc_engine_run(e.e, s.a, s.b, s.c, &e.buf[0], errBufLen) != 0 {
		return fmt.Errorf("cuda: %s", cerr(e.buf))
	}
	return nil
}

func (e *cudaEngine) close() error {
	if e.e == nil {
		return nil
	}
	for _, s := range e.slotv {
		C.crc_host_free(e.e, s.a)
		C.crc_host_free(e.e, s.b)
		C.crc_host_free(e.e, s.c)
	}
	e.slotv = nil
	C.crc_engine_free(e.e)
	e.e = nil
	return nil
}
