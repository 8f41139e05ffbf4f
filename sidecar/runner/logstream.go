package runner

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
)

// errOutputLimit marks output beyond max_output_bytes.
var errOutputLimit = errors.New("output limit exceeded")

// jobLog is a job's combined stdout and stderr: a file on disk plus the
// bookkeeping that lets readers follow it live. Writes past limit are
// dropped and reported once through overflow.
type jobLog struct {
	path  string
	limit int64

	mu       sync.Mutex
	f        *os.File // nil once closed for writing
	size     int64
	done     bool
	changed  chan struct{} // closed and replaced on every change
	overflow func()
}

// newJobLog creates (truncating) the log file for writing.
func newJobLog(path string, limit int64, overflow func()) (*jobLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	return &jobLog{path: path, limit: limit, f: f, changed: make(chan struct{}), overflow: overflow}, nil
}

// appendJobLog reopens the log of a re-adopted job for appending: readers
// still get it from its first byte.
func appendJobLog(path string, limit int64, overflow func()) (*jobLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &jobLog{path: path, limit: limit, f: f, size: fi.Size(), changed: make(chan struct{}), overflow: overflow}, nil
}

// detach closes the log file of a job left running for the next sidecar;
// readers get EOF at its end.
func (l *jobLog) detach() { l.finish() }

// finishedLog serves an existing log file of a job that has ended.
func finishedLog(path string) *jobLog {
	l := &jobLog{path: path, done: true, changed: make(chan struct{})}
	if fi, err := os.Stat(path); err == nil {
		l.size = fi.Size()
	}
	return l
}

// Write appends p, up to the limit. It never fails, so the copy from the
// job's pipe keeps draining it after an overflow.
func (l *jobLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return len(p), nil
	}
	room := l.limit - l.size
	q := p
	over := false
	if int64(len(q)) > room {
		q, over = q[:max(room, 0)], true
	}
	if len(q) > 0 {
		n, _ := l.f.Write(q)
		l.size += int64(n)
		l.notify()
	}
	if over && l.overflow != nil {
		l.overflow()
		l.overflow = nil
	}
	return len(p), nil
}

// Size returns the bytes written.
func (l *jobLog) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size
}

// finish closes the log for writing; readers get EOF at its end.
func (l *jobLog) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		_ = l.f.Sync()
		_ = l.f.Close()
		l.f = nil
	}
	l.done = true
	l.notify()
}

func (l *jobLog) notify() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// reader returns a reader of the whole log from its start, which follows
// new output until the job ends, then returns io.EOF. ctx ends a blocked
// Read (with ctx's error).
func (l *jobLog) reader(ctx context.Context) (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) {
		l.mu.Lock()
		done := l.done
		l.mu.Unlock()
		if done {
			return io.NopCloser(eofReader{}), nil
		}
	}
	if err != nil {
		return nil, err
	}
	return &logReader{ctx: ctx, log: l, f: f}, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

type logReader struct {
	ctx context.Context
	log *jobLog
	f   *os.File
	off int64
}

// Read implements io.Reader.
func (r *logReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		r.log.mu.Lock()
		size, done, changed := r.log.size, r.log.done, r.log.changed
		r.log.mu.Unlock()
		if r.off < size {
			n := int64(len(p))
			n = min(n, size-r.off)
			m, err := r.f.ReadAt(p[:n], r.off)
			r.off += int64(m)
			if m > 0 {
				return m, nil
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return 0, err
			}
		}
		if done {
			return 0, io.EOF
		}
		select {
		case <-changed:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
}

// Close implements io.Closer.
func (r *logReader) Close() error { return r.f.Close() }
