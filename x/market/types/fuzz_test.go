package types_test

import (
	"bytes"
	"crypto/sha256"
	"os"
	"strings"
	"testing"

	"cosmossdk.io/math"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/testutil/fuzzcorpus"
	"github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// fuzzMsg is a message the fuzzer decodes from bytes and re-encodes.
type fuzzMsg interface {
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}

// newFuzzMsg returns an empty message of the kind picked by k.
func newFuzzMsg(k uint8) fuzzMsg {
	switch k % 8 {
	case 0:
		return &types.MsgCreateOrder{}
	case 1:
		return &types.MsgCancelOrder{}
	case 2:
		return &types.MsgCreateBid{}
	case 3:
		return &types.MsgCloseBid{}
	case 4:
		return &types.MsgCreateLease{}
	case 5:
		return &types.MsgCloseLease{}
	case 6:
		return &types.MsgSubmitResult{}
	default:
		return &types.MsgUpdateParams{}
	}
}

var fuzzAC = addresscodec.NewBech32Codec("cru")

// checkMsg runs what the msg server runs before it touches state: the signer
// decoded with the "cru" codec, then the stateless Validate with params.
func checkMsg(m fuzzMsg, p types.Params) error {
	signer := ""
	var err error
	switch m := m.(type) {
	case *types.MsgCreateOrder:
		signer, err = m.Tenant, m.Validate(p)
	case *types.MsgCancelOrder:
		signer, err = m.Tenant, m.Validate()
	case *types.MsgCreateBid:
		signer, err = m.Provider, m.Validate(p)
	case *types.MsgCloseBid:
		signer, err = m.Provider, m.Validate()
	case *types.MsgCreateLease:
		signer, err = m.Tenant, m.Validate()
	case *types.MsgCloseLease:
		signer, err = m.Sender, m.Validate()
	case *types.MsgSubmitResult:
		signer, err = m.Provider, m.Validate(p)
	case *types.MsgUpdateParams:
		signer, err = m.Authority, m.Params.Validate()
	}
	if err != nil {
		return err
	}
	_, err = fuzzAC.StringToBytes(signer)
	return err
}

// FuzzMsgs decodes arbitrary bytes as the message kind picked by kind, runs
// the msg server's stateless checks and, for an accepted message, asserts the
// invariants the keeper relies on and that the encoding round-trips.
func FuzzMsgs(f *testing.F) {
	p := types.DefaultParams()
	f.Fuzz(func(t *testing.T, kind uint8, bz []byte) {
		m := newFuzzMsg(kind)
		if err := m.Unmarshal(bz); err != nil {
			return
		}
		if checkMsg(m, p) != nil {
			return
		}
		assertAccepted(t, m, p)

		// Round trip: re-encoding is stable and the copy is accepted too.
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
		if err := checkMsg(m2, p); err != nil {
			t.Fatalf("round-tripped message refused: %v", err)
		}
	})
}

func assertPositive(t *testing.T, what string, c sdk.Coin) {
	t.Helper()
	if c.Amount.IsNil() || !c.Amount.IsPositive() || sdk.ValidateDenom(c.Denom) != nil {
		t.Fatalf("%s accepted but not a valid positive coin: %v", what, c)
	}
	if c.Amount.BigInt().BitLen() > math.MaxBitLen {
		t.Fatalf("%s accepted beyond 256 bits", what)
	}
}

func assertLen(t *testing.T, what, s string, p types.Params) {
	t.Helper()
	if uint64(len(s)) > uint64(p.MaxStringLen) {
		t.Fatalf("%s accepted with %d bytes > %d", what, len(s), p.MaxStringLen)
	}
}

// assertAccepted checks concrete properties of an accepted message.
func assertAccepted(t *testing.T, m fuzzMsg, p types.Params) {
	t.Helper()
	signer := func(s string) {
		bz, err := fuzzAC.StringToBytes(s)
		if err != nil || len(bz) == 0 || !strings.HasPrefix(strings.ToLower(s), "cru1") {
			t.Fatalf("signer %q accepted: %x %v", s, bz, err)
		}
	}
	switch m := m.(type) {
	case *types.MsgCreateOrder:
		signer(m.Tenant)
		assertPositive(t, "deposit", m.Deposit)
		assertPositive(t, "max price", m.MaxPricePerBlock)
		if m.Deposit.Denom != p.MinOrderDeposit.Denom || m.MaxPricePerBlock.Denom != m.Deposit.Denom || m.Deposit.Amount.LT(p.MinOrderDeposit.Amount) {
			t.Fatalf("deposit %v / price %v accepted", m.Deposit, m.MaxPricePerBlock)
		}
		if m.DurationBlocks == 0 || m.DurationBlocks > p.MaxLeaseBlocks || m.DurationBlocks > types.MaxBlocksParam {
			t.Fatalf("duration %d accepted", m.DurationBlocks)
		}
		s := m.Spec
		if len(s.ManifestHash) != types.HashLen || s.Gpu.Count == 0 || s.Gpu.Count > types.MaxGPUCount ||
			(s.Gpu.Class == "" && s.Gpu.Model == "") || s.MinReputation < 0 || s.MinReputation > types.MaxReputation ||
			len(s.Attributes) > types.MaxOrderAttributes {
			t.Fatalf("spec accepted: %+v", s)
		}
		for _, str := range []string{s.Gpu.Class, s.Gpu.Model, s.Region, s.Tier} {
			assertLen(t, "spec string", str, p)
		}
		keys := map[string]bool{}
		for _, a := range s.Attributes {
			if a.Key == "" || keys[a.Key] {
				t.Fatalf("attribute key %q accepted (empty or duplicate)", a.Key)
			}
			keys[a.Key] = true
			assertLen(t, "attribute key", a.Key, p)
			assertLen(t, "attribute value", a.Value, p)
		}
	case *types.MsgCancelOrder:
		signer(m.Tenant)
		if m.OrderId == 0 {
			t.Fatal("order id 0 accepted")
		}
	case *types.MsgCreateBid:
		signer(m.Provider)
		assertPositive(t, "price", m.Price)
		assertPositive(t, "deposit", m.Deposit)
		if m.OrderId == 0 || m.Deposit.Denom != p.MinBidDeposit.Denom || m.Deposit.Amount.LT(p.MinBidDeposit.Amount) {
			t.Fatalf("bid accepted: order %d deposit %v", m.OrderId, m.Deposit)
		}
		if len(m.GpuUuids) == 0 || len(m.GpuUuids) > types.MaxGPUCount {
			t.Fatalf("%d uuids accepted", len(m.GpuUuids))
		}
		seen := map[string]bool{}
		for _, u := range m.GpuUuids {
			if u == "" || seen[u] {
				t.Fatalf("uuid %q accepted (empty or duplicate)", u)
			}
			seen[u] = true
			assertLen(t, "uuid", u, p)
		}
	case *types.MsgCloseBid:
		signer(m.Provider)
		if m.BidId == 0 {
			t.Fatal("bid id 0 accepted")
		}
	case *types.MsgCreateLease:
		signer(m.Tenant)
		if m.BidId == 0 {
			t.Fatal("bid id 0 accepted")
		}
	case *types.MsgCloseLease:
		signer(m.Sender)
		if m.LeaseId == 0 {
			t.Fatal("lease id 0 accepted")
		}
	case *types.MsgSubmitResult:
		signer(m.Provider)
		if m.LeaseId == 0 || len(m.ResultHash) != types.HashLen || bytes.Equal(m.ResultHash, make([]byte, types.HashLen)) ||
			m.Location == "" || len(m.ManifestHash) != types.HashLen {
			t.Fatalf("result accepted: %+v", m)
		}
		assertLen(t, "location", m.Location, p)
	case *types.MsgUpdateParams:
		signer(m.Authority)
		q := m.Params
		assertPositive(t, "min bid deposit", q.MinBidDeposit)
		assertPositive(t, "min order deposit", q.MinOrderDeposit)
		if q.MaxBidsPerOrder == 0 || q.OrderTtlBlocks == 0 || q.OrderTtlBlocks > types.MaxBlocksParam ||
			q.MaxLeaseBlocks == 0 || q.MaxLeaseBlocks > types.MaxBlocksParam || q.MaxExpiriesPerBlock == 0 || q.MaxStringLen == 0 {
			t.Fatalf("params accepted: %+v", q)
		}
	}
}

// Seed corpus. The files under testdata/fuzz/FuzzMsgs are written from these
// by: CRUCIBLE_WRITE_FUZZ_CORPUS=1 go test -run TestWriteFuzzCorpus ./x/market/types/
func fuzzSeeds(t testing.TB) map[string][]any {
	enc := func(m fuzzMsg) []byte {
		bz, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return bz
	}
	addr := func(s string) string {
		a, err := fuzzAC.BytesToString([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	tenant, prov := addr("tenant_a____________"), addr("provider_a__________")
	hash := sha256.Sum256([]byte("job manifest"))
	coin := func(n int64) sdk.Coin { return sdk.NewInt64Coin(types.DefaultDenom, n) }
	order := &types.MsgCreateOrder{
		Tenant: tenant,
		Spec: types.OrderSpec{
			Gpu:           types.GPUSpec{Class: "h100", Count: 2, MinMemoryMib: 80_000},
			Region:        "eu-west",
			Tier:          "datacenter",
			MinReputation: 1000,
			Attributes:    []providertypes.Attribute{{Key: "cc", Value: "on"}},
			ManifestHash:  hash[:],
		},
		MaxPricePerBlock: coin(100),
		DurationBlocks:   50,
		Deposit:          coin(2_000_000),
	}
	bid := &types.MsgCreateBid{Provider: prov, OrderId: 1, Price: coin(90), Deposit: coin(500_000), GpuUuids: []string{"GPU-A0", "GPU-A1"}}
	result := &types.MsgSubmitResult{Provider: prov, LeaseId: 1, ResultHash: hash[:], Location: "s3://bucket/out", ManifestHash: hash[:]}

	badOrder := *order
	badOrder.Deposit = coin(999_999) // below the minimum
	cosmosOrder := *order
	cosmosOrder.Tenant = "cosmos1w3jhxapdv9jkgh6lta047h6lta047h6ljn32fp" // wrong prefix
	dupBid := *bid
	dupBid.GpuUuids = []string{"GPU-A0", "GPU-A0"}
	zeroResult := *result
	zeroResult.ResultHash = make([]byte, types.HashLen)
	badParams := &types.MsgUpdateParams{Authority: tenant, Params: types.DefaultParams()}
	badParams.Params.MaxStringLen = 0

	return map[string][]any{
		"valid_create_order":     {uint8(0), enc(order)},
		"valid_cancel_order":     {uint8(1), enc(&types.MsgCancelOrder{Tenant: tenant, OrderId: 7})},
		"valid_create_bid":       {uint8(2), enc(bid)},
		"valid_close_bid":        {uint8(3), enc(&types.MsgCloseBid{Provider: prov, BidId: 3})},
		"valid_create_lease":     {uint8(4), enc(&types.MsgCreateLease{Tenant: tenant, BidId: 3})},
		"valid_close_lease":      {uint8(5), enc(&types.MsgCloseLease{Sender: prov, LeaseId: 1})},
		"valid_submit_result":    {uint8(6), enc(result)},
		"valid_update_params":    {uint8(7), enc(&types.MsgUpdateParams{Authority: tenant, Params: types.DefaultParams()})},
		"invalid_low_deposit":    {uint8(0), enc(&badOrder)},
		"invalid_cosmos_prefix":  {uint8(0), enc(&cosmosOrder)},
		"invalid_dup_uuid":       {uint8(2), enc(&dupBid)},
		"invalid_zero_id":        {uint8(3), enc(&types.MsgCloseBid{Provider: prov})},
		"invalid_zero_hash":      {uint8(6), enc(&zeroResult)},
		"invalid_params":         {uint8(7), enc(badParams)},
		"invalid_truncated":      {uint8(0), enc(order)[:40]},
		"invalid_huge_amount":    {uint8(2), hugeAmountBid(t, bid)},
		"invalid_garbage_varint": {uint8(4), []byte{0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
}

// hugeAmountBid encodes bid with a deposit amount of 2^256, which must not
// decode (amounts are at most 256 bits).
func hugeAmountBid(t testing.TB, bid *types.MsgCreateBid) []byte {
	b := *bid
	b.Deposit = sdk.Coin{}
	out, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	huge := "115792089237316195423570985008687907853269984665640564039457584007913129639936"
	inner := append([]byte{0x0a, byte(len(types.DefaultDenom))}, types.DefaultDenom...)
	inner = append(append(inner, 0x12, byte(len(huge))), huge...)
	out = append(out, 0x22, byte(len(inner))) // field 4 (deposit), merged into the empty one
	return append(out, inner...)
}

func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("CRUCIBLE_WRITE_FUZZ_CORPUS") == "" {
		t.Skip("set CRUCIBLE_WRITE_FUZZ_CORPUS=1 to rewrite testdata/fuzz/FuzzMsgs")
	}
	fuzzcorpus.Write(t, "FuzzMsgs", fuzzSeeds(t))
}

// TestFuzzSeeds checks that the seeds named valid_ pass the checks and the
// ones named invalid_ fail them, so the corpus exercises both paths.
func TestFuzzSeeds(t *testing.T) {
	for name, args := range fuzzSeeds(t) {
		m := newFuzzMsg(args[0].(uint8))
		err := m.Unmarshal(args[1].([]byte))
		if err == nil {
			err = checkMsg(m, types.DefaultParams())
		}
		if strings.HasPrefix(name, "valid_") != (err == nil) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
