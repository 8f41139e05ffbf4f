package types_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"

	"github.com/crucible-network/crucible/testutil/fuzzcorpus"
	"github.com/crucible-network/crucible/x/attest/poc"
	"github.com/crucible-network/crucible/x/attest/types"
)

type fuzzMsg interface {
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
	ValidateBasic() error
}

// newFuzzMsg returns an empty message of the kind picked by k.
func newFuzzMsg(k uint8) fuzzMsg {
	switch k % 3 {
	case 0:
		return &types.MsgCommitProof{}
	case 1:
		return &types.MsgRevealProof{}
	default:
		return &types.MsgUpdateParams{}
	}
}

var fuzzAC = addresscodec.NewBech32Codec("cru")

func signerOf(m fuzzMsg) string {
	switch m := m.(type) {
	case *types.MsgCommitProof:
		return m.Provider
	case *types.MsgRevealProof:
		return m.Provider
	case *types.MsgUpdateParams:
		return m.Authority
	}
	panic("unknown message")
}

// checkMsg runs what the msg server runs before it touches state:
// ValidateBasic, then the signer decoded with the "cru" codec.
func checkMsg(m fuzzMsg) error {
	if err := m.ValidateBasic(); err != nil {
		return err
	}
	_, err := fuzzAC.StringToBytes(signerOf(m))
	return err
}

// FuzzMsgs decodes arbitrary bytes as the message kind picked by kind, runs
// the msg server's stateless checks and, for an accepted message, asserts the
// invariants the keeper relies on and that the encoding round-trips.
func FuzzMsgs(f *testing.F) {
	f.Fuzz(func(t *testing.T, kind uint8, bz []byte) {
		m := newFuzzMsg(kind)
		if err := m.Unmarshal(bz); err != nil {
			return
		}
		if checkMsg(m) != nil {
			return
		}
		s := signerOf(m)
		if a, err := fuzzAC.StringToBytes(s); err != nil || len(a) == 0 || !strings.HasPrefix(strings.ToLower(s), "cru1") {
			t.Fatalf("signer %q accepted", s)
		}
		switch m := m.(type) {
		case *types.MsgCommitProof:
			if m.ChallengeId == 0 || len(m.Root) != types.RootLen {
				t.Fatalf("commit %d with a %d-byte root accepted", m.ChallengeId, len(m.Root))
			}
		case *types.MsgRevealProof:
			if m.ChallengeId == 0 || len(m.Reveal) == 0 || len(m.Reveal) > poc.MaxRevealSize {
				t.Fatalf("reveal %d of %d bytes accepted", m.ChallengeId, len(m.Reveal))
			}
		case *types.MsgUpdateParams:
			p := m.Params
			if p.CommitDeadlineBps < types.MinCommitDeadlineBps || p.CommitDeadlineBps >= types.MaxCommitDeadlineBps || p.ChallengeRateBps > types.BasisPoints ||
				p.FraudSlashBps > types.BasisPoints || p.MaxMissed == 0 || len(p.ClassSizes) > types.MaxClassSizes {
				t.Fatalf("params %+v accepted", p)
			}
			seen := map[string]bool{}
			for _, cs := range p.ClassSizes {
				if cs.Class == "" || seen[cs.Class] {
					t.Fatalf("class size %q accepted (empty or duplicate)", cs.Class)
				}
				if p.CommitDeadlineMs(cs)+p.RevealWindowMs >= p.WindowMs {
					t.Fatalf("class %q: deadline + reveal window %d >= window %d accepted", cs.Class, p.CommitDeadlineMs(cs)+p.RevealWindowMs, p.WindowMs)
				}
				seen[cs.Class] = true
			}
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("marshal accepted message: %v", err)
		}
		m2 := newFuzzMsg(kind)
		if err := m2.Unmarshal(out); err != nil {
			t.Fatalf("unmarshal re-encoded message: %v", err)
		}
		out2, err := m2.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("encoding not stable: %x vs %x (%v)", out, out2, err)
		}
		if err := checkMsg(m2); err != nil {
			t.Fatalf("round-tripped message refused: %v", err)
		}
	})
}

// Seed corpus. The files under testdata/fuzz/FuzzMsgs are written from these
// by: CRUCIBLE_WRITE_FUZZ_CORPUS=1 go test -run TestWriteFuzzCorpus ./x/attest/types/
func fuzzSeeds(t testing.TB) map[string][]any {
	enc := func(m fuzzMsg) []byte {
		bz, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return bz
	}
	prov, err := fuzzAC.BytesToString([]byte("provider_a__________"))
	if err != nil {
		t.Fatal(err)
	}
	root := bytes.Repeat([]byte{0xab}, types.RootLen)
	badParams := types.DefaultParams()
	badParams.MaxMissed = 0
	return map[string][]any{
		"valid_commit":          {uint8(0), enc(&types.MsgCommitProof{Provider: prov, ChallengeId: 1, Root: root})},
		"valid_reveal":          {uint8(1), enc(&types.MsgRevealProof{Provider: prov, ChallengeId: 1, Reveal: []byte{poc.RevealVersion, 0, 0, 0, 0}})},
		"valid_update_params":   {uint8(2), enc(&types.MsgUpdateParams{Authority: prov, Params: types.DefaultParams()})},
		"invalid_short_root":    {uint8(0), enc(&types.MsgCommitProof{Provider: prov, ChallengeId: 1, Root: root[:31]})},
		"invalid_zero_id":       {uint8(1), enc(&types.MsgRevealProof{Provider: prov, Reveal: []byte{1}})},
		"invalid_empty_reveal":  {uint8(1), enc(&types.MsgRevealProof{Provider: prov, ChallengeId: 1})},
		"invalid_cosmos_prefix": {uint8(0), enc(&types.MsgCommitProof{Provider: "cosmos1w3jhxapdv9jkgh6lta047h6lta047h6ljn32fp", ChallengeId: 1, Root: root})},
		"invalid_params":        {uint8(2), enc(&types.MsgUpdateParams{Authority: prov, Params: badParams})},
		"invalid_truncated":     {uint8(2), enc(&types.MsgUpdateParams{Authority: prov, Params: types.DefaultParams()})[:70]},
	}
}

func TestFuzzSeeds(t *testing.T) {
	for name, args := range fuzzSeeds(t) {
		m := newFuzzMsg(args[0].(uint8))
		err := m.Unmarshal(args[1].([]byte))
		if err == nil {
			err = checkMsg(m)
		}
		if strings.HasPrefix(name, "valid_") != (err == nil) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("CRUCIBLE_WRITE_FUZZ_CORPUS") == "" {
		t.Skip("set CRUCIBLE_WRITE_FUZZ_CORPUS=1 to rewrite testdata/fuzz/FuzzMsgs")
	}
	fuzzcorpus.Write(t, "FuzzMsgs", fuzzSeeds(t))
}
