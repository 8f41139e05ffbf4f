package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// HealthCheck reports whether one part of the sidecar is healthy: nil when
// it is. It should return promptly when ctx is done.
type HealthCheck func(ctx context.Context) error

// ErrDuplicateCheck is returned when a health check name is registered twice.
var ErrDuplicateCheck = errors.New("health check already registered")

// Health is a set of named health checks. The zero value is empty and ready.
type Health struct {
	mu     sync.RWMutex
	checks map[string]HealthCheck
}

// Register adds a named check.
func (h *Health) Register(name string, check HealthCheck) error {
	if name == "" || check == nil {
		return errors.New("health check needs a name and a function")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.checks[name]; ok {
		return fmt.Errorf("%q: %w", name, ErrDuplicateCheck)
	}
	if h.checks == nil {
		h.checks = make(map[string]HealthCheck)
	}
	h.checks[name] = check
	return nil
}

// Unregister removes a named check, if present.
func (h *Health) Unregister(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.checks, name)
}

// Names returns the registered check names, sorted.
func (h *Health) Names() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return slices.Sorted(maps.Keys(h.checks))
}

// Check runs every check concurrently and returns the failing ones by name;
// an empty map means healthy. A check that panics fails.
func (h *Health) Check(ctx context.Context) map[string]error {
	h.mu.RLock()
	checks := maps.Clone(h.checks)
	h.mu.RUnlock()

	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		failing = map[string]error{}
	)
	for name, check := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := runCheck(ctx, check); err != nil {
				mu.Lock()
				failing[name] = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failing
}

func runCheck(ctx context.Context, check HealthCheck) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("health check panicked: %v", p)
		}
	}()
	return check(ctx)
}
