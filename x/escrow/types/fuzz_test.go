package types_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"cosmossdk.io/math"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/testutil/fuzzcorpus"
	"github.com/crucible-network/crucible/x/escrow/types"
)

type fuzzMsg interface {
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}

// newFuzzMsg returns an empty message of the kind picked by k.
func newFuzzMsg(k uint8) fuzzMsg {
	switch k % 3 {
	case 0:
		return &types.MsgDeposit{}
	case 1:
		return &types.MsgWithdraw{}
	default:
		return &types.MsgUpdateParams{}
	}
}

var fuzzAC = addresscodec.NewBech32Codec("cru")

// checkMsg runs the stateless checks the msg server runs.
func checkMsg(m any) error {
	switch m := m.(type) {
	case *types.MsgDeposit:
		return m.Validate(fuzzAC)
	case *types.MsgWithdraw:
		return m.Validate(fuzzAC)
	case *types.MsgUpdateParams:
		return m.Validate(fuzzAC)
	}
	panic("unknown message")
}

func assertSigner(t *testing.T, s string) {
	t.Helper()
	bz, err := fuzzAC.StringToBytes(s)
	if err != nil || len(bz) == 0 || !strings.HasPrefix(strings.ToLower(s), "cru1") {
		t.Fatalf("address %q accepted: %x %v", s, bz, err)
	}
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
		switch m := m.(type) {
		case *types.MsgDeposit:
			assertSigner(t, m.Depositor)
			if m.Amount.Amount.IsNil() || !m.Amount.Amount.IsPositive() || sdk.ValidateDenom(m.Amount.Denom) != nil ||
				m.Amount.Amount.BigInt().BitLen() > math.MaxBitLen || !sdk.NewCoins(m.Amount).IsValid() {
				t.Fatalf("deposit amount %v accepted", m.Amount)
			}
		case *types.MsgWithdraw:
			assertSigner(t, m.Provider)
		case *types.MsgUpdateParams:
			assertSigner(t, m.Authority)
			if m.Params.TakeRateBps > types.MaxTakeRateBps || m.Params.MaxSettlementsPerBlock == 0 {
				t.Fatalf("params %+v accepted", m.Params)
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
// by: CRUCIBLE_WRITE_FUZZ_CORPUS=1 go test -run TestWriteFuzzCorpus ./x/escrow/types/
func fuzzSeeds(t testing.TB) map[string][]any {
	enc := func(m interface{ Marshal() ([]byte, error) }) []byte {
		bz, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return bz
	}
	addr, err := fuzzAC.BytesToString([]byte("tenant_a____________"))
	if err != nil {
		t.Fatal(err)
	}
	coin := func(n int64) sdk.Coin { return sdk.NewInt64Coin("ucru", n) }
	badParams := types.DefaultParams()
	badParams.TakeRateBps = types.MaxTakeRateBps + 1
	return map[string][]any{
		"valid_deposit":         {uint8(0), enc(&types.MsgDeposit{Depositor: addr, Id: 1, Amount: coin(1000)})},
		"valid_withdraw":        {uint8(1), enc(&types.MsgWithdraw{Provider: addr, Id: 1})},
		"valid_update_params":   {uint8(2), enc(&types.MsgUpdateParams{Authority: addr, Params: types.DefaultParams()})},
		"invalid_zero_deposit":  {uint8(0), enc(&types.MsgDeposit{Depositor: addr, Id: 1, Amount: coin(0)})},
		"invalid_bad_denom":     {uint8(0), enc(&types.MsgDeposit{Depositor: addr, Id: 1, Amount: sdk.Coin{Denom: "1x", Amount: math.NewInt(5)}})},
		"invalid_cosmos_prefix": {uint8(1), enc(&types.MsgWithdraw{Provider: "cosmos1w3jhxapdv9jkgh6lta047h6lta047h6ljn32fp", Id: 1})},
		"invalid_take_rate":     {uint8(2), enc(&types.MsgUpdateParams{Authority: addr, Params: badParams})},
		"invalid_negative":      {uint8(0), append(enc(&types.MsgDeposit{Depositor: addr, Id: 1}), 0x1a, 0x0a, 0x0a, 0x04, 'u', 'c', 'r', 'u', 0x12, 0x02, '-', '5')},
		"invalid_truncated":     {uint8(0), enc(&types.MsgDeposit{Depositor: addr, Id: 1, Amount: coin(1000)})[:20]},
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
