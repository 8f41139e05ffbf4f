package keeper_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/crucible-network/crucible/x/market/types"
)

// queryWorld builds:
//
//	orders: 1 A OPEN, 2 A MATCHED, 3 A CANCELLED, 4 B OPEN, 5 B MATCHED, 6 B MATCHED
//	bids:   1 o1 provA OPEN, 2 o1 provB OPEN, 3 o2 provA WON, 4 o2 provB LOST,
//	        5 o3 provA WITHDRAWN, 6 o3 provA LOST, 7 o5 provB WON, 8 o6 provA WON
//	leases: 2 A/provA ACTIVE, 5 B/provB CLOSED, 6 B/provA ACTIVE
func queryWorld(t *testing.T) *fixture {
	f := setup(t)
	o1 := f.createOrder(tenantA, 1)
	f.createBid(provA, o1, 90, "GPU-A0")
	f.createBid(provB, o1, 90, "GPU-B0")

	o2 := f.createOrder(tenantA, 1)
	b3 := f.createBid(provA, o2, 90, "GPU-A1")
	f.createBid(provB, o2, 90, "GPU-B1")
	f.createLease(tenantA, b3)

	o3 := f.createOrder(tenantA, 1)
	b5 := f.createBid(provA, o3, 90, "GPU-A2")
	_, err := f.msg.CloseBid(f.ctx, &types.MsgCloseBid{Provider: f.s(provA), BidId: b5})
	require.NoError(t, err)
	f.createBid(provA, o3, 80, "GPU-A2")
	_, err = f.msg.CancelOrder(f.ctx, &types.MsgCancelOrder{Tenant: f.s(tenantA), OrderId: o3})
	require.NoError(t, err)

	f.createOrder(tenantB, 1)
	l5, _ := f.leased(tenantB, provB, "GPU-B2")
	_, err = f.msg.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.s(tenantB), LeaseId: l5})
	require.NoError(t, err)
	f.leased(tenantB, provA, "GPU-A3")
	return f
}

func orderIDs(os []types.Order) []uint64 {
	out := []uint64{}
	for _, o := range os {
		out = append(out, o.Id)
	}
	return out
}

func bidIDs(bs []types.Bid) []uint64 {
	out := []uint64{}
	for _, b := range bs {
		out = append(out, b.Id)
	}
	return out
}

func leaseIDs(ls []types.Lease) []uint64 {
	out := []uint64{}
	for _, l := range ls {
		out = append(out, l.Id)
	}
	return out
}

func TestQueryOrdersFilters(t *testing.T) {
	f := queryWorld(t)
	cases := []struct {
		name string
		req  *types.QueryOrdersRequest
		want []uint64
	}{
		{"all", &types.QueryOrdersRequest{}, []uint64{1, 2, 3, 4, 5, 6}},
		{"tenant A", &types.QueryOrdersRequest{Tenant: f.s(tenantA)}, []uint64{1, 2, 3}},
		{"open", &types.QueryOrdersRequest{State: types.OrderStateOpen}, []uint64{1, 4}},
		{"matched", &types.QueryOrdersRequest{State: types.OrderStateMatched}, []uint64{2, 5, 6}},
		{"tenant B matched", &types.QueryOrdersRequest{Tenant: f.s(tenantB), State: types.OrderStateMatched}, []uint64{5, 6}},
		{"tenant A cancelled", &types.QueryOrdersRequest{Tenant: f.s(tenantA), State: types.OrderStateCancelled}, []uint64{3}},
		{"stranger", &types.QueryOrdersRequest{Tenant: f.s(stranger)}, []uint64{}},
		{"expired", &types.QueryOrdersRequest{State: types.OrderStateExpired}, []uint64{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.q.Orders(f.ctx, tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.want, orderIDs(res.Orders))
		})
	}
}

func TestQueryBidsFilters(t *testing.T) {
	f := queryWorld(t)
	a, b := f.s(provA), f.s(provB)
	cases := []struct {
		name string
		req  *types.QueryBidsRequest
		want []uint64
	}{
		// Bid 5 was withdrawn: a withdrawn bid is deleted (issue 15 item 1).
		{"all", &types.QueryBidsRequest{}, []uint64{1, 2, 3, 4, 6, 7, 8}},
		{"order 1", &types.QueryBidsRequest{OrderId: 1}, []uint64{1, 2}},
		{"order 3", &types.QueryBidsRequest{OrderId: 3}, []uint64{6}},
		{"provider A", &types.QueryBidsRequest{Provider: a}, []uint64{1, 3, 6, 8}},
		{"open", &types.QueryBidsRequest{State: types.BidStateOpen}, []uint64{1, 2}},
		// A state alone pages the (state, provider, id) index.
		{"lost", &types.QueryBidsRequest{State: types.BidStateLost}, lostOrder(f)},
		{"order 2 won", &types.QueryBidsRequest{OrderId: 2, State: types.BidStateWon}, []uint64{3}},
		{"provider B won", &types.QueryBidsRequest{Provider: b, State: types.BidStateWon}, []uint64{7}},
		{"order 3 provider A", &types.QueryBidsRequest{OrderId: 3, Provider: a}, []uint64{6}},
		{"order 3 provider A withdrawn", &types.QueryBidsRequest{OrderId: 3, Provider: a, State: types.BidStateWithdrawn}, []uint64{}},
		{"order 3 provider B", &types.QueryBidsRequest{OrderId: 3, Provider: b}, []uint64{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.q.Bids(f.ctx, tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.want, bidIDs(res.Bids))
		})
	}
}

// lostOrder is the order of the LOST bids 4 (provider B) and 6 (provider A)
// in the (state, provider, id) index: by provider address bytes.
func lostOrder(_ *fixture) []uint64 {
	if bytes.Compare(provA, provB) < 0 {
		return []uint64{6, 4}
	}
	return []uint64{4, 6}
}

func TestQueryLeasesFilters(t *testing.T) {
	f := queryWorld(t)
	cases := []struct {
		name string
		req  *types.QueryLeasesRequest
		want []uint64
	}{
		{"all", &types.QueryLeasesRequest{}, []uint64{2, 5, 6}},
		{"tenant B", &types.QueryLeasesRequest{Tenant: f.s(tenantB)}, []uint64{5, 6}},
		{"provider A", &types.QueryLeasesRequest{Provider: f.s(provA)}, []uint64{2, 6}},
		{"active", &types.QueryLeasesRequest{State: types.LeaseStateActive}, []uint64{2, 6}},
		{"closed", &types.QueryLeasesRequest{State: types.LeaseStateClosed}, []uint64{5}},
		{"tenant B active", &types.QueryLeasesRequest{Tenant: f.s(tenantB), State: types.LeaseStateActive}, []uint64{6}},
		{"provider B closed", &types.QueryLeasesRequest{Provider: f.s(provB), State: types.LeaseStateClosed}, []uint64{5}},
		{"tenant B provider B", &types.QueryLeasesRequest{Tenant: f.s(tenantB), Provider: f.s(provB)}, []uint64{5}},
		{"tenant B provider A active", &types.QueryLeasesRequest{Tenant: f.s(tenantB), Provider: f.s(provA), State: types.LeaseStateActive}, []uint64{6}},
		{"tenant A provider A closed", &types.QueryLeasesRequest{Tenant: f.s(tenantA), Provider: f.s(provA), State: types.LeaseStateClosed}, []uint64{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.q.Leases(f.ctx, tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.want, leaseIDs(res.Leases))
		})
	}
}

func TestQueryPagination(t *testing.T) {
	f := queryWorld(t)

	// Walk all orders two at a time with next keys.
	var got []uint64
	var key []byte
	for {
		res, err := f.q.Orders(f.ctx, &types.QueryOrdersRequest{Pagination: &query.PageRequest{Key: key, Limit: 2}})
		require.NoError(t, err)
		require.LessOrEqual(t, len(res.Orders), 2)
		got = append(got, orderIDs(res.Orders)...)
		key = res.Pagination.NextKey
		if key == nil {
			break
		}
	}
	require.Equal(t, []uint64{1, 2, 3, 4, 5, 6}, got)

	// The same through an index (provider A's bids), one at a time.
	got = nil
	key = nil
	for {
		res, err := f.q.Bids(f.ctx, &types.QueryBidsRequest{Provider: f.s(provA), Pagination: &query.PageRequest{Key: key, Limit: 1}})
		require.NoError(t, err)
		got = append(got, bidIDs(res.Bids)...)
		key = res.Pagination.NextKey
		if key == nil {
			break
		}
	}
	require.Equal(t, []uint64{1, 3, 6, 8}, got)

	// Offset and reverse on a filtered query.
	res, err := f.q.Orders(f.ctx, &types.QueryOrdersRequest{
		State: types.OrderStateMatched, Pagination: &query.PageRequest{Offset: 1, Limit: 1},
	})
	require.NoError(t, err)
	require.Equal(t, []uint64{5}, orderIDs(res.Orders))

	lres, err := f.q.Leases(f.ctx, &types.QueryLeasesRequest{Provider: f.s(provA), Pagination: &query.PageRequest{Reverse: true}})
	require.NoError(t, err)
	require.Equal(t, []uint64{6, 2}, leaseIDs(lres.Leases))

	// Every filter pages one at a time with next keys, forward and reverse,
	// to the same ids as one big page (merged prefixes included).
	for name, tc := range map[string]func(*query.PageRequest) ([]uint64, *query.PageResponse, error){
		"orders tenant B": func(p *query.PageRequest) ([]uint64, *query.PageResponse, error) {
			res, err := f.q.Orders(f.ctx, &types.QueryOrdersRequest{Tenant: f.s(tenantB), Pagination: p})
			if err != nil {
				return nil, nil, err
			}
			return orderIDs(res.Orders), res.Pagination, nil
		},
		"orders matched": func(p *query.PageRequest) ([]uint64, *query.PageResponse, error) {
			res, err := f.q.Orders(f.ctx, &types.QueryOrdersRequest{State: types.OrderStateMatched, Pagination: p})
			if err != nil {
				return nil, nil, err
			}
			return orderIDs(res.Orders), res.Pagination, nil
		},
		"bids provider B": func(p *query.PageRequest) ([]uint64, *query.PageResponse, error) {
			res, err := f.q.Bids(f.ctx, &types.QueryBidsRequest{Provider: f.s(provB), Pagination: p})
			if err != nil {
				return nil, nil, err
			}
			return bidIDs(res.Bids), res.Pagination, nil
		},
		"bids order 3": func(p *query.PageRequest) ([]uint64, *query.PageResponse, error) {
			res, err := f.q.Bids(f.ctx, &types.QueryBidsRequest{OrderId: 3, Pagination: p})
			if err != nil {
				return nil, nil, err
			}
			return bidIDs(res.Bids), res.Pagination, nil
		},
		"bids open order 1": func(p *query.PageRequest) ([]uint64, *query.PageResponse, error) {
			res, err := f.q.Bids(f.ctx, &types.QueryBidsRequest{OrderId: 1, State: types.BidStateOpen, Pagination: p})
			if err != nil {
				return nil, nil, err
			}
			return bidIDs(res.Bids), res.Pagination, nil
		},
		"leases tenant B": func(p *query.PageRequest) ([]uint64, *query.PageResponse, error) {
			res, err := f.q.Leases(f.ctx, &types.QueryLeasesRequest{Tenant: f.s(tenantB), Pagination: p})
			if err != nil {
				return nil, nil, err
			}
			return leaseIDs(res.Leases), res.Pagination, nil
		},
		"leases provider A": func(p *query.PageRequest) ([]uint64, *query.PageResponse, error) {
			res, err := f.q.Leases(f.ctx, &types.QueryLeasesRequest{Provider: f.s(provA), Pagination: p})
			if err != nil {
				return nil, nil, err
			}
			return leaseIDs(res.Leases), res.Pagination, nil
		},
	} {
		_, _, err := tc(&query.PageRequest{CountTotal: true})
		require.ErrorContains(t, err, "count_total is not served", name)
		all, page, err := tc(&query.PageRequest{})
		require.NoError(t, err, name)
		require.NotEmpty(t, all, name)
		require.Nil(t, page.NextKey, name)
		for _, reverse := range []bool{false, true} {
			var got []uint64
			var key []byte
			for i := 0; ; i++ {
				require.Less(t, i, 20, name)
				ids, page, err := tc(&query.PageRequest{Key: key, Limit: 1, Reverse: reverse})
				require.NoError(t, err, name)
				got = append(got, ids...)
				if key = page.NextKey; key == nil {
					break
				}
			}
			want := slices.Clone(all)
			if reverse {
				slices.Reverse(want)
			}
			require.Equal(t, want, got, "%s reverse=%v", name, reverse)
		}
		ids, _, err := tc(&query.PageRequest{Offset: 1, Limit: 1})
		require.NoError(t, err, name)
		if len(all) > 1 {
			require.Equal(t, all[1:2], ids, name)
		}
	}

	// A filter applied within a prefix pages too.
	var ids []uint64
	key = nil
	for {
		res, err := f.q.Bids(f.ctx, &types.QueryBidsRequest{OrderId: 3, Provider: f.s(provA), State: types.BidStateLost, Pagination: &query.PageRequest{Key: key, Limit: 1}})
		require.NoError(t, err)
		ids = append(ids, bidIDs(res.Bids)...)
		key = res.Pagination.NextKey
		if key == nil {
			break
		}
	}
	require.Equal(t, []uint64{6}, ids)
}

func TestQuerySingleAndErrors(t *testing.T) {
	f := queryWorld(t)

	o, err := f.q.Order(f.ctx, &types.QueryOrderRequest{Id: 2})
	require.NoError(t, err)
	require.Equal(t, types.OrderStateMatched, o.Order.State)
	b, err := f.q.Bid(f.ctx, &types.QueryBidRequest{Id: 3})
	require.NoError(t, err)
	require.Equal(t, types.BidStateWon, b.Bid.State)
	l, err := f.q.Lease(f.ctx, &types.QueryLeaseRequest{Id: 6})
	require.NoError(t, err)
	require.Equal(t, f.s(provA), l.Lease.Provider)
	p, err := f.q.Params(f.ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, types.DefaultParams(), p.Params)

	code := func(err error) codes.Code { return status.Code(err) }
	_, err = f.q.Order(f.ctx, &types.QueryOrderRequest{Id: 99})
	require.Equal(t, codes.NotFound, code(err))
	_, err = f.q.Bid(f.ctx, &types.QueryBidRequest{Id: 99})
	require.Equal(t, codes.NotFound, code(err))
	_, err = f.q.Lease(f.ctx, &types.QueryLeaseRequest{Id: 1})
	require.Equal(t, codes.NotFound, code(err), "an open order has no lease")
	_, err = f.q.Order(f.ctx, &types.QueryOrderRequest{})
	require.Equal(t, codes.InvalidArgument, code(err))
	_, err = f.q.Bid(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, code(err))
	_, err = f.q.Lease(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, code(err))
	_, err = f.q.Params(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, code(err))
	_, err = f.q.Orders(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, code(err))

	_, err = f.q.Orders(f.ctx, &types.QueryOrdersRequest{Tenant: "nope"})
	require.Equal(t, codes.InvalidArgument, code(err))
	_, err = f.q.Orders(f.ctx, &types.QueryOrdersRequest{State: 42})
	require.Equal(t, codes.InvalidArgument, code(err))
	_, err = f.q.Bids(f.ctx, &types.QueryBidsRequest{Provider: "nope"})
	require.Equal(t, codes.InvalidArgument, code(err))
	_, err = f.q.Bids(f.ctx, &types.QueryBidsRequest{State: -1})
	require.Equal(t, codes.InvalidArgument, code(err))
	_, err = f.q.Leases(f.ctx, &types.QueryLeasesRequest{Tenant: "nope"})
	require.Equal(t, codes.InvalidArgument, code(err))
	_, err = f.q.Leases(f.ctx, &types.QueryLeasesRequest{Provider: "nope"})
	require.Equal(t, codes.InvalidArgument, code(err))
	_, err = f.q.Leases(f.ctx, &types.QueryLeasesRequest{State: 9})
	require.Equal(t, codes.InvalidArgument, code(err))
	_, err = f.q.Orders(f.ctx, &types.QueryOrdersRequest{Pagination: &query.PageRequest{Key: []byte{1}, Offset: 1}})
	require.Equal(t, codes.InvalidArgument, code(err))
}
