// Package api is the sidecar's tenant API: JSON over HTTP, every request
// signed by the tenant's account key (see SignBytes) and checked against the
// lease's tenant on chain (LeaseLookup).
//
//	GET  /v1/leases/{id}                 lease and job status (LeaseStatus)
//	POST /v1/leases/{id}/manifest        submit the job manifest (body: its exact bytes)
//	GET  /v1/leases/{id}/logs            the job's log: what exists, then live (chunked)
//	GET  /v1/leases/{id}/results         the result: hash, location, files (runner.Result)
//	GET  /v1/leases/{id}/results/{file}  download one result file
//	ANY  /v1/leases/{id}/ports/{port}/.. the job's exposed port (see proxy.go)
//
// Failures are JSON Error bodies {code, message}: 400 for malformed
// requests, 401 for unsigned or badly signed ones (wrong signature, key not
// matching the address, timestamp outside signature_max_age, replayed
// nonce), 403 when the signer is not the lease's tenant, 404 for unknown
// leases, jobs, results and files, 409 for conflicts (manifest already
// submitted, lease no longer active), 413 for bodies above max_request_bytes.
package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"strconv"
	"time"

	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/runner"
)

// ErrLeaseNotFound is what a LeaseLookup wraps for a lease that does not exist.
var ErrLeaseNotFound = errors.New("lease not found")

// LeaseLookup reads a lease from the chain. The chain client implements it.
type LeaseLookup interface {
	// LeaseTenant returns the lease's tenant (bech32), its GPU UUIDs, the
	// job manifest hash its order carries, and whether it is active. A
	// missing lease is an error wrapping ErrLeaseNotFound.
	LeaseTenant(ctx context.Context, leaseID uint64) (tenant string, gpuUUIDs []string, manifestHash []byte, active bool, err error)
}

// Jobs is the part of the lease runner the API uses; *runner.Runner
// implements it.
type Jobs interface {
	Start(ctx context.Context, leaseID uint64, manifestHash, manifest []byte, gpuUUIDs []string) (runner.Status, error)
	Status(leaseID uint64) (runner.Status, error)
	Subscribe(ctx context.Context, leaseID uint64) (io.ReadCloser, error)
	Result(leaseID uint64) (runner.Result, error)
	OpenResultFile(leaseID uint64, path string) (*os.File, runner.File, error)
}

var _ Jobs = (*runner.Runner)(nil)

// StateAwaitingManifest is LeaseStatus.State before a manifest is submitted.
const StateAwaitingManifest = "awaiting_manifest"

// LeaseStatus answers GET /v1/leases/{id} and POST .../manifest.
type LeaseStatus struct {
	LeaseID uint64 `json:"lease_id"`
	Active  bool   `json:"active"`
	// State is the job's state (runner.State) or "awaiting_manifest".
	State string         `json:"state"`
	Job   *runner.Status `json:"job,omitempty"`
}

// Server serves the tenant API.
type Server struct {
	cfg    config.APIConfig
	leases LeaseLookup
	jobs   Jobs
	logger *slog.Logger
	nonces *nonceCache
	now    func() time.Time
	mux    *http.ServeMux
}

// New returns a server. A nil logger discards logs.
func New(cfg config.APIConfig, leases LeaseLookup, jobs Jobs, logger *slog.Logger) (*Server, error) {
	if err := cfg.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("api config: %w", err)
	}
	if leases == nil || jobs == nil {
		return nil, errors.New("api: lease lookup and jobs are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:    cfg,
		leases: leases,
		jobs:   jobs,
		logger: logger.With("module", "api"),
		nonces: newNonceCache(DefaultNonceCapacity),
		now:    time.Now,
		mux:    http.NewServeMux(),
	}
	s.mux.Handle("GET /v1/leases/{id}", s.authed(s.getStatus))
	s.mux.Handle("POST /v1/leases/{id}/manifest", s.authed(s.postManifest))
	s.mux.Handle("GET /v1/leases/{id}/logs", s.authed(s.getLogs))
	s.mux.Handle("GET /v1/leases/{id}/results", s.authed(s.getResults))
	s.mux.Handle("GET /v1/leases/{id}/results/{file...}", s.authed(s.getFile))
	s.mux.Handle("/v1/leases/{id}/ports/{port}", s.authed(s.proxy))
	s.mux.Handle("/v1/leases/{id}/ports/{port}/{path...}", s.authed(s.proxy))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusNotFound, CodeNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return s, nil
}

// ServeHTTP implements http.Handler. Paths that are not clean ("/./",
// "//", "..") are refused rather than redirected: a signature covers the
// path as sent.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// One trailing slash is kept: proxied paths may end with one.
	if p := r.URL.Path; p == "" || p[0] != '/' || (path.Clean(p) != p && path.Clean(p)+"/" != p) {
		writeError(w, errorf(http.StatusBadRequest, CodeBadRequest, "path %q is not in canonical form", p))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Serve serves on ln until ctx is done, then shuts down gracefully (open
// log streams are cut after 5 s).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.logger.Info("tenant api listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// lease is an authenticated request's lease.
type lease struct {
	id           uint64
	tenant       string
	gpus         []string
	manifestHash []byte
	active       bool
}

type handler func(w http.ResponseWriter, r *http.Request, l lease, body []byte)

// authed reads the body (bounded), checks the signature, time and nonce,
// looks the lease up and checks that the signer is its tenant.
func (s *Server) authed(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, body, e := s.authenticate(r, w)
		if e != nil {
			if e.Status >= 500 {
				s.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", e.Message)
			} else {
				s.logger.Debug("request refused", "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", e.Message)
			}
			writeError(w, e)
			return
		}
		h(w, r, l, body)
	})
}

func (s *Server) authenticate(r *http.Request, w http.ResponseWriter) (lease, []byte, *Error) {
	idText := r.PathValue("id")
	id, err := strconv.ParseUint(idText, 10, 64)
	if err != nil || strconv.FormatUint(id, 10) != idText {
		return lease{}, nil, errorf(http.StatusBadRequest, CodeBadRequest, "lease id %q is not a decimal number", idText)
	}
	max := int64(s.cfg.MaxRequestBytes)
	if r.ContentLength > max {
		return lease{}, nil, errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "body of %d bytes is more than %d", r.ContentLength, max)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return lease{}, nil, errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "body is more than %d bytes", max)
		}
		return lease{}, nil, errorf(http.StatusBadRequest, CodeBadRequest, "cannot read the body: %v", err)
	}
	cred, e := parseCredentials(r.Header)
	if e != nil {
		return lease{}, nil, e
	}
	now := s.now()
	maxAge := s.cfg.SignatureMaxAge.Std()
	ts := time.Unix(cred.timestamp, 0)
	if d := now.Sub(ts); d > maxAge || d < -maxAge {
		return lease{}, nil, errorf(http.StatusUnauthorized, CodeStaleTimestamp, "timestamp %d is more than %s from the server's time %d", cred.timestamp, maxAge, now.Unix())
	}
	if e := cred.verify(r.Method, requestTarget(r), body); e != nil {
		return lease{}, nil, e
	}
	// Remember the nonce for as long as its timestamp is acceptable.
	ok, full := s.nonces.add(cred.address+"/"+cred.nonce, ts.Add(maxAge+time.Second), now)
	if full {
		return lease{}, nil, errorf(http.StatusServiceUnavailable, CodeBusy, "too many recent requests; retry later")
	}
	if !ok {
		return lease{}, nil, errorf(http.StatusUnauthorized, CodeReplayedNonce, "nonce already used")
	}
	tenant, gpus, mh, active, err := s.leases.LeaseTenant(r.Context(), id)
	if errors.Is(err, ErrLeaseNotFound) {
		return lease{}, nil, errorf(http.StatusNotFound, CodeLeaseNotFound, "lease %d not found", id)
	}
	if err != nil {
		return lease{}, nil, errorf(http.StatusBadGateway, CodeLookupFailed, "cannot look up lease %d: %v", id, err)
	}
	if tenant != cred.address {
		return lease{}, nil, errorf(http.StatusForbidden, CodeNotTenant, "%s is not the tenant of lease %d", cred.address, id)
	}
	return lease{id: id, tenant: tenant, gpus: gpus, manifestHash: mh, active: active}, body, nil
}

func (s *Server) leaseStatus(l lease) (LeaseStatus, *Error) {
	out := LeaseStatus{LeaseID: l.id, Active: l.active, State: StateAwaitingManifest}
	st, err := s.jobs.Status(l.id)
	switch {
	case errors.Is(err, runner.ErrUnknownLease):
	case err != nil:
		return out, errorf(http.StatusInternalServerError, CodeInternal, "job status: %v", err)
	default:
		out.State = string(st.State)
		out.Job = &st
	}
	return out, nil
}

func (s *Server) getStatus(w http.ResponseWriter, _ *http.Request, l lease, _ []byte) {
	st, e := s.leaseStatus(l)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) postManifest(w http.ResponseWriter, r *http.Request, l lease, body []byte) {
	if !l.active {
		writeError(w, errorf(http.StatusConflict, CodeLeaseInactive, "lease %d is not active", l.id))
		return
	}
	_, err := s.jobs.Start(r.Context(), l.id, l.manifestHash, body, l.gpus)
	switch {
	case err == nil:
	case errors.Is(err, runner.ErrManifestHash):
		writeError(w, errorf(http.StatusBadRequest, CodeManifestMismatch, "%v", err))
		return
	case errors.Is(err, runner.ErrBadManifest):
		writeError(w, errorf(http.StatusBadRequest, CodeBadManifest, "%v", err))
		return
	case errors.Is(err, runner.ErrAlreadyStarted):
		writeError(w, errorf(http.StatusConflict, CodeAlreadySubmitted, "lease %d already has a job", l.id))
		return
	case errors.Is(err, runner.ErrClosed):
		writeError(w, errorf(http.StatusServiceUnavailable, CodeBusy, "the sidecar is stopping"))
		return
	default:
		s.logger.Error("cannot start job", "lease", l.id, "err", err)
		writeError(w, errorf(http.StatusInternalServerError, CodeInternal, "cannot start the job"))
		return
	}
	s.logger.Info("manifest accepted", "lease", l.id, "tenant", l.tenant)
	st, e := s.leaseStatus(l)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusAccepted, st)
}

func (s *Server) getLogs(w http.ResponseWriter, r *http.Request, l lease, _ []byte) {
	rc, err := s.jobs.Subscribe(r.Context(), l.id)
	if errors.Is(err, runner.ErrUnknownLease) {
		writeError(w, errorf(http.StatusNotFound, CodeNoJob, "lease %d has no job yet", l.id))
		return
	}
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, CodeInternal, "cannot open the log"))
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rctl := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := rc.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rctl.Flush()
		}
		if err != nil {
			return
		}
	}
}

func (s *Server) resultError(l lease, err error) *Error {
	switch {
	case errors.Is(err, runner.ErrUnknownLease):
		return errorf(http.StatusNotFound, CodeNoJob, "lease %d has no job yet", l.id)
	case errors.Is(err, runner.ErrNoResult):
		return errorf(http.StatusNotFound, CodeNoResult, "%v", err)
	case errors.Is(err, runner.ErrNoFile):
		return errorf(http.StatusNotFound, CodeNoFile, "%v", err)
	}
	s.logger.Error("cannot read result", "lease", l.id, "err", err)
	return errorf(http.StatusInternalServerError, CodeInternal, "cannot read the result")
}

func (s *Server) getResults(w http.ResponseWriter, _ *http.Request, l lease, _ []byte) {
	res, err := s.jobs.Result(l.id)
	if err != nil {
		writeError(w, s.resultError(l, err))
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request, l lease, _ []byte) {
	f, file, err := s.jobs.OpenResultFile(l.id, r.PathValue("file"))
	if err != nil {
		writeError(w, s.resultError(l, err))
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set(HeaderFileSHA256, file.SHA256.String())
	http.ServeContent(w, r, "", time.Time{}, f)
}
