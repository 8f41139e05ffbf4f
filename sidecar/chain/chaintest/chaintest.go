// Package chaintest runs an in-process Crucible chain for the sidecar's
// tests and holds the tenant- and owner-side helpers they share: keys,
// funding, providers, orders, authz grants.
package chaintest

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/x/authz"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/crucible-network/crucible/app"
	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/testutil/network"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// Denom is the chain's fee, bond and market denomination.
const Denom = app.BondDenom

// Net is the package's network, set by Main; nil under -short.
var Net *network.Network

// BlockTime is the pause after each block of the test network.
const BlockTime = 300 * time.Millisecond

type stdoutLogger struct{}

func (stdoutLogger) Log(args ...any)                 { fmt.Println(args...) }
func (stdoutLogger) Logf(format string, args ...any) { fmt.Printf(format+"\n", args...) }

// Main starts one in-process network for the whole test binary (only one
// can run per process), runs the tests and stops it. Under -short no
// network starts and Require skips.
func Main(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "sidecar-chain-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	opts := network.DefaultOptions(dir)
	opts.TimeoutCommit = BlockTime
	Net, err = network.New(stdoutLogger{}, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start network:", err)
		os.Exit(1)
	}
	code := m.Run()
	Net.Cleanup()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// Require skips t when no network runs (-short).
func Require(t testing.TB) *network.Network {
	t.Helper()
	if Net == nil {
		t.Skip("needs the in-process chain (not with -short)")
	}
	return Net
}

// ChainConfig is a chain section for node0 that signs with keyName from
// node0's test keyring and acts for provider ("" for none).
func ChainConfig(n *network.Network, keyName, provider string) config.ChainConfig {
	return LayoutChainConfig(n.Layout, keyName, provider)
}

// LayoutChainConfig is ChainConfig for node0 of a laid-out network, in
// this process or not (e.g. crucibled processes started from its homes).
func LayoutChainConfig(l *network.Layout, keyName, provider string) config.ChainConfig {
	nd := l.Nodes[0]
	return config.ChainConfig{
		GRPCAddr:        nd.GRPCAddress(),
		RPCAddr:         nd.RPCAddress(),
		ChainID:         l.ChainID,
		ProviderAddress: provider,
		HotKeyName:      keyName,
		KeyringDir:      nd.Home,
		KeyringBackend:  keyring.BackendTest,
		GasPrices:       "0.001" + Denom,
		GasAdjustment:   1.5,
		TxTimeoutBlocks: 5, // short: tests restart engines
	}
}

// Dial connects a client to node0, polling fast.
func Dial(t testing.TB, n *network.Network) *chain.Client {
	t.Helper()
	c, err := chain.Dial(ChainConfig(n, "alice", ""), chain.WithPollInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Signer returns a signer for keyName in node0's keyring, acting for
// granter when it is set.
func Signer(t testing.TB, c *chain.Client, n *network.Network, keyName, granter string) *chain.Signer {
	t.Helper()
	cfg := ChainConfig(n, keyName, granter)
	kr, err := chain.OpenKeyring(cfg, c.Encoding().Codec)
	if err != nil {
		t.Fatal(err)
	}
	sc := chain.SignerConfigFrom(cfg)
	sc.ConfirmTimeout = 30 * time.Second
	sc.ConfirmPoll = 100 * time.Millisecond
	s, err := chain.NewSigner(c, kr, sc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// AddKey creates a new key in node0's test keyring (or returns the one
// there) and funds it with coins from alice.
func AddKey(t testing.TB, c *chain.Client, n *network.Network, name string, fund int64) sdk.AccAddress {
	t.Helper()
	kr, err := chain.OpenKeyring(ChainConfig(n, name, ""), c.Encoding().Codec)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := kr.Key(name)
	if err != nil {
		rec, _, err = kr.NewMnemonic(name, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
		if err != nil {
			t.Fatal(err)
		}
	}
	addr, err := rec.GetAddress()
	if err != nil {
		t.Fatal(err)
	}
	if fund > 0 {
		alice := Signer(t, c, n, "alice", "")
		send := banktypes.NewMsgSend(alice.Address(), addr, sdk.NewCoins(sdk.NewInt64Coin(Denom, fund)))
		if _, err := alice.Submit(context.Background(), send); err != nil {
			t.Fatalf("fund %s: %v", name, err)
		}
	}
	return addr
}

// Address returns the address of a key in node0's keyring.
func Address(t testing.TB, c *chain.Client, n *network.Network, name string) sdk.AccAddress {
	t.Helper()
	kr, err := chain.OpenKeyring(ChainConfig(n, name, ""), c.Encoding().Codec)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := kr.Key(name)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := rec.GetAddress()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// MinBond is the chain's default minimum provider bond.
var MinBond = sdk.NewCoin(Denom, sdkmath.NewInt(1_000_000_000))

// RegisterProvider registers the signer's account as a provider with gpus.
func RegisterProvider(ctx context.Context, s *chain.Signer, region string, gpus []providertypes.GPU) (*sdk.TxResponse, error) {
	return s.Submit(ctx, &providertypes.MsgRegisterProvider{
		Owner: s.Actor(), HostUri: "https://provider.example:8443", Region: region, Tier: "standard",
		Gpus: gpus, Bond: MinBond,
	})
}

// Spec is an order spec for count GPUs of class with a fixed manifest hash.
func Spec(class string, count uint32) markettypes.OrderSpec {
	h := sha256.Sum256([]byte("job manifest"))
	return markettypes.OrderSpec{Gpu: markettypes.GPUSpec{Class: class, Count: count}, ManifestHash: h[:]}
}

// CreateOrder posts an order from the signer's account and returns it as
// created (with its id and height).
func CreateOrder(ctx context.Context, s *chain.Signer, spec markettypes.OrderSpec, maxPrice int64) (markettypes.Order, error) {
	res, err := s.Submit(ctx, &markettypes.MsgCreateOrder{
		Tenant: s.Actor(), Spec: spec, MaxPricePerBlock: sdk.NewInt64Coin(Denom, maxPrice),
		DurationBlocks: 1000, Deposit: sdk.NewInt64Coin(Denom, 10_000_000),
	})
	if err != nil {
		return markettypes.Order{}, err
	}
	evs, err := chain.TxEvents(res)
	if err != nil {
		return markettypes.Order{}, err
	}
	for _, e := range evs {
		if oc, ok := e.(chain.OrderCreated); ok {
			return oc.Order, nil
		}
	}
	return markettypes.Order{}, errors.New("no EventOrderCreated in the tx")
}

// ProviderMsgTypes are the messages a provider owner grants its hot key.
var ProviderMsgTypes = []string{
	sdk.MsgTypeURL(&markettypes.MsgCreateBid{}),
	sdk.MsgTypeURL(&markettypes.MsgCloseBid{}),
	sdk.MsgTypeURL(&markettypes.MsgSubmitResult{}),
	sdk.MsgTypeURL(&markettypes.MsgCloseLease{}),
}

// SidecarMsgTypes are the messages a provider owner grants the hot key of
// a sidecar that also answers proof-of-compute challenges.
var SidecarMsgTypes = append([]string{
	sdk.MsgTypeURL(&attesttypes.MsgCommitProof{}),
	sdk.MsgTypeURL(&attesttypes.MsgRevealProof{}),
}, ProviderMsgTypes...)

// Grant grants grantee a generic authorization for each msg type, from the
// owner signer's account.
func Grant(ctx context.Context, owner *chain.Signer, grantee sdk.AccAddress, msgTypes ...string) error {
	exp := time.Now().Add(24 * time.Hour)
	var msgs []sdk.Msg
	for _, typ := range msgTypes {
		g, err := authz.NewMsgGrant(owner.Address(), grantee, authz.NewGenericAuthorization(typ), &exp)
		if err != nil {
			return err
		}
		msgs = append(msgs, g)
	}
	_, err := owner.Submit(ctx, msgs...)
	return err
}

// CancelOpenOrders cancels every OPEN order of the signer's account, so
// that later tests start from an empty order book.
func CancelOpenOrders(ctx context.Context, c *chain.Client, s *chain.Signer) error {
	h, err := c.LatestHeight(ctx)
	if err != nil {
		return err
	}
	orders, err := c.Orders(ctx, h, markettypes.OrderStateOpen)
	if err != nil {
		return err
	}
	var msgs []sdk.Msg
	for _, o := range orders {
		if o.Tenant == s.Actor() {
			msgs = append(msgs, &markettypes.MsgCancelOrder{Tenant: o.Tenant, OrderId: o.Id})
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	_, err = s.Submit(ctx, msgs...)
	return err
}
