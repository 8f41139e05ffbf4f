package types_test

import (
	"bytes"
	"net/url"
	"os"
	"strings"
	"testing"

	"cosmossdk.io/math"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/testutil/fuzzcorpus"
	"github.com/crucible-network/crucible/x/provider/types"
)

type fuzzMsg interface {
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
	ValidateBasic() error
}

// newFuzzMsg returns an empty message of the kind picked by k.
func newFuzzMsg(k uint8) fuzzMsg {
	switch k % 6 {
	case 0:
		return &types.MsgRegisterProvider{}
	case 1:
		return &types.MsgUpdateProvider{}
	case 2:
		return &types.MsgDeregisterProvider{}
	case 3:
		return &types.MsgUnjailProvider{}
	case 4:
		return &types.MsgAddBond{}
	default:
		return &types.MsgUpdateParams{}
	}
}

var fuzzAC = addresscodec.NewBech32Codec("cru")

func signerOf(m fuzzMsg) string {
	switch m := m.(type) {
	case *types.MsgRegisterProvider:
		return m.Owner
	case *types.MsgUpdateProvider:
		return m.Owner
	case *types.MsgDeregisterProvider:
		return m.Owner
	case *types.MsgUnjailProvider:
		return m.Owner
	case *types.MsgAddBond:
		return m.Owner
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

func printable(s string, spaces bool) bool {
	for _, c := range []byte(s) {
		if (c == ' ' && !spaces) || (c != ' ' && (c < 0x21 || c > 0x7e)) {
			return false
		}
	}
	return true
}

func assertPositive(t *testing.T, what string, c sdk.Coin) {
	t.Helper()
	if c.Amount.IsNil() || !c.Amount.IsPositive() || sdk.ValidateDenom(c.Denom) != nil || c.Amount.BigInt().BitLen() > math.MaxBitLen {
		t.Fatalf("%s %v accepted", what, c)
	}
}

// assertDescription checks the fields shared by register and update.
func assertDescription(t *testing.T, host, region, tier string, attrs []types.Attribute, gpus []types.GPU) {
	t.Helper()
	u, err := url.Parse(host)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil ||
		len(host) > types.MaxHostURILength || !printable(host, false) {
		t.Fatalf("host uri %q accepted", host)
	}
	if len(region) > types.MaxRegionLength || len(tier) > types.MaxTierLength || !printable(region, false) || !printable(tier, false) {
		t.Fatalf("region %q / tier %q accepted", region, tier)
	}
	if len(attrs) > int(types.MaxAttributesLimit) || len(gpus) > int(types.MaxGPUsLimit) {
		t.Fatalf("%d attributes / %d gpus accepted", len(attrs), len(gpus))
	}
	keys := map[string]bool{}
	for _, a := range attrs {
		if a.Key == "" || keys[a.Key] || len(a.Key) > types.MaxAttributeKeyLength || len(a.Value) > types.MaxAttributeValueLength ||
			!printable(a.Key, false) || !printable(a.Value, true) {
			t.Fatalf("attribute %q=%q accepted", a.Key, a.Value)
		}
		keys[a.Key] = true
	}
	uuids := map[string]bool{}
	for _, g := range gpus {
		if g.Uuid == "" || uuids[g.Uuid] || len(g.Uuid) > types.MaxGPUUUIDLength || !printable(g.Uuid, false) {
			t.Fatalf("gpu uuid %q accepted", g.Uuid)
		}
		uuids[g.Uuid] = true
		if g.Model == "" || len(g.Model) > types.MaxGPUModelLength || g.Class == "" || len(g.Class) > types.MaxGPUClassLength ||
			!printable(g.Class, false) || !printable(g.Model, true) || g.MemoryMib == 0 || g.VerifiedHeight < 0 {
			t.Fatalf("gpu %+v accepted", g)
		}
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
		s := signerOf(m)
		if a, err := fuzzAC.StringToBytes(s); err != nil || len(a) == 0 || !strings.HasPrefix(strings.ToLower(s), "cru1") {
			t.Fatalf("signer %q accepted", s)
		}
		switch m := m.(type) {
		case *types.MsgRegisterProvider:
			assertDescription(t, m.HostUri, m.Region, m.Tier, m.Attributes, m.Gpus)
			assertPositive(t, "bond", m.Bond)
			for _, g := range m.Gpus {
				if g.VerifiedHeight != 0 {
					t.Fatalf("register with verified_height %d accepted", g.VerifiedHeight)
				}
			}
		case *types.MsgUpdateProvider:
			assertDescription(t, m.HostUri, m.Region, m.Tier, m.Attributes, m.Gpus)
		case *types.MsgAddBond:
			assertPositive(t, "amount", m.Amount)
		case *types.MsgUpdateParams:
			if m.Params.Validate() != nil {
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
// by: CRUCIBLE_WRITE_FUZZ_CORPUS=1 go test -run TestWriteFuzzCorpus ./x/provider/types/
func fuzzSeeds(t testing.TB) map[string][]any {
	enc := func(m fuzzMsg) []byte {
		bz, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return bz
	}
	owner, err := fuzzAC.BytesToString([]byte("provider_a__________"))
	if err != nil {
		t.Fatal(err)
	}
	gpus := []types.GPU{
		{Uuid: "GPU-A0", Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559},
		{Uuid: "GPU-A1", Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559},
	}
	reg := &types.MsgRegisterProvider{
		Owner: owner, HostUri: "https://gpu.example.com:8443", Region: "eu-west", Tier: "datacenter",
		Attributes: []types.Attribute{{Key: "cc", Value: "on"}}, Gpus: gpus, Bond: types.DefaultMinBond(),
	}
	upd := &types.MsgUpdateProvider{Owner: owner, HostUri: "http://10.0.0.1", Region: "us", Gpus: gpus[:1]}
	userinfo := *reg
	userinfo.HostUri = "https://user:pw@gpu.example.com"
	verified := *reg
	verified.Gpus = []types.GPU{{Uuid: "GPU-A0", Model: "m", Class: "h100", MemoryMib: 1, VerifiedHeight: 5}}
	dup := *upd
	dup.Gpus = []types.GPU{gpus[0], gpus[0]}
	badParams := types.DefaultParams()
	badParams.MaxGpus = 0
	return map[string][]any{
		"valid_register":          {uint8(0), enc(reg)},
		"valid_update":            {uint8(1), enc(upd)},
		"valid_deregister":        {uint8(2), enc(&types.MsgDeregisterProvider{Owner: owner})},
		"valid_unjail":            {uint8(3), enc(&types.MsgUnjailProvider{Owner: owner})},
		"valid_add_bond":          {uint8(4), enc(&types.MsgAddBond{Owner: owner, Amount: sdk.NewInt64Coin("ucru", 1)})},
		"valid_update_params":     {uint8(5), enc(&types.MsgUpdateParams{Authority: owner, Params: types.DefaultParams()})},
		"invalid_userinfo":        {uint8(0), enc(&userinfo)},
		"invalid_verified_height": {uint8(0), enc(&verified)},
		"invalid_dup_gpu":         {uint8(1), enc(&dup)},
		"invalid_cosmos_prefix":   {uint8(2), enc(&types.MsgDeregisterProvider{Owner: "cosmos1w3jhxapdv9jkgh6lta047h6lta047h6ljn32fp"})},
		"invalid_zero_bond":       {uint8(4), enc(&types.MsgAddBond{Owner: owner, Amount: sdk.NewInt64Coin("ucru", 0)})},
		"invalid_params":          {uint8(5), enc(&types.MsgUpdateParams{Authority: owner, Params: badParams})},
		"invalid_truncated":       {uint8(0), enc(reg)[:60]},
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
