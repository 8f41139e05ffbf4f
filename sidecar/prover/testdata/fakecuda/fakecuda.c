// fakecuda.c: stand-ins for libcuda.so.1, libcublasLt.so and libnvrtc.so,
// built by cuda_fake_test.go into one shared library, so the loader and the
// cgo device path are exercised without a GPU. Device memory is host memory;
// kernels and GEMMs do nothing. Behaviour comes from the environment, read
// at each call:
//   FAKE_CU_INIT=n            cuInit returns CUresult n
//   FAKE_CU_COUNT=n           devices (default 1)
//   FAKE_CU_CC=nn             compute capability, e.g. 70 (default 90)
//   FAKE_CU_FREE_MIB=n        free device memory (default 81000)
//   FAKE_CU_ALLOC_OK=n        cuMemAlloc succeeds n times, then out of memory
//   FAKE_CU_MODULE_ERR=n      cuModuleLoadDataEx returns n and fills the JIT log
//   FAKE_CU_LAUNCH_ERR=n      cuLaunchKernel returns n
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int env(const char *name, int def) {
	const char *v = getenv(name);
	return v && *v ? atoi(v) : def;
}

typedef unsigned long long CUdeviceptr;
static int allocs;

int cuInit(unsigned f) { (void)f; allocs = 0; return env("FAKE_CU_INIT", 0); }
int cuDriverGetVersion(int *v) { *v = 12040; return 0; }
int cuDeviceGetCount(int *c) { *c = env("FAKE_CU_COUNT", 1); return 0; }
int cuDeviceGet(int *d, int o) { *d = o; return o < env("FAKE_CU_COUNT", 1) ? 0 : 101; }
int cuDeviceGetName(char *n, int len, int d) { snprintf(n, (size_t)len, "Fake H100 %d", d); return 0; }
int cuDeviceGetUuid_v2(unsigned char *u, int d) { memset(u, 0, 16); u[15] = (unsigned char)d; return 0; }
int cuDeviceGetAttribute(int *v, int attr, int d) {
	(void)d;
	int cc = env("FAKE_CU_CC", 90);
	switch (attr) {
	case 75: *v = cc / 10; return 0;
	case 76: *v = cc % 10; return 0;
	case 16: *v = 132; return 0;
	}
	return 1;
}
int cuDevicePrimaryCtxRetain(void **c, int d) { *c = (void *)(uintptr_t)(d + 1); return 0; }
int cuDevicePrimaryCtxRelease_v2(int d) { (void)d; return 0; }
int cuCtxSetCurrent(void *c) { (void)c; return 0; }
int cuCtxSynchronize(void) { return 0; }
int cuMemGetInfo_v2(size_t *f, size_t *t) {
	*f = (size_t)env("FAKE_CU_FREE_MIB", 81000) << 20;
	*t = (size_t)81559 << 20;
	return 0;
}
int cuMemAlloc_v2(CUdeviceptr *p, size_t n) {
	if (allocs >= env("FAKE_CU_ALLOC_OK", 1 << 30)) return 2;
	if (n > ((size_t)4 << 30)) return 2; // keep the host safe
	void *m = calloc(1, n);
	if (m == NULL) return 2;
	allocs++;
	*p = (CUdeviceptr)(uintptr_t)m;
	return 0;
}
int cuMemFree_v2(CUdeviceptr p) { free((void *)(uintptr_t)p); return 0; }
int cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *s, size_t n, void *st) { (void)st; memcpy((void *)(uintptr_t)d, s, n); return 0; }
int cuMemcpyDtoHAsync_v2(void *d, CUdeviceptr s, size_t n, void *st) { (void)st; memcpy(d, (void *)(uintptr_t)s, n); return 0; }
int cuModuleLoadDataEx(void **m, const void *img, unsigned n, int *opts, void **vals) {
	(void)img;
	int e = env("FAKE_CU_MODULE_ERR", 0);
	if (e) {
		for (unsigned i = 0; i < n; i++) {
			if (opts[i] == 5) snprintf((char *)vals[i], 64, "ptxas fatal: fake JIT failure");
		}
		return e;
	}
	*m = (void *)1;
	return 0;
}
int cuModuleGetFunction(void **f, void *m, const char *name) { (void)m; *f = (void *)name; return 0; }
int cuModuleUnload(void *m) { (void)m; return 0; }
int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
		unsigned sm, void *st, void **args, void **extra) {
	(void)f; (void)gx; (void)gy; (void)gz; (void)bx; (void)by; (void)bz; (void)sm; (void)st; (void)args; (void)extra;
	return env("FAKE_CU_LAUNCH_ERR", 0);
}
int cuStreamCreate(void **s, unsigned f) { (void)f; *s = (void *)1; return 0; }
int cuStreamDestroy_v2(void *s) { (void)s; return 0; }
int cuStreamSynchronize(void *s) { (void)s; return 0; }
int cuStreamWaitEvent(void *s, void *e, unsigned f) { (void)s; (void)e; (void)f; return 0; }
int cuEventCreate(void **e, unsigned f) { (void)f; *e = (void *)1; return 0; }
int cuEventDestroy_v2(void *e) { (void)e; return 0; }
int cuEventRecord(void *e, void *s) { (void)e; (void)s; return 0; }
int cuEventSynchronize(void *e) { (void)e; return 0; }
int cuEventElapsedTime(float *ms, void *a, void *b) { (void)a; (void)b; *ms = 1; return 0; }
int cuGetErrorString(int code, const char **s) {
	switch (code) {
	case 2: *s = "out of memory"; return 0;
	case 100: *s = "no CUDA-capable device is detected"; return 0;
	case 222: *s = "the provided PTX was compiled with an unsupported toolchain."; return 0;
	case 700: *s = "an illegal memory access was encountered"; return 0;
	}
	*s = NULL;
	return 1;
}

// cuBLASLt
int cublasLtCreate(void **h) { *h = (void *)1; return 0; }
int cublasLtDestroy(void *h) { (void)h; return 0; }
size_t cublasLtGetVersion(void) { return 120400; }
int cublasLtMatmulDescCreate(void **d, int c, int s) { (void)c; (void)s; *d = (void *)1; return 0; }
int cublasLtMatmulDescDestroy(void *d) { (void)d; return 0; }
int cublasLtMatmulDescSetAttribute(void *d, int a, const void *v, size_t n) { (void)d; (void)a; (void)v; (void)n; return 0; }
int cublasLtMatrixLayoutCreate(void **l, int t, uint64_t r, uint64_t c, int64_t ld) { (void)t; (void)r; (void)c; (void)ld; *l = (void *)1; return 0; }
int cublasLtMatrixLayoutDestroy(void *l) { (void)l; return 0; }
int cublasLtMatrixLayoutSetAttribute(void *l, int a, const void *v, size_t n) { (void)l; (void)a; (void)v; (void)n; return 0; }
int cublasLtMatmulPreferenceCreate(void **p) { *p = (void *)1; return 0; }
int cublasLtMatmulPreferenceDestroy(void *p) { (void)p; return 0; }
int cublasLtMatmulPreferenceSetAttribute(void *p, int a, const void *v, size_t n) { (void)p; (void)a; (void)v; (void)n; return 0; }
int cublasLtMatmulAlgoGetHeuristic(void *h, void *d, void *a, void *b, void *c, void *dd, void *p, int req, void *res, int *got) {
	(void)h; (void)d; (void)a; (void)b; (void)c; (void)dd; (void)p; (void)req; (void)res;
	*got = 1;
	return 0;
}
int cublasLtMatmul(void *h, void *d, const void *al, const void *a, void *la, const void *b, void *lb, const void *be,
		const void *c, void *lc, void *dd, void *ld, const void *algo, void *ws, size_t wss, void *st) {
	(void)h; (void)d; (void)al; (void)a; (void)la; (void)b; (void)lb; (void)be; (void)c; (void)lc; (void)dd; (void)ld;
	(void)algo; (void)ws; (void)wss; (void)st;
	return 0;
}

// NVRTC
int nvrtcVersion(int *a, int *b) { *a = 12; *b = 4; return 0; }
int nvrtcGetNumSupportedArchs(int *n) { *n = 3; return 0; }
int nvrtcGetSupportedArchs(int *a) { a[0] = 75; a[1] = 80; a[2] = 90; return 0; }
int nvrtcCreateProgram(void **p, const char *src, const char *name, int n, const char *const *h, const char *const *i) {
	(void)src; (void)name; (void)n; (void)h; (void)i;
	*p = (void *)1;
	return 0;
}
int nvrtcCompileProgram(void *p, int n, const char *const *o) { (void)p; (void)n; (void)o; return 0; }
int nvrtcGetProgramLogSize(void *p, size_t *n) { (void)p; *n = 1; return 0; }
int nvrtcGetProgramLog(void *p, char *l) { (void)p; l[0] = 0; return 0; }
int nvrtcGetPTXSize(void *p, size_t *n) { (void)p; *n = 9; return 0; }
int nvrtcGetPTX(void *p, char *s) { (void)p; memcpy(s, "fake ptx", 9); return 0; }
int nvrtcDestroyProgram(void **p) { *p = NULL; return 0; }
const char *nvrtcGetErrorString(int r) { return r ? "NVRTC_ERROR_FAKE" : "NVRTC_SUCCESS"; }
