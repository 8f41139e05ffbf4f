package types

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// ScheduleDomain is the domain-separation prefix of ScheduleDraw.
const ScheduleDomain = "crucible/attest/schedule"

// ScheduleDraw is the random draw that decides whether GPU gpuIndex of a
// provider is challenged in the window whose start block has header hash
// windowHash:
//
//	uint64be(SHA256("crucible/attest/schedule" || u32be(len(windowHash)) || windowHash ||
//	                u32be(len(provider)) || provider || u32be(gpuIndex))[0:8])
//
// provider is the account address bytes. A sidecar can compute it to learn its
// challenges as soon as the window's block is known.
func ScheduleDraw(windowHash, provider []byte, gpuIndex uint32) uint64 {
	h := sha256.New()
	var b [4]byte
	h.Write([]byte(ScheduleDomain))
	binary.BigEndian.PutUint32(b[:], uint32(len(windowHash)))
	h.Write(b[:])
	h.Write(windowHash)
	binary.BigEndian.PutUint32(b[:], uint32(len(provider)))
	h.Write(b[:])
	h.Write(provider)
	binary.BigEndian.PutUint32(b[:], gpuIndex)
	h.Write(b[:])
	var sum [32]byte
	h.Sum(sum[:0])
	return binary.BigEndian.Uint64(sum[:8])
}

// ProviderDrawIndex is the gpuIndex argument of the one ScheduleDraw made
// per provider and window: a provider is drawn as a whole, and every one of
// its GPUs is then challenged in the same block with the same deadline (a
// per-GPU draw would let one real GPU answer for several claimed ones in
// turn).
const ProviderDrawIndex uint32 = 0xFFFFFFFF

// IsChallenged reports whether a provider is drawn in the window whose start
// block has header hash windowHash:
// ScheduleDraw(windowHash, provider, ProviderDrawIndex) % 10000 < rateBps.
// The modulo bias (2^64 mod 10000 over 2^64) is below 10^-15.
func IsChallenged(rateBps uint32, windowHash, provider []byte) bool {
	if rateBps == 0 {
		return false
	}
	return ScheduleDraw(windowHash, provider, ProviderDrawIndex)%BasisPoints < uint64(rateBps)
}

// ChallengeSeed is the instance seed of GPU gpuIndex of provider in the window
// starting at windowHeight: poc.DeriveSeed without a lease.
func ChallengeSeed(chainID string, windowHeight int64, windowHash, provider []byte, gpuIndex uint32) [32]byte {
	return poc.DeriveSeed(poc.SeedInput{
		ChainID:    chainID,
		Height:     windowHeight,
		HeaderHash: windowHash,
		Provider:   provider,
		GPUIndex:   gpuIndex,
	})
}
