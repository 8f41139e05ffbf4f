package network_test

import (
	"context"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/crucible-network/crucible/app"
	"github.com/crucible-network/crucible/testutil/network"
)

// TestInProcessChainDeliversBankSend starts a one-validator chain in this
// process, delivers a bank send signed from the test keyring and checks both
// balances and the fee through gRPC queries.
func TestInProcessChainDeliversBankSend(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	opts := network.DefaultOptions(t.TempDir())
	opts.TimeoutCommit = 300 * time.Millisecond
	net, err := network.New(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(net.Cleanup)

	node := net.Nodes[0]
	cctx := node.ClientCtx
	alice, err := cctx.Keyring.Key("alice")
	if err != nil {
		t.Fatal(err)
	}
	aliceAddr, _ := alice.GetAddress()
	bob, _ := cctx.Keyring.Key("bob")
	bobAddr, _ := bob.GetAddress()

	bank := banktypes.NewQueryClient(cctx)
	before := balance(t, bank, bobAddr)

	amount := sdk.NewCoins(sdk.NewInt64Coin(app.BondDenom, 12345))
	fee := sdk.NewCoins(sdk.NewInt64Coin(app.BondDenom, 200))
	msg := banktypes.NewMsgSend(aliceAddr, bobAddr, amount)
	f := tx.Factory{}.
		WithChainID(net.Layout.ChainID).
		WithKeybase(cctx.Keyring).
		WithTxConfig(cctx.TxConfig).
		WithAccountRetriever(cctx.AccountRetriever).
		WithGas(200_000).
		WithFees(fee.String())
	f, err = f.Prepare(cctx.WithFromAddress(aliceAddr).WithFromName("alice"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.BuildUnsignedTx(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Sign(context.Background(), f, "alice", b, true); err != nil {
		t.Fatal(err)
	}
	bz, err := cctx.TxConfig.TxEncoder()(b.GetTx())
	if err != nil {
		t.Fatal(err)
	}
	res, err := cctx.BroadcastTxSync(bz)
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 0 {
		t.Fatalf("checktx rejected the send: code %d: %s", res.Code, res.RawLog)
	}

	// Wait for inclusion, then check the delivered result.
	txs := txtypes.NewServiceClient(cctx)
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := txs.GetTx(context.Background(), &txtypes.GetTxRequest{Hash: res.TxHash})
		if err == nil {
			if got.TxResponse.Code != 0 {
				t.Fatalf("send failed in block: code %d: %s", got.TxResponse.Code, got.TxResponse.RawLog)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tx %s not included: %v", res.TxHash, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	after := balance(t, bank, bobAddr)
	if want := before.Add(sdkmath.NewInt(12345)); !after.Equal(want) {
		t.Fatalf("bob's balance = %s, want %s", after, want)
	}
	aliceBal := balance(t, bank, aliceAddr)
	if want := opts.Accounts[0].Coins.AmountOf(app.BondDenom).SubRaw(12345 + 200); !aliceBal.Equal(want) {
		t.Fatalf("alice's balance = %s, want %s (amount + fee debited)", aliceBal, want)
	}
}

func balance(t *testing.T, q banktypes.QueryClient, addr sdk.AccAddress) sdkmath.Int {
	t.Helper()
	res, err := q.Balance(context.Background(), &banktypes.QueryBalanceRequest{Address: addr.String(), Denom: app.BondDenom})
	if err != nil {
		t.Fatal(err)
	}
	return res.Balance.Amount
}
