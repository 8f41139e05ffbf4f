// Crucible proof-of-compute kernels (sidecar/prover/kernels.cu).
//
// Embedded in the sidecar binary (go:embed), compiled at run time with NVRTC
// and loaded with cuModuleLoadData; nothing here is needed to build the
// binary. Every kernel has a Go twin in kernels.go that follows the same
// thread/block decomposition as loops; the twins are tested bit for bit
// against x/attest/poc and its golden vectors (kernels_test.go), so a change
// here must be mirrored there.
//
// No headers: NVRTC compiles this without the CUDA include tree.
//
// Hashes are kept on the device as the eight SHA-256 state words (crc_hash);
// the digest bytes are those words big-endian, so the zero hash is all-zero
// words and the host converts with one byte swap per word.

typedef unsigned int u32;
typedef unsigned long long u64;

typedef struct {
	u32 w[8];
} crc_hash;

// The SplitMix64 constants of x/attest/poc (gen.go).
#define CRC_GOLDEN 0x9E3779B97F4A7C15ULL
#define CRC_MUL1 0xBF58476D1CE4E5B9ULL
#define CRC_MUL2 0x94D049BB133111EBULL

// Launch shapes (kernels.go: leafBlock, leafPad, nodeBlock).
#define CRC_LEAF_BLOCK 128
#define CRC_LEAF_LOG 7
#define CRC_LEAF_PAD 65
#define CRC_NODE_BLOCK 256
#define CRC_NODE_LOG 8

__device__ __forceinline__ u64 crc_mix64(u64 z) {
	z ^= z >> 30;
	z *= CRC_MUL1;
	z ^= z >> 27;
	z *= CRC_MUL2;
	z ^= z >> 31;
	return z;
}

// poc.StreamKey: the seed as four little-endian words s0..s3.
__device__ __forceinline__ u64 crc_stream_key(u64 s0, u64 s1, u64 s2, u64 s3, u32 tag, u32 unit) {
	u64 h = crc_mix64(s0 ^ CRC_GOLDEN);
	h = crc_mix64(h ^ s1);
	h = crc_mix64(h ^ s2);
	h = crc_mix64(h ^ s3);
	return crc_mix64(h ^ (((u64)tag << 32) | (u64)unit));
}

// crc_gen writes A_u and B_u for the g units u0..u0+g-1: grid (x, 2g),
// blockIdx.y = 2j + tag is matrix (tag, u0+j), stored at (tag ? b : a) +
// j*words. Each matrix is `words` = N*K/8 stream words; word w is
// Mix64(key + (w+1)*gamma), stored little-endian, so byte e of the buffer is
// element e (row-major) of the N x K int8 matrix, as poc.GenMatrix.
// Grid-stride loop over w.
extern "C" __global__ void crc_gen(u64 s0, u64 s1, u64 s2, u64 s3, u32 u0, u64 words, u64 *a, u64 *b) {
	u32 j = blockIdx.y >> 1;
	u32 tag = blockIdx.y & 1;
	u64 key = crc_stream_key(s0, s1, s2, s3, tag, u0 + j);
	u64 *dst = (tag ? b : a) + (u64)j * words;
	u64 stride = (u64)gridDim.x * blockDim.x;
	for (u64 w = (u64)blockIdx.x * blockDim.x + threadIdx.x; w < words; w += stride) {
		dst[w] = crc_mix64(key + (w + 1) * CRC_GOLDEN);
	}
}

__constant__ u32 crc_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

__device__ __forceinline__ u32 crc_rotr(u32 x, u32 n) { return (x >> n) | (x << (32 - n)); }

__device__ __forceinline__ void crc_sha256_init(u32 st[8]) {
	st[0] = 0x6a09e667; st[1] = 0xbb67ae85; st[2] = 0x3c6ef372; st[3] = 0xa54ff53a;
	st[4] = 0x510e527f; st[5] = 0x9b05688c; st[6] = 0x1f83d9ab; st[7] = 0x5be0cd19;
}

// One SHA-256 compression of the 16 big-endian message words m into st
// (FIPS 180-4, with the 16-word rolling message schedule).
__device__ void crc_sha256_block(u32 st[8], u32 m[16]) {
	u32 a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
#pragma unroll
	for (u32 i = 0; i < 64; i++) {
		u32 wi;
		if (i < 16) {
			wi = m[i];
		} else {
			u32 w15 = m[(i - 15) & 15], w2 = m[(i - 2) & 15];
			u32 s0 = crc_rotr(w15, 7) ^ crc_rotr(w15, 18) ^ (w15 >> 3);
			u32 s1 = crc_rotr(w2, 17) ^ crc_rotr(w2, 19) ^ (w2 >> 10);
			wi = m[i & 15] + s0 + m[(i - 7) & 15] + s1;
			m[i & 15] = wi;
		}
		u32 t1 = h + (crc_rotr(e, 6) ^ crc_rotr(e, 11) ^ crc_rotr(e, 25)) + ((e & f) ^ (~e & g)) + crc_k[i] + wi;
		u32 t2 = (crc_rotr(a, 2) ^ crc_rotr(a, 13) ^ crc_rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
	}
	st[0] += a; st[1] += b; st[2] += c; st[3] += d;
	st[4] += e; st[5] += f; st[6] += g; st[7] += h;
}

// Leaf hash SHA256(0x00 || v[0..63] little-endian), 257 bytes in 5 blocks.
// Message word i (bytes 4i..4i+3) is the top byte of v[i-1] (the prefix 0x00
// for i = 0) followed by the low three bytes of v[i] in memory order; word 64
// is the top byte of v[63], then the 0x80 pad byte; word 79 is the bit
// length 2056.
__device__ void crc_leaf_hash(const u32 *v, crc_hash *out) {
	u32 st[8], m[16];
	crc_sha256_init(st);
	u32 prev = 0x00;
	for (u32 blk = 0; blk < 4; blk++) {
#pragma unroll
		for (u32 i = 0; i < 16; i++) {
			u32 x = v[16 * blk + i];
			m[i] = (prev << 24) | ((x & 0xff) << 16) | (x & 0xff00) | ((x >> 16) & 0xff);
			prev = x >> 24;
		}
		crc_sha256_block(st, m);
	}
	m[0] = (prev << 24) | 0x00800000u;
#pragma unroll
	for (u32 i = 1; i < 15; i++) m[i] = 0;
	m[15] = 257 * 8;
	crc_sha256_block(st, m);
#pragma unroll
	for (u32 i = 0; i < 8; i++) out->w[i] = st[i];
}

// Node hash SHA256(0x01 || L || R), 65 bytes in 2 blocks; the digest bytes
// of L and R are their state words big-endian.
__device__ void crc_node_hash(const crc_hash *l, const crc_hash *r, crc_hash *out) {
	u32 st[8], m[16];
	crc_sha256_init(st);
	u32 prev = 0x01;
#pragma unroll
	for (u32 i = 0; i < 8; i++) {
		u32 x = l->w[i];
		m[i] = (prev << 24) | (x >> 8);
		prev = x & 0xff;
	}
#pragma unroll
	for (u32 i = 0; i < 8; i++) {
		u32 x = r->w[i];
		m[8 + i] = (prev << 24) | (x >> 8);
		prev = x & 0xff;
	}
	crc_sha256_block(st, m);
	m[0] = (prev << 24) | 0x00800000u;
#pragma unroll
	for (u32 i = 1; i < 15; i++) m[i] = 0;
	m[15] = 65 * 8;
	crc_sha256_block(st, m);
#pragma unroll
	for (u32 i = 0; i < 8; i++) out->w[i] = st[i];
}

__device__ __forceinline__ void crc_zero(crc_hash *h) {
#pragma unroll
	for (u32 i = 0; i < 8; i++) h->w[i] = 0;
}

// crc_block_reduce: h[0..width) holds nodes first..first+width-1 of a tree
// level of `count` nodes (zero hashes beyond count); first is a multiple of
// width = blockDim.x. It reduces `levels` (<= log2 width) levels in shared
// memory, level l holding ceil(count / 2^l) nodes: node i is
// NodeHash(left, right) with right the zero hash when 2i+1 is past the end
// of level l-1 (poc's odd-level rule); slots past the end stay zero and are
// never hashed. Then it writes the nodes of level `levels` that exist to
// out[global index].
__device__ void crc_block_reduce(crc_hash *h, u64 first, u64 count, u32 levels, crc_hash *out) {
	u32 t = threadIdx.x;
	for (u32 l = 1; l <= levels; l++) {
		__syncthreads();
		u32 width = blockDim.x >> l;
		u64 below = (count + (1ull << (l - 1)) - 1) >> (l - 1); // nodes of level l-1
		u64 here = (count + (1ull << l) - 1) >> l;              // nodes of level l
		crc_hash r;
		crc_zero(&r);
		if (t < width) {
			u64 gi = (first >> l) + t;
			if (gi < here) {
				crc_hash z;
				crc_zero(&z);
				crc_node_hash(&h[2 * t], 2 * gi + 1 < below ? &h[2 * t + 1] : &z, &r);
			}
		}
		__syncthreads();
		if (t < width) h[t] = r;
	}
	__syncthreads();
	u32 width = blockDim.x >> levels;
	u64 here = (count + (1ull << levels) - 1) >> levels;
	if (t < width) {
		u64 gi = (first >> levels) + t;
		if (gi < here) out[gi] = h[t];
	}
}

// crc_leaf_reduce hashes the leaves of g units and reduces `levels` tree
// levels: grid (ceil(leaves/128), g), block 128. Unit j = blockIdx.y reads
// its C (N*N int32, row-major; leaf i = words 64i..64i+63) at c + j*c_stride
// and writes level `levels` of its tree at out + j*out_stride. The block
// stages its 128 leaves in shared memory with coalesced loads (row pitch 65
// words: conflict-free), then thread t hashes leaf first+t.
extern "C" __global__ void __launch_bounds__(CRC_LEAF_BLOCK)
crc_leaf_reduce(const u32 *c, u64 leaves, u64 c_stride, u32 levels, crc_hash *out, u64 out_stride) {
	__shared__ u32 vals[CRC_LEAF_BLOCK * CRC_LEAF_PAD];
	__shared__ crc_hash h[CRC_LEAF_BLOCK];
	const u32 *cu = c + (u64)blockIdx.y * c_stride;
	u64 first = (u64)blockIdx.x * CRC_LEAF_BLOCK;
	for (u32 i = threadIdx.x; i < CRC_LEAF_BLOCK * 64; i += CRC_LEAF_BLOCK) {
		u64 leaf = first + i / 64;
		vals[(i / 64) * CRC_LEAF_PAD + i % 64] = leaf < leaves ? cu[first * 64 + i] : 0;
	}
	__syncthreads();
	if (first + threadIdx.x < leaves) {
		crc_leaf_hash(&vals[threadIdx.x * CRC_LEAF_PAD], &h[threadIdx.x]);
	} else {
		crc_zero(&h[threadIdx.x]);
	}
	crc_block_reduce(h, first, leaves, levels, out + (u64)blockIdx.y * out_stride);
}

// crc_node_reduce reduces `levels` levels of g trees: grid
// (ceil(count/256), g), block 256; tree j = blockIdx.y reads a level of
// `count` nodes at in + j*in_stride and writes level `levels` above it at
// out + j*out_stride.
extern "C" __global__ void __launch_bounds__(CRC_NODE_BLOCK)
crc_node_reduce(const crc_hash *in, u64 count, u64 in_stride, u32 levels, crc_hash *out, u64 out_stride) {
	__shared__ crc_hash h[CRC_NODE_BLOCK];
	const crc_hash *iu = in + (u64)blockIdx.y * in_stride;
	u64 first = (u64)blockIdx.x * CRC_NODE_BLOCK;
	u64 g = first + threadIdx.x;
	if (g < count) {
		h[threadIdx.x] = iu[g];
	} else {
		crc_zero(&h[threadIdx.x]);
	}
	crc_block_reduce(h, first, count, levels, out + (u64)blockIdx.y * out_stride);
}

// crc_gather copies, for each of n sampled leaves idx[s], the 64 leaf values
// and the `depth` sibling hashes of its path in a unit tree stored level
// after level in `tree` (level 0: the `leaves` leaf hashes; level l+1 has
// ceil(count_l / 2) nodes), to out + s*(64 + 8*depth) words. A sibling past
// the end of its level is the zero hash. One thread per sample.
extern "C" __global__ void crc_gather(const u32 *c, const crc_hash *tree, u64 leaves, u32 depth, const u64 *idx, u32 n, u32 *out) {
	u32 s = blockIdx.x * blockDim.x + threadIdx.x;
	if (s >= n) return;
	u64 li = idx[s];
	u32 *o = out + (u64)s * (64 + 8 * depth);
	for (u32 j = 0; j < 64; j++) o[j] = c[li * 64 + j];
	u64 off = 0, cnt = leaves, i = li;
	for (u32 l = 0; l < depth; l++) {
		u64 sib = i ^ 1;
		for (u32 w = 0; w < 8; w++) o[64 + 8 * l + w] = sib < cnt ? tree[off + sib].w[w] : 0;
		off += cnt;
		cnt = (cnt + 1) >> 1;
		i >>= 1;
	}
}
