// Package poc is the proof-of-compute core shared by the chain's x/attest
// module (the verifier) and the GPU sidecar (the prover). It is pure Go, uses
// only the standard library (crypto/sha256, encoding/binary), no cgo and no
// floating point; the verifier path starts no goroutines and is
// deterministic.
//
// # Protocol
//
// A challenge to GPU g of provider p at height h has the seed
//
//	seed = DeriveSeed(SeedInput{chain id, h, header hash(h), provider address bytes, g [, lease id]})
//
// (SHA256 under the domain "crucible/attest/v1", length-prefixed fields). The
// work is M units; unit u is the exact integer product
//
//	C_u = A_u * B_u^T      A_u, B_u: N x K int8,  C_u: N x N int32
//
// exact for K <= 65536 (|sum| <= 128*128*65536 = 2^30). A_u and B_u come
// from a counter-based generator (see StreamKey, StreamWord, GenRow): element
// e = row*K + col of matrix (tag, u) is byte e%8 of Mix64(key + (e/8+1)*gamma),
// the SplitMix64 output function, with key derived from (seed, tag, u). Only
// uint64 arithmetic, full-range int8 values, and any row of A_u or B_u can be
// regenerated alone; entry C_u[i][j] is row i of A_u dotted with row j of B_u.
//
// Commitment: C_u is cut into leaves of 64 consecutive int32 entries of one
// row (little-endian, leaf index i*(N/64) + j/64); leaf hash SHA256(0x00 ||
// 256 bytes), node hash SHA256(0x01 || left || right). Each unit has a root
// over its N*N/64 leaves; the instance root is a tree over the M unit roots.
// A level with an odd count pairs its last hash with the zero hash, i.e. an
// empty subtree hashes to [32]byte{} (see MerkleRoot); with N and M powers of
// two there is no padding. The prover commits the instance root.
//
// Sampling: after the commit, sampleSeed = SampleSeed(root, header hash of
// the next block), and SamplePositions draws Params.Samples distinct
// positions (unit, row, col) by unbiased rejection sampling from SHA256 of
// (sampleSeed || counter), with a fixed iteration bound.
//
// Reveal: for each sampled position, in order, an Opening: the position, its
// 64-value leaf (the opened value is Leaf[col%64]), the path to the unit
// root and the path from the unit root to the instance root. Reveal and
// Opening have a strict, canonical binary encoding (MarshalBinary,
// UnmarshalBinary); every valid reveal under params p is exactly
// RevealSize(p) bytes, so the chain can charge gas and reject by size before
// decoding. Decoding rejects truncated, trailing, oversized or wrong-version
// input with errors wrapping ErrMalformed or ErrTooLarge.
//
// Verification (VerifyReveal, VerifyOpening): count, then positions, then
// Merkle paths, then values: per opening one dot product of length K
// computed straight from the generator (Entry) and UnitDepth+InstanceDepth+1
// hashes; nothing depends on N or M. Each failure wraps a distinct sentinel
// (ErrCountMismatch, ErrWrongPosition, ErrBadPath, ErrWrongValue, ...), which
// the chain maps to registered errors. ErrWrongValue with a valid path is
// objective proof of fraud: an honest prover can never fail, because integer
// arithmetic is exact and identical on CPU and GPU.
//
// The CPU reference prover (Prover) computes every unit (goroutines across
// units; results do not depend on their number), keeps only the unit roots,
// and recomputes the sampled units when opening. MatMulABt is its
// single-threaded kernel: SWAR, three rows of B packed in 21-bit lanes of an
// int64, three multiply-adds per 64-bit multiplication.
//
// # Sizes
//
// TestParams: N = K = 256, M = 4, k = 16 (67 M multiply-adds).
// ProductionParams (H100 class): N = 4096, K = 65536, M = 8192, k = 32:
// 9.0e15 multiply-adds (1.8e16 int8 ops), about 20 s at the ~876 int8 TOPS cuBLASLt sustains on
// an H100, far beyond any CPU. A production reveal is 32 openings of
// 1,263 bytes (paths of 18 and 13 hashes): 40,419 bytes; verifying it costs
// 32 dot products of length 65536 plus about 1,000 SHA256 calls, a few ms on
// one core.
//
// Skipping a fraction e of the work (garbage in the skipped units, honestly
// committed) passes with probability about (1-e)^k: with k = 32, 96.6% of
// cheaters are caught at e = 10% (TestSkippedWorkDetectionRate measures it).
// A single wrong entry is caught only when it is sampled (probability about
// k/(M*N*N)); such small errors are the target of off-chain fraud proofs
// (anyone holding a whole unit can find a bad entry with Freivalds' check and
// open it with VerifyOpening).
//
// # Honest limits
//
// It proves that someone computed the sampled fraction of the product
// within the deadline, not that the provider owns the GPU (compute can be
// rented or relayed for the window), not the GPU model (H100, H200 and H800
// have the same compute), not memory size, and not that a tenant's own job
// ran correctly. GPU classes are defined by measured throughput, not names.
// The proposer of the block after the commit chooses the header hash that
// seeds the sample; colluding with the prover it could grind the sample (a
// threshold beacon or vote extensions would remove that). Only the seed is
// cryptographic; the generator is a statistical mixer, chosen to have no
// algebraic shortcut for A*B^T, not a cryptographic PRF. Streams of
// different (tag, unit) are shifts of one SplitMix64 sequence started at
// random 64-bit keys; for production sizes the chance that two of them
// overlap is about 2^-10 per instance, which gives the prover no known
// shortcut. The CPU prover is a reference for tests and golden vectors
// (testdata/golden.json), which a GPU prover must reproduce bit for bit.
package poc
