package nodebench_test

import (
	"sync"
	"testing"
	"time"

	"github.com/crucible-network/crucible/testutil/procnet"
)

// memSampler reads the resident memory of the processes it tracks from
// /proc every interval, in the background, until the test ends.
type memSampler struct {
	mu    sync.Mutex
	procs map[string]*procMem
	stop  chan struct{}
	done  chan struct{}
}

// procMem is what the sampler saw of one process, in MiB.
type procMem struct {
	pid int
	// Peak is the process's peak RSS, startup included: the kernel's VmHWM
	// or the largest VmRSS sampled, whichever is larger (Linux updates the
	// high-water mark lazily, and pages the Go runtime hands back with
	// madvise can leave it below an RSS seen earlier).
	Peak float64
	// MaxSteadyRSS is the largest VmRSS sampled after markSteady (0 before).
	MaxSteadyRSS float64
	// Samples counts the successful reads, SteadySamples those after
	// markSteady.
	Samples, SteadySamples int
	steady                 bool
}

func newMemSampler(tb testing.TB, interval time.Duration) *memSampler {
	s := &memSampler{procs: map[string]*procMem{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
				s.sampleAll()
			}
		}
	}()
	tb.Cleanup(func() { close(s.stop); <-s.done })
	return s
}

// track starts sampling process pid under name.
func (s *memSampler) track(name string, pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs[name] = &procMem{pid: pid}
	s.sampleLocked(s.procs[name])
}

// markSteady makes the following samples of name count as steady.
func (s *memSampler) markSteady(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs[name].steady = true
}

// final takes a last sample of name, which must still run (so that its
// final VmHWM is read), stops tracking it and returns what was seen.
func (s *memSampler) final(tb testing.TB, name string) procMem {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.procs[name]
	if err := s.sampleLocked(p); err != nil {
		tb.Fatalf("%s (pid %d): last memory sample: %v", name, p.pid, err)
	}
	delete(s.procs, name)
	return *p
}

func (s *memSampler) sampleAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		_ = s.sampleLocked(p) // a process that has exited keeps its last figures
	}
}

func (s *memSampler) sampleLocked(p *procMem) error {
	m, err := procnet.ReadMem(p.pid)
	if err != nil {
		return err
	}
	p.Samples++
	p.Peak = max(p.Peak, m.Peak, m.RSS)
	if p.steady {
		p.SteadySamples++
		p.MaxSteadyRSS = max(p.MaxSteadyRSS, m.RSS)
	}
	return nil
}
