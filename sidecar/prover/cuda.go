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

// Minimal declarations of the CUDA driver API, NVRTC and cuBLASLt, resolved
// with dlsym at run time: nothing here needs the CUDA headers or libraries
// to build. Enum values are from cuda.h, nvrtc.h, library_types.h and
// cublasLt.h.
typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext;
typedef void *CUmodule;
typedef void *CUfunction;
typedef void *CUstream;
typedef void *CUevent;
typedef unsigned long long CUdeviceptr;
typedef int nvrtcResult;
typedef void *nvrtcProgram;
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
	CRC_LAYOUT_BATCH_COUNT = 5,
	CRC_LAYOUT_STRIDED_BATCH_OFFSET = 6,
	CRC_PREF_MAX_WORKSPACE_BYTES = 1,
	CRC_ATTR_CC_MAJOR = 75,
	CRC_ATTR_CC_MINOR = 76,
	CRC_ATTR_SMS = 16,
	CRC_JIT_ERROR_LOG_BUFFER = 5,
	CRC_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
	CRC_STREAM_NON_BLOCKING = 1,
	CRC_EVENT_DISABLE_TIMING = 2,
};

#define CRC_WORKSPACE (32u << 20)
#define CRC_STREAMS 3
#define CRC_MAX_EVENTS 32
#define CRC_MAX_PLANS 4
#define CRC_ALGOS 8

static struct {
	void *cuda, *lt, *nvrtc;
	CUresult (*cuInit)(unsigned int);
	CUresult (*cuDriverGetVersion)(int *);
	CUresult (*cuDeviceGetCount)(int *);
	CUresult (*cuDeviceGet)(CUdevice *, int);
	CUresult (*cuDeviceGetName)(char *, int, CUdevice);
	CUresult (*cuDeviceGetUuid)(unsigned char *, CUdevice);
	CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
	CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
	CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
	CUresult (*cuCtxSetCurrent)(CUcontext);
	CUresult (*cuCtxSynchronize)(void);
	CUresult (*cuMemGetInfo)(size_t *, size_t *);
	CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
	CUresult (*cuMemFree)(CUdeviceptr);
	CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
	CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
	CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned int, int *, void **);
	CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
	CUresult (*cuModuleUnload)(CUmodule);
	CUresult (*cuLaunchKernel)(CUfunction, unsigned int, unsigned int, unsigned int, unsigned int,
		unsigned int, unsigned int, unsigned int, CUstream, void **, void **);
	CUresult (*cuStreamCreate)(CUstream *, unsigned int);
	CUresult (*cuStreamDestroy)(CUstream);
	CUresult (*cuStreamSynchronize)(CUstream);
	CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned int);
	CUresult (*cuEventCreate)(CUevent *, unsigned int);
	CUresult (*cuEventDestroy)(CUevent);
	CUresult (*cuEventRecord)(CUevent, CUstream);
	CUresult (*cuEventSynchronize)(CUevent);
	CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent);
	CUresult (*cuGetErrorString)(CUresult, const char **);
	nvrtcResult (*nvrtcVersion)(int *, int *);
	nvrtcResult (*nvrtcGetNumSupportedArchs)(int *);
	nvrtcResult (*nvrtcGetSupportedArchs)(int *);
	nvrtcResult (*nvrtcCreateProgram)(nvrtcProgram *, const char *, const char *, int, const char *const *, const char *const *);
	nvrtcResult (*nvrtcCompileProgram)(nvrtcProgram, int, const char *const *);
	nvrtcResult (*nvrtcGetProgramLogSize)(nvrtcProgram, size_t *);
	nvrtcResult (*nvrtcGetProgramLog)(nvrtcProgram, char *);
	nvrtcResult (*nvrtcGetPTXSize)(nvrtcProgram, size_t *);
	nvrtcResult (*nvrtcGetPTX)(nvrtcProgram, char *);
	nvrtcResult (*nvrtcDestroyProgram)(nvrtcProgram *);
	const char *(*nvrtcGetErrorString)(nvrtcResult);
	cublasStatus_t (*ltCreate)(cublasLtHandle_t *);
	cublasStatus_t (*ltDestroy)(cublasLtHandle_t);
	size_t (*ltGetVersion)(void);
	cublasStatus_t (*descCreate)(cublasLtMatmulDesc_t *, int, int);
	cublasStatus_t (*descDestroy)(cublasLtMatmulDesc_t);
	cublasStatus_t (*descSetAttr)(cublasLtMatmulDesc_t, int, const void *, size_t);
	cublasStatus_t (*layoutCreate)(cublasLtMatrixLayout_t *, int, uint64_t, uint64_t, int64_t);
	cublasStatus_t (*layoutDestroy)(cublasLtMatrixLayout_t);
	cublasStatus_t (*layoutSetAttr)(cublasLtMatrixLayout_t, int, const void *, size_t);
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

// crc_cu_string is the driver's own string for a CUresult ("" without one).
static const char *crc_cu_string(int code) {
	const char *s = NULL;
	if (crc.cuGetErrorString != NULL) crc.cuGetErrorString((CUresult)code, &s);
	return s ? s : "";
}

static const char *crc_nvrtc_string(int code) {
	const char *s = crc.nvrtcGetErrorString ? crc.nvrtcGetErrorString(code) : NULL;
	return s ? s : "";
}

// The loaders resolve into crc and restore its previous contents on any
// failure, so a failed attempt never clobbers a library loaded before.
#define CRC_SYM(lib, field, name) do { \
	*(void **)(&crc.field) = dlsym(h, name); \
	if (crc.field == NULL) { snprintf(err, n, "%s lacks %s", libname, name); goto fail; } \
} while (0)

#define CRC_SYM2(lib, field, name, fallback) do { \
	*(void **)(&crc.field) = dlsym(h, name); \
	if (crc.field == NULL) *(void **)(&crc.field) = dlsym(h, fallback); \
	if (crc.field == NULL) { snprintf(err, n, "%s lacks %s", libname, name); goto fail; } \
} while (0)

// crc_load_cuda opens the driver library and initializes the driver; it
// returns 0, -1 with err set, or the failing cuInit's CUresult.
static int crc_load_cuda(const char *libname, char *err, size_t n) {
	__typeof__(crc) saved = crc;
	void *h = dlopen(libname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) { snprintf(err, n, "dlopen %s: %s", libname, dlerror()); return -1; }
	crc.cuda = h;
	CRC_SYM(cuda, cuInit, "cuInit");
	CRC_SYM(cuda, cuDriverGetVersion, "cuDriverGetVersion");
	CRC_SYM(cuda, cuDeviceGetCount, "cuDeviceGetCount");
	CRC_SYM(cuda, cuDeviceGet, "cuDeviceGet");
	CRC_SYM(cuda, cuDeviceGetName, "cuDeviceGetName");
	CRC_SYM2(cuda, cuDeviceGetUuid, "cuDeviceGetUuid_v2", "cuDeviceGetUuid");
	CRC_SYM(cuda, cuDeviceGetAttribute, "cuDeviceGetAttribute");
	CRC_SYM(cuda, cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
	CRC_SYM2(cuda, cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease");
	CRC_SYM(cuda, cuCtxSetCurrent, "cuCtxSetCurrent");
	CRC_SYM(cuda, cuCtxSynchronize, "cuCtxSynchronize");
	CRC_SYM2(cuda, cuMemGetInfo, "cuMemGetInfo_v2", "cuMemGetInfo");
	CRC_SYM2(cuda, cuMemAlloc, "cuMemAlloc_v2", "cuMemAlloc");
	CRC_SYM2(cuda, cuMemFree, "cuMemFree_v2", "cuMemFree");
	CRC_SYM2(cuda, cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", "cuMemcpyHtoDAsync");
	CRC_SYM2(cuda, cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", "cuMemcpyDtoHAsync");
	CRC_SYM(cuda, cuModuleLoadDataEx, "cuModuleLoadDataEx");
	CRC_SYM(cuda, cuModuleGetFunction, "cuModuleGetFunction");
	CRC_SYM(cuda, cuModuleUnload, "cuModuleUnload");
	CRC_SYM(cuda, cuLaunchKernel, "cuLaunchKernel");
	CRC_SYM(cuda, cuStreamCreate, "cuStreamCreate");
	CRC_SYM2(cuda, cuStreamDestroy, "cuStreamDestroy_v2", "cuStreamDestroy");
	CRC_SYM(cuda, cuStreamSynchronize, "cuStreamSynchronize");
	CRC_SYM(cuda, cuStreamWaitEvent, "cuStreamWaitEvent");
	CRC_SYM(cuda, cuEventCreate, "cuEventCreate");
	CRC_SYM2(cuda, cuEventDestroy, "cuEventDestroy_v2", "cuEventDestroy");
	CRC_SYM(cuda, cuEventRecord, "cuEventRecord");
	CRC_SYM(cuda, cuEventSynchronize, "cuEventSynchronize");
	CRC_SYM(cuda, cuEventElapsedTime, "cuEventElapsedTime");
	*(void **)(&crc.cuGetErrorString) = dlsym(crc.cuda, "cuGetErrorString");
	CUresult r = crc.cuInit(0);
	if (r != 0) {
		snprintf(err, n, "%s", crc_cu_string(r));
		dlclose(h);
		crc = saved;
		return r;
	}
	return 0;
fail:
	dlclose(h);
	crc = saved;
	return -1;
}

// crc_load_lt opens cuBLASLt (0, or -1 with err set).
static int crc_load_lt(const char *libname, char *err, size_t n) {
	__typeof__(crc) saved = crc;
	void *h = dlopen(libname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) { snprintf(err, n, "dlopen %s: %s", libname, dlerror()); return -1; }
	crc.lt = h;
	CRC_SYM(lt, ltCreate, "cublasLtCreate");
	CRC_SYM(lt, ltDestroy, "cublasLtDestroy");
	CRC_SYM(lt, ltGetVersion, "cublasLtGetVersion");
	CRC_SYM(lt, descCreate, "cublasLtMatmulDescCreate");
	CRC_SYM(lt, descDestroy, "cublasLtMatmulDescDestroy");
	CRC_SYM(lt, descSetAttr, "cublasLtMatmulDescSetAttribute");
	CRC_SYM(lt, layoutCreate, "cublasLtMatrixLayoutCreate");
	CRC_SYM(lt, layoutDestroy, "cublasLtMatrixLayoutDestroy");
	CRC_SYM(lt, layoutSetAttr, "cublasLtMatrixLayoutSetAttribute");
	CRC_SYM(lt, prefCreate, "cublasLtMatmulPreferenceCreate");
	CRC_SYM(lt, prefDestroy, "cublasLtMatmulPreferenceDestroy");
	CRC_SYM(lt, prefSetAttr, "cublasLtMatmulPreferenceSetAttribute");
	CRC_SYM(lt, heuristic, "cublasLtMatmulAlgoGetHeuristic");
	CRC_SYM(lt, matmul, "cublasLtMatmul");
	return 0;
fail:
	dlclose(h);
	crc = saved;
	return -1;
}

// crc_load_nvrtc opens NVRTC (0, or -1 with err set).
static int crc_load_nvrtc(const char *libname, char *err, size_t n) {
	__typeof__(crc) saved = crc;
	void *h = dlopen(libname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) { snprintf(err, n, "dlopen %s: %s", libname, dlerror()); return -1; }
	crc.nvrtc = h;
	CRC_SYM(nvrtc, nvrtcVersion, "nvrtcVersion");
	CRC_SYM(nvrtc, nvrtcGetNumSupportedArchs, "nvrtcGetNumSupportedArchs");
	CRC_SYM(nvrtc, nvrtcGetSupportedArchs, "nvrtcGetSupportedArchs");
	CRC_SYM(nvrtc, nvrtcCreateProgram, "nvrtcCreateProgram");
	CRC_SYM(nvrtc, nvrtcCompileProgram, "nvrtcCompileProgram");
	CRC_SYM(nvrtc, nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize");
	CRC_SYM(nvrtc, nvrtcGetProgramLog, "nvrtcGetProgramLog");
	CRC_SYM(nvrtc, nvrtcGetPTXSize, "nvrtcGetPTXSize");
	CRC_SYM(nvrtc, nvrtcGetPTX, "nvrtcGetPTX");
	CRC_SYM(nvrtc, nvrtcDestroyProgram, "nvrtcDestroyProgram");
	CRC_SYM(nvrtc, nvrtcGetErrorString, "nvrtcGetErrorString");
	return 0;
fail:
	dlclose(h);
	crc = saved;
	return -1;
}


static int crc_nvrtc_version(void) {
	int major = 0, minor = 0;
	crc.nvrtcVersion(&major, &minor);
	return major * 1000 + minor * 10;
}

// crc_nvrtc_archs writes up to max supported architectures (e.g. 90).
static int crc_nvrtc_archs(int *out, int max) {
	int count = 0;
	if (crc.nvrtcGetNumSupportedArchs(&count) != 0 || count <= 0) return 0;
	int *all = calloc((size_t)count, sizeof(int));
	if (all == NULL) return 0;
	crc.nvrtcGetSupportedArchs(all);
	if (count > max) count = max;
	memcpy(out, all, (size_t)count * sizeof(int));
	free(all);
	return count;
}

// crc_compile compiles src for a virtual architecture with NVRTC. It
// returns 0 and a malloc'd PTX in *ptx, or the nvrtcResult with the
// compiler log (malloc'd, maybe NULL) in *log.
static int crc_compile(const char *src, int arch, char **ptx, char **log) {
	nvrtcProgram prog = NULL;
	*ptx = NULL;
	*log = NULL;
	nvrtcResult r = crc.nvrtcCreateProgram(&prog, src, "kernels.cu", 0, NULL, NULL);
	if (r != 0) return r;
	char archopt[64];
	snprintf(archopt, sizeof archopt, "--gpu-architecture=compute_%d", arch);
	const char *opts[] = {archopt, "--std=c++11"};
	r = crc.nvrtcCompileProgram(prog, 2, opts);
	size_t ls = 0;
	if (crc.nvrtcGetProgramLogSize(prog, &ls) == 0 && ls > 1) {
		*log = calloc(ls + 1, 1);
		if (*log != NULL) crc.nvrtcGetProgramLog(prog, *log);
	}
	if (r == 0) {
		size_t ps = 0;
		r = crc.nvrtcGetPTXSize(prog, &ps);
		if (r == 0) {
			*ptx = calloc(ps + 1, 1);
			r = crc.nvrtcGetPTX(prog, *ptx);
		}
	}
	crc.nvrtcDestroyProgram(&prog);
	return r;
}

static int crc_device_count(int *count) { return crc.cuDeviceGetCount(count); }

static int crc_driver_version(void) {
	int v = 0;
	crc.cuDriverGetVersion(&v);
	return v;
}

static size_t crc_lt_version(void) { return crc.ltGetVersion(); }

// crc_device_info fills a device's UUID, name, compute capability and SM
// count; it returns the failing CUresult or 0.
static int crc_device_info(int ordinal, unsigned char *uuid, char *name, int namelen, int *cc, int *sms) {
	CUdevice dev;
	int major = 0, minor = 0;
	CUresult r = crc.cuDeviceGet(&dev, ordinal);
	if (r == 0) r = crc.cuDeviceGetUuid(uuid, dev);
	if (r == 0) r = crc.cuDeviceGetName(name, namelen, dev);
	if (r == 0) r = crc.cuDeviceGetAttribute(&major, CRC_ATTR_CC_MAJOR, dev);
	if (r == 0) r = crc.cuDeviceGetAttribute(&minor, CRC_ATTR_CC_MINOR, dev);
	if (r == 0) r = crc.cuDeviceGetAttribute(sms, CRC_ATTR_SMS, dev);
	*cc = major * 10 + minor;
	return r;
}

typedef struct {
	uint64_t n, k;
	uint32_t batch;
	cublasLtMatmulDesc_t desc;
	cublasLtMatrixLayout_t la, lb, lc;
	cublasLtMatmulAlgo_t algo;
} crc_plan;

// crc_dev is one device's context, module, streams, events and GEMM plans.
typedef struct {
	CUdevice dev;
	CUcontext ctx;
	int has_ctx;
	CUmodule mod;
	CUfunction fgen, fleaf, fnode, fgather;
	CUstream s[CRC_STREAMS];
	CUevent ev[CRC_MAX_EVENTS];
	int nev;
	cublasLtHandle_t lt;
	CUdeviceptr ws;
	crc_plan plans[CRC_MAX_PLANS];
	int nplans;
} crc_dev;

static void crc_plan_free(crc_plan *p) {
	if (p->la) crc.layoutDestroy(p->la);
	if (p->lb) crc.layoutDestroy(p->lb);
	if (p->lc) crc.layoutDestroy(p->lc);
	if (p->desc) crc.descDestroy(p->desc);
	memset(p, 0, sizeof *p);
}

static void crc_dev_close(crc_dev *d) {
	if (d->has_ctx) {
		crc.cuCtxSetCurrent(d->ctx);
		crc.cuCtxSynchronize();
	}
	for (int i = 0; i < d->nplans; i++) crc_plan_free(&d->plans[i]);
	if (d->lt) crc.ltDestroy(d->lt);
	if (d->ws) crc.cuMemFree(d->ws);
	for (int i = 0; i < d->nev; i++) crc.cuEventDestroy(d->ev[i]);
	for (int i = 0; i < CRC_STREAMS; i++) if (d->s[i]) crc.cuStreamDestroy(d->s[i]);
	if (d->mod) crc.cuModuleUnload(d->mod);
	if (d->has_ctx) crc.cuDevicePrimaryCtxRelease(d->dev);
	free(d);
}

#define CRC_CU(call, what) do { CUresult _r = (call); if (_r != 0) { *code = _r; snprintf(err, n, "%s", what); goto fail; } } while (0)
#define CRC_LT(call, what) do { cublasStatus_t _s = (call); if (_s != 0) { *code = -1; snprintf(err, n, "%s failed with cublasStatus %d", what, _s); goto fail; } } while (0)

// crc_dev_open retains the device's primary context, loads the PTX module
// (the JIT log goes to jitlog), finds the kernels and creates the streams,
// the cuBLASLt handle and its workspace. On failure it returns NULL with
// err naming the failing call and *code its CUresult (-1: not a CUresult).
static crc_dev *crc_dev_open(int ordinal, const char *ptx, char *jitlog, size_t jitn, int *code, char *err, size_t n) {
	crc_dev *d = calloc(1, sizeof(crc_dev));
	*code = -1;
	if (d == NULL) { snprintf(err, n, "out of host memory"); return NULL; }
	CRC_CU(crc.cuDeviceGet(&d->dev, ordinal), "cuDeviceGet");
	CRC_CU(crc.cuDevicePrimaryCtxRetain(&d->ctx, d->dev), "cuDevicePrimaryCtxRetain");
	d->has_ctx = 1;
	CRC_CU(crc.cuCtxSetCurrent(d->ctx), "cuCtxSetCurrent");
	int jopts[2] = {CRC_JIT_ERROR_LOG_BUFFER, CRC_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
	void *jvals[2] = {jitlog, (void *)(uintptr_t)jitn};
	CRC_CU(crc.cuModuleLoadDataEx(&d->mod, ptx, 2, jopts, jvals), "cuModuleLoadDataEx");
	CRC_CU(crc.cuModuleGetFunction(&d->fgen, d->mod, "crc_gen"), "cuModuleGetFunction(crc_gen)");
	CRC_CU(crc.cuModuleGetFunction(&d->fleaf, d->mod, "crc_leaf_reduce"), "cuModuleGetFunction(crc_leaf_reduce)");
	CRC_CU(crc.cuModuleGetFunction(&d->fnode, d->mod, "crc_node_reduce"), "cuModuleGetFunction(crc_node_reduce)");
	CRC_CU(crc.cuModuleGetFunction(&d->fgather, d->mod, "crc_gather"), "cuModuleGetFunction(crc_gather)");
	for (int i = 0; i < CRC_STREAMS; i++) CRC_CU(crc.cuStreamCreate(&d->s[i], CRC_STREAM_NON_BLOCKING), "cuStreamCreate");
	CRC_CU(crc.cuMemAlloc(&d->ws, CRC_WORKSPACE), "cuMemAlloc(cuBLASLt workspace)");
	CRC_LT(crc.ltCreate(&d->lt), "cublasLtCreate");
	return d;
fail:
	crc_dev_close(d);
	return NULL;
}

static int crc_set(crc_dev *d) { return crc.cuCtxSetCurrent(d->ctx); }

static int crc_mem_info(crc_dev *d, size_t *freeb, size_t *total) {
	int r = crc_set(d);
	return r ? r : crc.cuMemGetInfo(freeb, total);
}

static int crc_alloc(crc_dev *d, size_t size, CUdeviceptr *p) {
	int r = crc_set(d);
	return r ? r : crc.cuMemAlloc(p, size);
}

static void crc_free(crc_dev *d, CUdeviceptr p) {
	crc_set(d);
	crc.cuMemFree(p);
}

static int crc_events(crc_dev *d, int want) {
	int r = crc_set(d);
	if (r) return r;
	if (want > CRC_MAX_EVENTS) return 1; // CUDA_ERROR_INVALID_VALUE
	while (d->nev < want) {
		r = crc.cuEventCreate(&d->ev[d->nev], CRC_EVENT_DISABLE_TIMING);
		if (r) return r;
		d->nev++;
	}
	return 0;
}

static int crc_record(crc_dev *d, int s, int e) { int r = crc_set(d); return r ? r : crc.cuEventRecord(d->ev[e], d->s[s]); }
static int crc_wait(crc_dev *d, int s, int e) { int r = crc_set(d); return r ? r : crc.cuStreamWaitEvent(d->s[s], d->ev[e], 0); }
static int crc_event_sync(crc_dev *d, int e) { int r = crc_set(d); return r ? r : crc.cuEventSynchronize(d->ev[e]); }
static int crc_sync(crc_dev *d) { int r = crc_set(d); return r ? r : crc.cuCtxSynchronize(); }

static int crc_htod(crc_dev *d, int s, CUdeviceptr dst, const void *src, size_t size) {
	int r = crc_set(d);
	if (r == 0) r = crc.cuMemcpyHtoDAsync(dst, src, size, d->s[s]);
	if (r == 0) r = crc.cuStreamSynchronize(d->s[s]);
	return r;
}

static int crc_dtoh(crc_dev *d, int s, void *dst, CUdeviceptr src, size_t size) {
	int r = crc_set(d);
	if (r == 0) r = crc.cuMemcpyDtoHAsync(dst, src, size, d->s[s]);
	if (r == 0) r = crc.cuStreamSynchronize(d->s[s]);
	return r;
}

static int crc_launch_gen(crc_dev *d, int s, unsigned gx, unsigned gy, uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3,
		uint32_t u0, uint64_t words, CUdeviceptr a, CUdeviceptr b) {
	void *args[] = {&s0, &s1, &s2, &s3, &u0, &words, &a, &b};
	int r = crc_set(d);
	return r ? r : crc.cuLaunchKernel(d->fgen, gx, gy, 1, 256, 1, 1, 0, d->s[s], args, NULL);
}

static int crc_launch_leaf(crc_dev *d, int s, unsigned gx, unsigned gy, CUdeviceptr c, uint64_t leaves, uint64_t cstride,
		uint32_t levels, CUdeviceptr out, uint64_t ostride) {
	void *args[] = {&c, &leaves, &cstride, &levels, &out, &ostride};
	int r = crc_set(d);
	return r ? r : crc.cuLaunchKernel(d->fleaf, gx, gy, 1, 128, 1, 1, 0, d->s[s], args, NULL);
}

static int crc_launch_node(crc_dev *d, int s, unsigned gx, unsigned gy, CUdeviceptr in, uint64_t count, uint64_t istride,
		uint32_t levels, CUdeviceptr out, uint64_t ostride) {
	void *args[] = {&in, &count, &istride, &levels, &out, &ostride};
	int r = crc_set(d);
	return r ? r : crc.cuLaunchKernel(d->fnode, gx, gy, 1, 256, 1, 1, 0, d->s[s], args, NULL);
}

static int crc_launch_gather(crc_dev *d, int s, unsigned gx, CUdeviceptr c, CUdeviceptr tree, uint64_t leaves, uint32_t depth,
		CUdeviceptr idx, uint32_t cnt, CUdeviceptr out) {
	void *args[] = {&c, &tree, &leaves, &depth, &idx, &cnt, &out};
	int r = crc_set(d);
	return r ? r : crc.cuLaunchKernel(d->fgather, gx, 1, 1, 64, 1, 1, 0, d->s[s], args, NULL);
}

static crc_plan *crc_find_plan(crc_dev *d, uint64_t nn, uint64_t kk, uint32_t batch) {
	for (int i = 0; i < d->nplans; i++) {
		crc_plan *p = &d->plans[i];
		if (p->n == nn && p->k == kk && p->batch == batch) return p;
	}
	return NULL;
}

static int crc_matmul(crc_dev *d, crc_plan *p, const cublasLtMatmulAlgo_t *algo, CUstream st, CUdeviceptr a, CUdeviceptr b, CUdeviceptr c) {
	int32_t alpha = 1, beta = 0;
	return crc.matmul(d->lt, p->desc, &alpha,
		(const void *)(uintptr_t)b, p->la,
		(const void *)(uintptr_t)a, p->lb,
		&beta, (const void *)(uintptr_t)c, p->lc,
		(void *)(uintptr_t)c, p->lc,
		algo, (void *)(uintptr_t)d->ws, CRC_WORKSPACE, st);
}

// crc_gemm_prepare makes the plan for `batch` strided products C_j = A_j *
// B_j^T of row-major nn x kk int8 A_j, B_j and nn x nn int32 C_j.
// cuBLASLt is column-major: the memory of row-major B is the column-major
// kk x nn matrix X, that of A is Y, and that of row-major C is the
// column-major Z = C^T = B * A^T = X^T * Y. So the matmul's first operand is
// B's memory with TRANSA = T, the second A's memory with TRANSB = N (the
// "TN" layout int8 tensor-core kernels need), m = n = nn, k = kk; the leading
// dimensions are the row lengths, the batch strides nn*kk and nn*nn.
// With tune, each of up to 8 heuristic candidates is timed on a, b, c (two
// runs, the second timed) and the fastest is kept; *algos gets the number
// of candidates and *best_ms the kept one's time (0 untimed).
static int crc_gemm_prepare(crc_dev *d, uint64_t nn, uint64_t kk, uint32_t batch, int tune,
		CUdeviceptr a, CUdeviceptr b, CUdeviceptr c, int *algos, float *best_ms, int *code, char *err, size_t n) {
	cublasLtMatmulPreference_t pref = NULL;
	CUevent t0 = NULL, t1 = NULL;
	crc_plan *p = NULL;
	*code = 0;
	*best_ms = 0;
	*algos = 0;
	CRC_CU(crc_set(d), "cuCtxSetCurrent");
	if (crc_find_plan(d, nn, kk, batch) != NULL) return 0;
	if (d->nplans == CRC_MAX_PLANS) { *code = -1; snprintf(err, n, "too many GEMM plans"); return 1; }
	p = &d->plans[d->nplans];
	memset(p, 0, sizeof *p);
	p->n = nn;
	p->k = kk;
	p->batch = batch;
	CRC_LT(crc.descCreate(&p->desc, CRC_CUBLAS_COMPUTE_32I, CRC_CUDA_R_32I), "cublasLtMatmulDescCreate");
	int32_t opT = CRC_CUBLAS_OP_T, opN = CRC_CUBLAS_OP_N;
	CRC_LT(crc.descSetAttr(p->desc, CRC_DESC_TRANSA, &opT, sizeof(opT)), "cublasLtMatmulDescSetAttribute(TRANSA)");
	CRC_LT(crc.descSetAttr(p->desc, CRC_DESC_TRANSB, &opN, sizeof(opN)), "cublasLtMatmulDescSetAttribute(TRANSB)");
	CRC_LT(crc.layoutCreate(&p->la, CRC_CUDA_R_8I, kk, nn, (int64_t)kk), "cublasLtMatrixLayoutCreate(B)");
	CRC_LT(crc.layoutCreate(&p->lb, CRC_CUDA_R_8I, kk, nn, (int64_t)kk), "cublasLtMatrixLayoutCreate(A)");
	CRC_LT(crc.layoutCreate(&p->lc, CRC_CUDA_R_32I, nn, nn, (int64_t)nn), "cublasLtMatrixLayoutCreate(C)");
	if (batch > 1) {
		int32_t bc = (int32_t)batch;
		int64_t sab = (int64_t)(nn * kk), sc = (int64_t)(nn * nn);
		CRC_LT(crc.layoutSetAttr(p->la, CRC_LAYOUT_BATCH_COUNT, &bc, sizeof bc), "cublasLtMatrixLayoutSetAttribute(B batch)");
		CRC_LT(crc.layoutSetAttr(p->lb, CRC_LAYOUT_BATCH_COUNT, &bc, sizeof bc), "cublasLtMatrixLayoutSetAttribute(A batch)");
		CRC_LT(crc.layoutSetAttr(p->lc, CRC_LAYOUT_BATCH_COUNT, &bc, sizeof bc), "cublasLtMatrixLayoutSetAttribute(C batch)");
		CRC_LT(crc.layoutSetAttr(p->la, CRC_LAYOUT_STRIDED_BATCH_OFFSET, &sab, sizeof sab), "cublasLtMatrixLayoutSetAttribute(B stride)");
		CRC_LT(crc.layoutSetAttr(p->lb, CRC_LAYOUT_STRIDED_BATCH_OFFSET, &sab, sizeof sab), "cublasLtMatrixLayoutSetAttribute(A stride)");
		CRC_LT(crc.layoutSetAttr(p->lc, CRC_LAYOUT_STRIDED_BATCH_OFFSET, &sc, sizeof sc), "cublasLtMatrixLayoutSetAttribute(C stride)");
	}
	CRC_LT(crc.prefCreate(&pref), "cublasLtMatmulPreferenceCreate");
	uint64_t ws = CRC_WORKSPACE;
	CRC_LT(crc.prefSetAttr(pref, CRC_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)), "cublasLtMatmulPreferenceSetAttribute");
	cublasLtMatmulHeuristicResult_t res[CRC_ALGOS];
	int got = 0;
	memset(res, 0, sizeof(res));
	CRC_LT(crc.heuristic(d->lt, p->desc, p->la, p->lb, p->lc, p->lc, pref, CRC_ALGOS, res, &got), "cublasLtMatmulAlgoGetHeuristic");
	if (got < 1) {
		*code = -1;
		snprintf(err, n, "cuBLASLt has no int8 algorithm for N=%llu K=%llu batch %u", (unsigned long long)nn, (unsigned long long)kk, batch);
		goto fail;
	}
	*algos = got;
	p->algo = res[0].algo;
	if (tune && got > 1) {
		float best = -1;
		CRC_CU(crc.cuEventCreate(&t0, 0), "cuEventCreate");
		CRC_CU(crc.cuEventCreate(&t1, 0), "cuEventCreate");
		for (int i = 0; i < got; i++) {
			if (crc_matmul(d, p, &res[i].algo, d->s[1], a, b, c) != 0) continue;
			crc.cuEventRecord(t0, d->s[1]);
			if (crc_matmul(d, p, &res[i].algo, d->s[1], a, b, c) != 0) continue;
			crc.cuEventRecord(t1, d->s[1]);
			CRC_CU(crc.cuEventSynchronize(t1), "cuEventSynchronize(tuning)");
			float ms = 0;
			if (crc.cuEventElapsedTime(&ms, t0, t1) == 0 && (best < 0 || ms < best)) {
				best = ms;
				p->algo = res[i].algo;
			}
		}
		if (best > 0) *best_ms = best;
		crc.cuEventDestroy(t0);
		crc.cuEventDestroy(t1);
	}
	crc.prefDestroy(pref);
	d->nplans++;
	return 0;
fail:
	if (t0) crc.cuEventDestroy(t0);
	if (t1) crc.cuEventDestroy(t1);
	if (pref) crc.prefDestroy(pref);
	if (p) crc_plan_free(p);
	return 1;
}

// crc_gemm queues the planned product on stream s: 0, a CUresult, or -2
// (no plan) / -3 - cublasStatus.
static int crc_gemm(crc_dev *d, int s, uint64_t nn, uint64_t kk, uint32_t batch, CUdeviceptr a, CUdeviceptr b, CUdeviceptr c) {
	int r = crc_set(d);
	if (r) return r;
	crc_plan *p = crc_find_plan(d, nn, kk, batch);
	if (p == NULL) return -2;
	int st = crc_matmul(d, p, &p->algo, d->s[s], a, b, c);
	return st ? -3 - st : 0;
}
*/
import "C"

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Library names tried, in order. CUDA_DRIVER_LIBRARY, CUBLASLT_LIBRARY and
// NVRTC_LIBRARY (paths or names) override them.
var (
	cudaDriverNames = []string{"libcuda.so.1"}
	cublasLtNames   = libNames("libcublasLt.so")
	nvrtcNames      = libNames("libnvrtc.so")
)

func libNames(base string) []string {
	var out []string
	for _, v := range []string{"13", "12", "11.2"} {
		out = append(out, base+"."+v)
	}
	for _, dir := range []string{"/usr/local/cuda/lib64/", "/usr/local/cuda/targets/x86_64-linux/lib/", "/usr/local/cuda/targets/sbsa-linux/lib/"} {
		for _, v := range []string{"13", "12"} {
			out = append(out, dir+base+"."+v)
		}
	}
	return out
}

func envNames(env string, names []string) []string {
	if v := os.Getenv(env); v != "" {
		return []string{v}
	}
	return names
}

const errBufLen = 1024

func cerr(buf []C.char) string { return C.GoString(&buf[0]) }

func cuString(code C.int) string { return C.GoString(C.crc_cu_string(code)) }

// cuFail converts a driver call's CUresult (0: nil).
func cuFail(what string, code C.int) error {
	if code == 0 {
		return nil
	}
	return cuError(what, int(code), cuString(code))
}

// cudaLib is the process-wide loaded driver, cuBLASLt and NVRTC (dlopen
// handles are process-wide anyway).
var cudaLib struct {
	once      sync.Once
	err       error
	ltName    string
	driver    int
	ltVersion uint64

	nvrtcOnce    sync.Once
	nvrtcErr     error
	nvrtcName    string
	nvrtcVersion int
	archs        []int

	ptxMu sync.Mutex
	ptx   map[int][]byte
}

// openDriver loads the first driver library of names and initializes it.
func openDriver(names []string) error {
	buf := make([]C.char, errBufLen)
	var reasons []string
	for _, name := range names {
		cs := C.CString(name)
		rc := C.crc_load_cuda(cs, &buf[0], errBufLen)
		C.free(unsafe.Pointer(cs))
		switch {
		case rc == 0:
			return nil
		case rc > 0:
			return fmt.Errorf("cuda driver %s: %w", name, cuError("cuInit", int(rc), cerr(buf)))
		}
		reasons = append(reasons, cerr(buf))
	}
	return fmt.Errorf("%w: cuda driver: %s", ErrUnavailable, strings.Join(reasons, "; "))
}

// openCuBLASLt loads the first cuBLASLt of names.
func openCuBLASLt(names []string) (string, error) {
	buf := make([]C.char, errBufLen)
	var reasons []string
	for _, name := range names {
		cs := C.CString(name)
		rc := C.crc_load_lt(cs, &buf[0], errBufLen)
		C.free(unsafe.Pointer(cs))
		if rc == 0 {
			return name, nil
		}
		reasons = append(reasons, cerr(buf))
	}
	return "", fmt.Errorf("%w: cublasLt: %s", ErrUnavailable, strings.Join(reasons, "; "))
}

// openNVRTC loads the first NVRTC of names.
func openNVRTC(names []string) (string, error) {
	buf := make([]C.char, errBufLen)
	var reasons []string
	for _, name := range names {
		cs := C.CString(name)
		rc := C.crc_load_nvrtc(cs, &buf[0], errBufLen)
		C.free(unsafe.Pointer(cs))
		if rc == 0 {
			return name, nil
		}
		reasons = append(reasons, cerr(buf))
	}
	return "", fmt.Errorf("%w: nvrtc (runtime compiler of the prover's kernels): %s", ErrUnavailable, strings.Join(reasons, "; "))
}

func loadCUDA() error {
	cudaLib.once.Do(func() {
		if err := openDriver(envNames("CUDA_DRIVER_LIBRARY", cudaDriverNames)); err != nil {
			cudaLib.err = err
			return
		}
		cudaLib.driver = int(C.crc_driver_version())
		name, err := openCuBLASLt(envNames("CUBLASLT_LIBRARY", cublasLtNames))
		if err != nil {
			cudaLib.err = err
			return
		}
		cudaLib.ltName, cudaLib.ltVersion = name, uint64(C.crc_lt_version())
	})
	return cudaLib.err
}

func loadNVRTC() error {
	cudaLib.nvrtcOnce.Do(func() {
		name, err := openNVRTC(envNames("NVRTC_LIBRARY", nvrtcNames))
		if err != nil {
			cudaLib.nvrtcErr = err
			return
		}
		cudaLib.nvrtcName, cudaLib.nvrtcVersion = name, int(C.crc_nvrtc_version())
		archs := make([]C.int, 64)
		cnt := int(C.crc_nvrtc_archs(&archs[0], 64))
		for _, a := range archs[:cnt] {
			cudaLib.archs = append(cudaLib.archs, int(a))
		}
	})
	return cudaLib.nvrtcErr
}

// compileSource compiles CUDA C source for a virtual architecture with the
// loaded NVRTC, returning PTX or the error with NVRTC's own error string and
// compiler log.
func compileSource(src string, arch int) ([]byte, error) {
	cs := C.CString(src)
	defer C.free(unsafe.Pointer(cs))
	var ptx, log *C.char
	rc := C.crc_compile(cs, C.int(arch), &ptx, &log)
	defer C.free(unsafe.Pointer(ptx))
	defer C.free(unsafe.Pointer(log))
	if rc != 0 {
		msg := fmt.Sprintf("nvrtc %s compiling the prover's kernels for compute_%d failed with nvrtcResult %d: %s",
			cudaLib.nvrtcName, arch, int(rc), C.GoString(C.crc_nvrtc_string(rc)))
		if log != nil {
			msg += "\n" + strings.TrimSpace(C.GoString(log))
		}
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, msg)
	}
	return []byte(C.GoString(ptx)), nil
}

// kernelPTX compiles kernelSource for arch once per process.
func kernelPTX(arch int) ([]byte, error) {
	cudaLib.ptxMu.Lock()
	defer cudaLib.ptxMu.Unlock()
	if p, ok := cudaLib.ptx[arch]; ok {
		return p, nil
	}
	p, err := compileSource(kernelSource, arch)
	if err != nil {
		return nil, err
	}
	if cudaLib.ptx == nil {
		cudaLib.ptx = map[int][]byte{}
	}
	cudaLib.ptx[arch] = p
	return p, nil
}

// CUDAOptions selects the CUDA device and tunes its prover.
type CUDAOptions struct {
	// Device is a CUDA ordinal ("0", "1", ...) or an NVML-style UUID
	// ("GPU-xxxxxxxx-..."); empty means ordinal 0.
	Device string
	// GPU tunes the device pipeline (batch, memory budget, GEMM tuning).
	GPU GPUOptions
}

// CUDA is the device prover (GPU, pipeline.go) on one CUDA device: the
// kernels of kernels.cu compiled with NVRTC and cuBLASLt's int8 GEMM.
type CUDA struct {
	*GPU
	ordinal int
	name    string
	uuid    string
	cc      int
	sms     int
	arch    int
}

var _ Prover = (*CUDA)(nil)

type cudaDeviceInfo struct {
	ordinal int
	uuid    string
	name    string
	cc, sms int
}

// cudaDevices lists the devices the driver sees.
func cudaDevices() ([]cudaDeviceInfo, error) {
	if err := loadCUDA(); err != nil {
		return nil, err
	}
	var count C.int
	if err := cuFail("cuDeviceGetCount", C.crc_device_count(&count)); err != nil {
		return nil, err
	}
	if count == 0 {
		return nil, fmt.Errorf("%w: the cuda driver sees no GPU", ErrUnavailable)
	}
	var out []cudaDeviceInfo
	for i := range int(count) {
		var uuid [16]C.uchar
		name := make([]C.char, 256)
		var cc, sms C.int
		if err := cuFail("cuDeviceGet/GetUuid/GetName/GetAttribute", C.crc_device_info(C.int(i), &uuid[0], &name[0], 256, &cc, &sms)); err != nil {
			return nil, fmt.Errorf("device %d: %w", i, err)
		}
		var u [16]byte
		for j := range u {
			u[j] = byte(uuid[j])
		}
		out = append(out, cudaDeviceInfo{
			ordinal: i, name: C.GoString(&name[0]), cc: int(cc), sms: int(sms),
			uuid: fmt.Sprintf("GPU-%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]),
		})
	}
	return out, nil
}

// NewCUDA loads the CUDA driver, cuBLASLt and NVRTC, finds the device,
// checks its compute capability, compiles the kernels and loads them on
// it. Every failure wraps ErrUnavailable (ErrDeviceMemory when the device is
// out of memory) with the library's own error string.
func NewCUDA(opts CUDAOptions) (*CUDA, error) {
	devs, err := cudaDevices()
	if err != nil {
		return nil, err
	}
	want := opts.Device
	if want == "" {
		want = "0"
	}
	var ids []string
	for _, d := range devs {
		if want == strconv.Itoa(d.ordinal) || strings.EqualFold(want, d.uuid) {
			return openCUDADevice(d, opts.GPU)
		}
		ids = append(ids, d.uuid)
	}
	return nil, fmt.Errorf("%w: no cuda device %q (have %d: %s)", ErrUnavailable, opts.Device, len(devs), strings.Join(ids, ", "))
}

// NewCUDAFleet opens every CUDA device as one Fleet.
func NewCUDAFleet(opts GPUOptions) (*Fleet, error) {
	devs, err := cudaDevices()
	if err != nil {
		return nil, err
	}
	var members []Prover
	for _, d := range devs {
		c, err := openCUDADevice(d, opts)
		if err != nil {
			for _, m := range members {
				_ = m.(*CUDA).Close()
			}
			return nil, fmt.Errorf("cuda device %d (%s): %w", d.ordinal, d.uuid, err)
		}
		members = append(members, c)
	}
	return NewFleet(members...)
}

func openCUDADevice(d cudaDeviceInfo, opts GPUOptions) (*CUDA, error) {
	if _, err := chooseArch(d.cc, []int{d.cc}); err != nil { // too old, before loading NVRTC
		return nil, fmt.Errorf("cuda device %d (%s): %w", d.ordinal, d.name, err)
	}
	if err := loadNVRTC(); err != nil {
		return nil, err
	}
	arch, err := chooseArch(d.cc, cudaLib.archs)
	if err != nil {
		return nil, fmt.Errorf("cuda device %d (%s): %w", d.ordinal, d.name, err)
	}
	ptx, err := kernelPTX(arch)
	if err != nil {
		return nil, err
	}
	dev, err := newCUDADevice(d, ptx)
	if err != nil {
		return nil, err
	}
	c := &CUDA{ordinal: d.ordinal, name: d.name, uuid: d.uuid, cc: d.cc, sms: d.sms, arch: arch}
	c.GPU = newGPU("cuda", dev, opts)
	dev.desc = c.Device()
	return c, nil
}

// Device describes the device and libraries.
func (c *CUDA) Device() string {
	return fmt.Sprintf("cuda device %d: %s, %s, compute %d.%d, %d SMs (driver %d, %s %d, %s %d.%d compute_%d)",
		c.ordinal, c.name, c.uuid, c.cc/10, c.cc%10, c.sms, cudaLib.driver, cudaLib.ltName, cudaLib.ltVersion,
		cudaLib.nvrtcName, cudaLib.nvrtcVersion/1000, cudaLib.nvrtcVersion%1000/10, c.arch)
}

// cudaDevice implements device (pipeline.go) with the driver API.
type cudaDevice struct {
	d    *C.crc_dev
	desc string
}

func newCUDADevice(info cudaDeviceInfo, ptx []byte) (*cudaDevice, error) {
	buf := make([]C.char, errBufLen)
	jit := make([]C.char, 8192)
	cptx := C.CString(string(ptx))
	defer C.free(unsafe.Pointer(cptx))
	var code C.int
	d := C.crc_dev_open(C.int(info.ordinal), cptx, &jit[0], C.size_t(len(jit)), &code, &buf[0], errBufLen)
	if d == nil {
		what := fmt.Sprintf("cuda device %d: %s", info.ordinal, cerr(buf))
		var err error
		if code > 0 {
			err = cuError(what, int(code), cuString(code))
		} else {
			err = fmt.Errorf("%w: %s", ErrUnavailable, what)
		}
		if j := strings.TrimSpace(cerr(jit)); j != "" {
			err = fmt.Errorf("%w\nJIT log: %s", err, j)
		}
		return nil, err
	}
	return &cudaDevice{d: d, desc: fmt.Sprintf("cuda device %d", info.ordinal)}, nil
}

func (d *cudaDevice) describe() string { return d.desc }

func (d *cudaDevice) memInfo() (uint64, uint64, error) {
	var free, total C.size_t
	if err := cuFail("cuMemGetInfo", C.crc_mem_info(d.d, &free, &total)); err != nil {
		return 0, 0, err
	}
	return uint64(free), uint64(total), nil
}

func (d *cudaDevice) alloc(n uint64) (uint64, error) {
	var p C.CUdeviceptr
	if err := cuFail(fmt.Sprintf("cuMemAlloc(%d MiB)", n>>20), C.crc_alloc(d.d, C.size_t(n), &p)); err != nil {
		return 0, err
	}
	return uint64(p), nil
}

func (d *cudaDevice) free(p uint64) { C.crc_free(d.d, C.CUdeviceptr(p)) }

func (d *cudaDevice) events(n int) error { return cuFail("cuEventCreate", C.crc_events(d.d, C.int(n))) }

func (d *cudaDevice) prepareGemm(n, k uint64, batch uint32, tune bool, a, b, c uint64) error {
	buf := make([]C.char, errBufLen)
	var algos, code C.int
	var ms C.float
	t := C.int(0)
	if tune {
		t = 1
	}
	if C.crc_gemm_prepare(d.d, C.uint64_t(n), C.uint64_t(k), C.uint32_t(batch), t, C.CUdeviceptr(a), C.CUdeviceptr(b), C.CUdeviceptr(c),
		&algos, &ms, &code, &buf[0], errBufLen) != 0 {
		if code > 0 {
			return cuError(cerr(buf), int(code), cuString(code))
		}
		return fmt.Errorf("prover: cuda: %s", cerr(buf))
	}
	return nil
}

func (d *cudaDevice) gemm(s devStream, n, k uint64, batch uint32, a, b, c uint64) error {
	rc := int(C.crc_gemm(d.d, C.int(s), C.uint64_t(n), C.uint64_t(k), C.uint32_t(batch), C.CUdeviceptr(a), C.CUdeviceptr(b), C.CUdeviceptr(c)))
	switch {
	case rc == 0:
		return nil
	case rc == -2:
		return fmt.Errorf("prover: cuda: no GEMM plan for N=%d K=%d batch %d", n, k, batch)
	case rc < -2:
		return fmt.Errorf("prover: cuda: cublasLtMatmul failed with cublasStatus %d", -3-rc)
	}
	return cuFail("cuCtxSetCurrent", C.int(rc))
}

func (d *cudaDevice) launchGen(s devStream, grid dim3, seed [4]uint64, u0 uint32, words, a, b uint64) error {
	return cuFail("cuLaunchKernel("+kernGen+")", C.crc_launch_gen(d.d, C.int(s), C.uint(grid.x), C.uint(grid.y),
		C.uint64_t(seed[0]), C.uint64_t(seed[1]), C.uint64_t(seed[2]), C.uint64_t(seed[3]),
		C.uint32_t(u0), C.uint64_t(words), C.CUdeviceptr(a), C.CUdeviceptr(b)))
}

func (d *cudaDevice) launchLeafReduce(s devStream, grid dim3, c, leaves, cStride uint64, levels uint32, out, outStride uint64) error {
	return cuFail("cuLaunchKernel("+kernLeafReduce+")", C.crc_launch_leaf(d.d, C.int(s), C.uint(grid.x), C.uint(grid.y),
		C.CUdeviceptr(c), C.uint64_t(leaves), C.uint64_t(cStride), C.uint32_t(levels), C.CUdeviceptr(out), C.uint64_t(outStride)))
}

func (d *cudaDevice) launchNodeReduce(s devStream, grid dim3, in, count, inStride uint64, levels uint32, out, outStride uint64) error {
	return cuFail("cuLaunchKernel("+kernNodeReduce+")", C.crc_launch_node(d.d, C.int(s), C.uint(grid.x), C.uint(grid.y),
		C.CUdeviceptr(in), C.uint64_t(count), C.uint64_t(inStride), C.uint32_t(levels), C.CUdeviceptr(out), C.uint64_t(outStride)))
}

func (d *cudaDevice) launchGather(s devStream, grid dim3, c, tree, leaves uint64, depth uint32, idx uint64, n uint32, out uint64) error {
	return cuFail("cuLaunchKernel("+kernGather+")", C.crc_launch_gather(d.d, C.int(s), C.uint(grid.x),
		C.CUdeviceptr(c), C.CUdeviceptr(tree), C.uint64_t(leaves), C.uint32_t(depth), C.CUdeviceptr(idx), C.uint32_t(n), C.CUdeviceptr(out)))
}

func (d *cudaDevice) htod(s devStream, dst uint64, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	return cuFail("cuMemcpyHtoDAsync", C.crc_htod(d.d, C.int(s), C.CUdeviceptr(dst), unsafe.Pointer(&src[0]), C.size_t(len(src))))
}

func (d *cudaDevice) dtoh(s devStream, dst []byte, src uint64) error {
	if len(dst) == 0 {
		return nil
	}
	return cuFail("cuMemcpyDtoHAsync", C.crc_dtoh(d.d, C.int(s), unsafe.Pointer(&dst[0]), C.CUdeviceptr(src), C.size_t(len(dst))))
}

func (d *cudaDevice) record(s devStream, e int) error {
	return cuFail("cuEventRecord", C.crc_record(d.d, C.int(s), C.int(e)))
}

func (d *cudaDevice) wait(s devStream, e int) error {
	return cuFail("cuStreamWaitEvent", C.crc_wait(d.d, C.int(s), C.int(e)))
}

func (d *cudaDevice) syncEvent(e int) error {
	return cuFail("cuEventSynchronize", C.crc_event_sync(d.d, C.int(e)))
}

func (d *cudaDevice) syncAll() error { return cuFail("cuCtxSynchronize", C.crc_sync(d.d)) }

func (d *cudaDevice) close() error {
	if d.d != nil {
		C.crc_dev_close(d.d)
		d.d = nil
	}
	return nil
}
