package kvpage

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"
)

const (
	// MaxLimit is the largest page a list query returns: a larger limit is
	// lowered to it (the response's next_key leads to the rest).
	MaxLimit = 1_000
	// MaxOffset is the largest offset a list query accepts: an offset walks
	// every entry it skips, so deeper pages must use next_key.
	MaxOffset = 10_000
)

// Bound returns the page request every list query serves: a copy of req with
// its limit lowered to MaxLimit. It refuses (InvalidArgument) an offset above
// MaxOffset and count_total, which walks the whole collection whatever the
// page size: a query's work stays proportional to the page it returns.
func Bound(req *query.PageRequest) (*query.PageRequest, error) {
	if req == nil {
		return nil, nil
	}
	if req.CountTotal {
		return nil, status.Error(codes.InvalidArgument,
			"count_total is not served: counting walks the whole collection; page with next_key until it is empty")
	}
	if req.Offset > MaxOffset {
		return nil, status.Errorf(codes.InvalidArgument,
			"offset %d is above %d: page with next_key instead", req.Offset, MaxOffset)
	}
	out := *req
	out.Limit = min(out.Limit, MaxLimit)
	return &out, nil
}
