package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/x/authz"

	"github.com/crucible-network/crucible/app"
	"github.com/crucible-network/crucible/testutil/apptest"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

// txOn signs msgs from key name for chainID (any chain id, unlike c.Tx) with
// the account's current on-chain sequence.
func txOn(t *testing.T, c *apptest.Chain, chainID, name string, msgs ...sdk.Msg) []byte {
	t.Helper()
	acc := c.App.AccountKeeper.GetAccount(c.Ctx(), c.Addr(name))
	f := tx.Factory{}.WithChainID(chainID).WithKeybase(c.Keyring).WithTxConfig(c.App.TxConfig()).
		WithAccountNumber(acc.GetAccountNumber()).WithSequence(acc.GetSequence()).
		WithGas(1_000_000).WithFees(fmt.Sprintf("0%s", app.BondDenom))
	b, err := f.BuildUnsignedTx(msgs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Sign(context.Background(), f, name, b, true); err != nil {
		t.Fatal(err)
	}
	bz, err := c.App.TxConfig().TxEncoder()(b.GetTx())
	if err != nil {
		t.Fatal(err)
	}
	return bz
}

func requireFails(t *testing.T, res *abci.ExecTxResult, codespace string, code uint32, what string) {
	t.Helper()
	if res.Code != code || res.Codespace != codespace {
		t.Fatalf("%s: code %d (%s) %s, want %d (%s)", what, res.Code, res.Codespace, res.Log, code, codespace)
	}
}

// TestResultReceiptFromTheAttackersSide reproduces issue 15 item 5 through
// real signed transactions: the receipt's signature was a field the chain
// only length-checked, over a digest without chain id, provider or manifest.
// Now the tx signature is the receipt's signature, and this test shows what
// it binds:
//   - a result signed for another chain id does not verify here (replay);
//   - a result naming the provider but signed by someone else is refused;
//   - a result in the tenant's (or anyone's) own name is not the provider's;
//   - a hot key posts only through an x/authz grant the provider made;
//   - a result for another manifest is refused;
//   - a poisoned result is superseded by the provider while the lease is
//     active (the old chain refused the honest one for good).
//
// It also logs the gas of a first result and of a superseding one.
func TestResultReceiptFromTheAttackersSide(t *testing.T) {
	c, id := leaseFixture(t, 0, 100, 2_000_000)
	manifest := sha256.Sum256([]byte("job")) // leaseFixture's order
	p0 := c.Addr("p0").String()
	result := func(provider string, b byte, mh []byte) *markettypes.MsgSubmitResult {
		return &markettypes.MsgSubmitResult{Provider: provider, LeaseId: id, ResultHash: bytes.Repeat([]byte{b}, 32),
			Location: "sidecar://1/results", ManifestHash: mh}
	}
	noResult := func(what string) {
		t.Helper()
		if r := lease(t, c, id).Result; r != nil {
			t.Fatalf("%s: a result was recorded: %+v", what, r)
		}
	}

	// Replay: the provider's own, valid message, signed for another chain.
	requireFails(t, c.NextBlock(txOn(t, c, "other-chain", "p0", result(p0, 1, manifest[:])))[0],
		sdkerrors.RootCodespace, sdkerrors.ErrUnauthorized.ABCICode(), "signed for another chain id")
	noResult("another chain id")

	// The provider's name, the tenant's signature.
	res := c.NextBlock(txOn(t, c, c.ChainID, "t0", result(p0, 2, manifest[:])))[0]
	if res.Code == 0 {
		t.Fatal("a result naming the provider, signed by the tenant, was accepted")
	}
	noResult("signed by the tenant")
	// The tenant's own name: not the lease's provider.
	requireFails(t, c.Deliver("t0", result(c.Addr("t0").String(), 2, manifest[:])),
		markettypes.ModuleName, markettypes.ErrUnauthorized.ABCICode(), "the tenant as provider")
	// The hot key without a grant.
	exec := authz.NewMsgExec(c.Addr("hot"), []sdk.Msg{result(p0, 3, manifest[:])})
	requireFails(t, c.Deliver("hot", &exec), "authz", authz.ErrNoAuthorizationFound.ABCICode(), "hot key without a grant")
	noResult("hot key without a grant")
	// Another manifest, by the provider itself.
	other := sha256.Sum256([]byte("another job"))
	requireFails(t, c.Deliver("p0", result(p0, 4, other[:])),
		markettypes.ModuleName, markettypes.ErrManifestMismatch.ABCICode(), "another manifest")
	noResult("another manifest")

	// The same message signed for this chain is accepted: only the chain id
	// made the replay fail.
	first := c.Deliver("p0", result(p0, 1, manifest[:]))
	requireOK(t, first, "the provider's result")

	// The hot key with the provider's grant posts a bogus result (the
	// poisoning); the provider supersedes it.
	grant, err := authz.NewGrant(c.Time, authz.NewGenericAuthorization(sdk.MsgTypeURL(&markettypes.MsgSubmitResult{})), nil)
	if err != nil {
		t.Fatal(err)
	}
	requireOK(t, c.Deliver("p0", &authz.MsgGrant{Granter: p0, Grantee: c.Addr("hot").String(), Grant: grant}), "grant")
	exec = authz.NewMsgExec(c.Addr("hot"), []sdk.Msg{result(p0, 0xba, manifest[:])})
	requireOK(t, c.Deliver("hot", &exec), "the hot key's bogus result")
	if r := lease(t, c, id).Result; r.ResultHash[0] != 0xba || r.Submission != 2 {
		t.Fatalf("result after the hot key: %+v", r)
	}
	honest := c.Deliver("p0", result(p0, 1, manifest[:]))
	requireOK(t, honest, "the provider supersedes")
	l := lease(t, c, id)
	if l.Result.ResultHash[0] != 1 || l.Result.Submission != 3 || len(l.SupersededResults) != 2 ||
		l.SupersededResults[1].ResultHash[0] != 0xba || !bytes.Equal(l.Result.ManifestHash, manifest[:]) {
		t.Fatalf("lease after superseding: %+v", l)
	}
	checkReconciles(t, c)
	t.Logf("gas: first MsgSubmitResult %d, superseding one (two results kept) %d", first.GasUsed, honest.GasUsed)
}
