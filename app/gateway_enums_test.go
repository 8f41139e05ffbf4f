package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/runtime"

	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	escrowtypes "github.com/crucible-network/crucible/x/escrow/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// Fake query servers that record the enum filter the gateway decoded.
type marketQ struct {
	markettypes.UnimplementedQueryServer
	got *int32
}

func (q marketQ) Orders(_ context.Context, r *markettypes.QueryOrdersRequest) (*markettypes.QueryOrdersResponse, error) {
	*q.got = int32(r.State)
	return &markettypes.QueryOrdersResponse{}, nil
}

func (q marketQ) Bids(_ context.Context, r *markettypes.QueryBidsRequest) (*markettypes.QueryBidsResponse, error) {
	*q.got = int32(r.State)
	return &markettypes.QueryBidsResponse{}, nil
}

func (q marketQ) Leases(_ context.Context, r *markettypes.QueryLeasesRequest) (*markettypes.QueryLeasesResponse, error) {
	*q.got = int32(r.State)
	return &markettypes.QueryLeasesResponse{}, nil
}

type providerQ struct {
	providertypes.UnimplementedQueryServer
	got *int32
}

func (q providerQ) Providers(_ context.Context, r *providertypes.QueryProvidersRequest) (*providertypes.QueryProvidersResponse, error) {
	*q.got = int32(r.Status)
	return &providertypes.QueryProvidersResponse{}, nil
}

type attestQ struct {
	attesttypes.UnimplementedQueryServer
	got *int32
}

func (q attestQ) Challenges(_ context.Context, r *attesttypes.QueryChallengesRequest) (*attesttypes.QueryChallengesResponse, error) {
	*q.got = int32(r.State)
	return &attesttypes.QueryChallengesResponse{}, nil
}

type escrowQ struct {
	escrowtypes.UnimplementedQueryServer
	got *int32
}

func (q escrowQ) Accounts(_ context.Context, r *escrowtypes.QueryAccountsRequest) (*escrowtypes.QueryAccountsResponse, error) {
	*q.got = int32(r.State)
	return &escrowtypes.QueryAccountsResponse{}, nil
}

// TestGatewayEnumFiltersAcceptNamesAndNumbers sends the REST list queries'
// enum filters over HTTP to the modules' generated gateway handlers, as
// names and as numbers, and checks the value the query server receives.
func TestGatewayEnumFiltersAcceptNamesAndNumbers(t *testing.T) {
	var got int32
	ctx := context.Background()
	mux := runtime.NewServeMux()
	for _, err := range []error{
		markettypes.RegisterQueryHandlerServer(ctx, mux, &marketQ{got: &got}),
		providertypes.RegisterQueryHandlerServer(ctx, mux, &providerQ{got: &got}),
		attesttypes.RegisterQueryHandlerServer(ctx, mux, &attestQ{got: &got}),
		escrowtypes.RegisterQueryHandlerServer(ctx, mux, &escrowQ{got: &got}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cases := []struct {
		path string
		want int32
	}{
		{"/crucible/market/v1/orders?state=ORDER_STATE_OPEN", int32(markettypes.OrderStateOpen)},
		{"/crucible/market/v1/orders?state=3", int32(markettypes.OrderStateCancelled)},
		{"/crucible/market/v1/orders?tenant=x&state=ORDER_STATE_EXPIRED", int32(markettypes.OrderStateExpired)},
		{"/crucible/market/v1/bids?state=BID_STATE_WON", int32(markettypes.BidStateWon)},
		{"/crucible/market/v1/leases?state=LEASE_STATE_CLOSED", int32(markettypes.LeaseStateClosed)},
		{"/crucible/market/v1/leases?state=1", int32(markettypes.LeaseStateActive)},
		{"/crucible/provider/v1/providers?status=PROVIDER_STATUS_JAILED", int32(providertypes.ProviderStatusJailed)},
		{"/crucible/provider/v1/providers?status=1", int32(providertypes.ProviderStatusActive)},
		{"/crucible/attest/v1/challenges?state=CHALLENGE_STATE_PASSED", int32(attesttypes.ChallengeStatePassed)},
		{"/crucible/attest/v1/challenges?state=6", int32(attesttypes.ChallengeStateFailed)},
		{"/crucible/escrow/v1/accounts?state=ACCOUNT_STATE_CLOSED", int32(escrowtypes.AccountStateClosed)},
	}
	for _, c := range cases {
		got = -1
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", c.path, resp.StatusCode, body)
			continue
		}
		if got != c.want {
			t.Errorf("GET %s: the query server got state %d, want %d", c.path, got, c.want)
		}
	}

	// An unknown name is still refused with 400, not silently unfiltered.
	resp, err := http.Get(srv.URL + "/crucible/market/v1/orders?state=ORDER_STATE_NOPE")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown enum name: status %d, want 400", resp.StatusCode)
	}
}
