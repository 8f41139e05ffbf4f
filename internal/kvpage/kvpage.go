// Package kvpage pages through collections KeySet indexes by raw key
// prefixes, merging several prefixes by a trailing uint64 id. x/market and
// x/escrow use it for their filtered list queries.
package kvpage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/types/query"
)

// Prefixes pages through the keys of set that start with one of prefixes
// (raw key encodings). With one prefix the keys come in index order and
// NextKey is the raw key the next page starts at. With several, each prefix
// must fix every part of the key but the trailing uint64 id (returned by id):
// the prefixes are then merged by id, as if paging an index of the ids alone,
// and NextKey is the 8-byte big-endian id the next page starts at. load turns
// a key into a result; ok == false filters the key out. It follows
// query.PageRequest: key or offset, limit (default query.DefaultLimit),
// count_total (with offset only) and reverse.
func Prefixes[K, V any](
	ctx context.Context,
	set collections.KeySet[K],
	prefixes [][]byte,
	req *query.PageRequest,
	id func(K) uint64,
	load func(K) (V, bool, error),
) ([]V, *query.PageResponse, error) {
	var (
		key     []byte
		offset  uint64
		limit   = uint64(query.DefaultLimit)
		count   bool
		reverse bool
	)
	if req != nil {
		key, offset, count, reverse = req.Key, req.Offset, req.CountTotal, req.Reverse
		if req.Limit > 0 {
			limit = req.Limit
		}
	}
	if len(key) > 0 && offset > 0 {
		return nil, nil, errors.New("invalid request, either offset or key is expected, got both")
	}
	merged := len(prefixes) > 1
	if len(key) > 0 {
		if merged && len(key) != 8 || !merged && (len(prefixes) == 0 || !bytes.HasPrefix(key, prefixes[0])) {
			return nil, nil, errors.New("invalid page key")
		}
		count = false
	}
	order := collections.OrderAscending
	if reverse {
		order = collections.OrderDescending
	}

	// One iterator per prefix, merged by id.
	type head struct {
		it  collections.Iterator[K, collections.NoValue]
		key K
		id  uint64
	}
	heads := make([]*head, 0, len(prefixes))
	defer func() {
		for _, h := range heads {
			h.it.Close()
		}
	}()
	advance := func(h *head) (bool, error) {
		if !h.it.Valid() {
			return false, nil
		}
		k, err := h.it.Key()
		if err != nil {
			return false, err
		}
		h.key, h.id = k, id(k)
		return true, nil
	}
	var live []*head
	for _, p := range prefixes {
		start, end := p, prefixEnd(p)
		if len(key) > 0 {
			from := key // a raw key under p
			if merged {
				from = append(bytes.Clone(p), key...)
			}
			if reverse {
				end = append(bytes.Clone(from), 0)
			} else {
				start = from
			}
		}
		it, err := set.IterateRaw(ctx, start, end, order)
		if err != nil {
			return nil, nil, err
		}
		h := &head{it: it}
		heads = append(heads, h)
		ok, err := advance(h)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			live = append(live, h)
		}
	}

	var (
		out     []V
		next    []byte
		total   uint64
		skipped uint64
	)
	for len(live) > 0 {
		best := 0
		for i, h := range live[1:] {
			if (h.id < live[best].id) != reverse {
				best = i + 1
			}
		}
		h := live[best]
		cur, curID := h.key, h.id
		h.it.Next()
		if ok, err := advance(h); err != nil {
			return nil, nil, err
		} else if !ok {
			live = append(live[:best], live[best+1:]...)
		}

		if next != nil && !count {
			break
		}
		v, ok, err := load(cur)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue
		}
		total++
		switch {
		case skipped < offset:
			skipped++
		case uint64(len(out)) < limit:
			out = append(out, v)
		case next == nil && merged:
			next = binary.BigEndian.AppendUint64(nil, curID)
		case next == nil:
			if next, err = collections.EncodeKeyWithPrefix(nil, set.KeyCodec(), cur); err != nil {
				return nil, nil, err
			}
		}
	}
	page := &query.PageResponse{NextKey: next}
	if count {
		page.Total = total
	}
	return out, page, nil
}

// prefixEnd returns the first key after every key that starts with p (nil:
// no such key, iterate to the end).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// EncodePrefix returns the raw encoding of a (partial) key of set.
func EncodePrefix[K any](set collections.KeySet[K], partial K) ([]byte, error) {
	return collections.EncodeKeyWithPrefix(nil, set.KeyCodec(), partial)
}
