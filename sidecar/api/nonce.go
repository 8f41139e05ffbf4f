package api

import (
	"container/heap"
	"sync"
	"time"
)

// DefaultNonceCapacity bounds the nonce cache.
const DefaultNonceCapacity = 1 << 17

// nonceCache remembers the nonces of accepted requests until their
// timestamps fall out of the accepted window, so a request cannot be
// replayed. It holds at most capacity entries; when full of live entries it
// refuses new ones rather than forget a live nonce.
type nonceCache struct {
	mu       sync.Mutex
	capacity int
	seen     map[string]time.Time
	byExpiry expiryHeap
}

func newNonceCache(capacity int) *nonceCache {
	return &nonceCache{capacity: capacity, seen: map[string]time.Time{}}
}

// add records key until expires. It returns false for a key already seen
// (replay) and errFull when the cache has no room.
func (c *nonceCache) add(key string, expires, now time.Time) (ok bool, full bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.byExpiry) > 0 && !c.byExpiry[0].at.After(now) {
		e := heap.Pop(&c.byExpiry).(expiry)
		if c.seen[e.key].Equal(e.at) {
			delete(c.seen, e.key)
		}
	}
	if _, dup := c.seen[key]; dup {
		return false, false
	}
	if len(c.seen) >= c.capacity {
		return false, true
	}
	c.seen[key] = expires
	heap.Push(&c.byExpiry, expiry{key: key, at: expires})
	return true, false
}

func (c *nonceCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

type expiry struct {
	key string
	at  time.Time
}

type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
