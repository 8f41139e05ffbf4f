// Package heightqueue reads the height-keyed queues the modules' Begin and
// EndBlockers work through: KeySets of (height, id), where an entry is due
// once its height has come.
package heightqueue

import (
	"context"

	"cosmossdk.io/collections"
)

// Key is a queue entry: (height, id).
type Key = collections.Pair[int64, uint64]

// Due returns, in key order, up to limit entries of queue whose height is
// <= through. It only reads: the caller removes what it handles, after the
// iterator is closed.
func Due(ctx context.Context, queue collections.KeySet[Key], through int64, limit uint32) ([]Key, error) {
	if limit == 0 {
		return nil, nil
	}
	iter, err := queue.Iterate(ctx, collections.NewPrefixUntilPairRange[int64, uint64](through))
	if err != nil {
		return nil, err
	}
	defer iter.Close()
	var keys []Key
	for ; iter.Valid() && uint32(len(keys)) < limit; iter.Next() {
		key, err := iter.Key()
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}
