package poc

import (
	"crypto/sha256"
	"encoding/binary"
)

// SeedDomain is the domain-separation prefix of DeriveSeed.
const SeedDomain = "crucible/attest/v1"

// SampleDomain is the domain-separation prefix of SampleSeed.
const SampleDomain = "crucible/attest/v1/sample"

// SeedInput holds what a challenge seed is derived from.
type SeedInput struct {
	// ChainID is the chain id (e.g. "crucible-1").
	ChainID string
	// Height is the challenge height h.
	Height int64
	// HeaderHash is the header hash of block h.
	HeaderHash []byte
	// Provider is the provider's account address bytes (not bech32).
	Provider []byte
	// GPUIndex is the index of the challenged GPU in the provider's inventory.
	GPUIndex uint32
	// HasLease says whether LeaseID is part of the seed (a challenge bound to
	// a lease); when false LeaseID is ignored.
	HasLease bool
	// LeaseID is the lease id, used only when HasLease is true.
	LeaseID uint64
}

// DeriveSeed derives the per-challenge seed:
//
//	SHA256("crucible/attest/v1"   ||
//	       u32be(len(ChainID))    || ChainID ||
//	       u64be(Height)          ||
//	       u32be(len(HeaderHash)) || HeaderHash ||
//	       u32be(len(Provider))   || Provider ||
//	       u32be(GPUIndex)
//	       [|| u64be(LeaseID)  when HasLease])
//
// The length prefixes make the encoding injective (the optional lease id is
// the only fixed-size suffix, so presence is told apart by length). The
// provider is part of the seed, so one provider's answer is worthless for
// another.
func DeriveSeed(in SeedInput) [32]byte {
	h := sha256.New()
	var b [8]byte
	h.Write([]byte(SeedDomain))
	writeLenPrefixed(h, []byte(in.ChainID))
	binary.BigEndian.PutUint64(b[:], uint64(in.Height))
	h.Write(b[:8])
	writeLenPrefixed(h, in.HeaderHash)
	writeLenPrefixed(h, in.Provider)
	binary.BigEndian.PutUint32(b[:4], in.GPUIndex)
	h.Write(b[:4])
	if in.HasLease {
		binary.BigEndian.PutUint64(b[:], in.LeaseID)
		h.Write(b[:8])
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// SampleSeed derives the sampling seed from the committed instance root and
// the header hash of the block after the commit:
//
//	SHA256("crucible/attest/v1/sample" || root || u32be(len(blockHash)) || blockHash)
func SampleSeed(root [32]byte, blockHash []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(SampleDomain))
	h.Write(root[:])
	writeLenPrefixed(h, blockHash)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

type byteWriter interface{ Write([]byte) (int, error) }

func writeLenPrefixed(h byteWriter, b []byte) {
	var l [4]byte
	// Lengths above 2^32-1 cannot occur for the inputs used here (chain ids,
	// hashes, addresses); truncating would still be deterministic.
	binary.BigEndian.PutUint32(l[:], uint32(len(b)))
	h.Write(l[:])
	h.Write(b)
}
