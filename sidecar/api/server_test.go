package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	cryptocodec "github.com/cosmos/cosmos-sdk/crypto/codec"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/runner"
)

// fakeLeases is a LeaseLookup over a map.
type fakeLeases struct {
	mu     sync.Mutex
	leases map[uint64]fakeLease
	err    error
}

type fakeLease struct {
	tenant       string
	gpus         []string
	manifestHash []byte
	active       bool
}

func (f *fakeLeases) LeaseTenant(_ context.Context, id uint64) (string, []string, []byte, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", nil, nil, false, f.err
	}
	l, ok := f.leases[id]
	if !ok {
		return "", nil, nil, false, fmt.Errorf("lease %d: %w", id, ErrLeaseNotFound)
	}
	return l.tenant, l.gpus, l.manifestHash, l.active, nil
}

type fixture struct {
	srv    *Server
	leases *fakeLeases
	runner *runner.Runner
	tenant *secp256k1.PrivKey
	other  *secp256k1.PrivKey
	addr   string
}

var testManifest = []byte(`{"command":["/bin/sh","-c","echo hello from $CUDA_VISIBLE_DEVICES; mkdir -p \"$CRUCIBLE_OUTPUT_DIR/dir x\"; printf result > \"$CRUCIBLE_OUTPUT_DIR/dir x/out.txt\""]}`)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	rcfg := config.TestRunnerConfig()
	rcfg.WorkDir = t.TempDir()
	rn, err := runner.New(rcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rn.Close() })
	tenant := secp256k1.GenPrivKeyFromSecret([]byte("tenant"))
	other := secp256k1.GenPrivKeyFromSecret([]byte("other"))
	addr, err := Address(tenant.PubKey().(*secp256k1.PubKey))
	if err != nil {
		t.Fatal(err)
	}
	mh := sha256.Sum256(testManifest)
	leases := &fakeLeases{leases: map[uint64]fakeLease{
		1: {tenant: addr, gpus: []string{"GPU-a", "GPU-b"}, manifestHash: mh[:], active: true},
		2: {tenant: addr, gpus: []string{"GPU-c"}, manifestHash: mh[:], active: false},
	}}
	srv, err := New(config.TestAPIConfig(), leases, rn, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, leases: leases, runner: rn, tenant: tenant, other: other, addr: addr}
}

// request builds a request signed by key; mutate may change it after signing.
func (f *fixture) request(t *testing.T, key *secp256k1.PrivKey, method, target string, body []byte, now time.Time) *http.Request {
	t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if key != nil {
		if err := SignRequest(req, body, PrivKeySigner{Key: key}, now); err != nil {
			t.Fatal(err)
		}
	}
	return req
}

func serve(srv *Server, req *http.Request) (*httptest.ResponseRecorder, *Error) {
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code/100 == 2 {
		return rec, nil
	}
	e := &Error{Status: rec.Code}
	_ = json.Unmarshal(rec.Body.Bytes(), e)
	return rec, e
}

func TestGoodRequest(t *testing.T) {
	f := newFixture(t)
	rec, e := serve(f.srv, f.request(t, f.tenant, "GET", "/v1/leases/1", nil, time.Now()))
	if e != nil {
		t.Fatalf("refused: %+v", e)
	}
	var st LeaseStatus
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if st.LeaseID != 1 || !st.Active || st.State != StateAwaitingManifest || st.Job != nil {
		t.Fatalf("status %+v", st)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	maxAge := config.TestAPIConfig().SignatureMaxAge.Std()
	big := bytes.Repeat([]byte("x"), int(config.TestAPIConfig().MaxRequestBytes)+1)

	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"unsigned", func() *http.Request { return f.request(t, nil, "GET", "/v1/leases/1", nil, now) }, 401, CodeUnauthenticated},
		{"one header missing", func() *http.Request {
			r := f.request(t, f.tenant, "GET", "/v1/leases/1", nil, now)
			r.Header.Del(HeaderNonce)
			return r
		}, 401, CodeUnauthenticated},
		{"wrong signature", func() *http.Request {
			r := f.request(t, f.tenant, "GET", "/v1/leases/1", nil, now)
			sig, _ := base64.StdEncoding.DecodeString(r.Header.Get(HeaderSignature))
			sig[10] ^= 1
			r.Header.Set(HeaderSignature, base64.StdEncoding.EncodeToString(sig))
			return r
		}, 401, CodeBadSignature},
		{"signature over another path", func() *http.Request {
			r := f.request(t, f.tenant, "GET", "/v1/leases/1", nil, now)
			r2 := httptest.NewRequest("GET", "/v1/leases/1/results", nil)
			r2.Header = r.Header
			return r2
		}, 401, CodeBadSignature},
		{"signature over another body", func() *http.Request {
			r := f.request(t, f.tenant, "POST", "/v1/leases/1/manifest", testManifest, now)
			r2 := httptest.NewRequest("POST", "/v1/leases/1/manifest", strings.NewReader(`{"command":["rm","-rf","/"]}`))
			r2.Header = r.Header
			return r2
		}, 401, CodeBadSignature},
		{"key is not the address", func() *http.Request {
			r := f.request(t, f.other, "GET", "/v1/leases/1", nil, now)
			r.Header.Set(HeaderAddress, f.addr)
			return r
		}, 401, CodeAddressMismatch},
		{"not the tenant", func() *http.Request { return f.request(t, f.other, "GET", "/v1/leases/1", nil, now) }, 403, CodeNotTenant},
		{"stale", func() *http.Request {
			return f.request(t, f.tenant, "GET", "/v1/leases/1", nil, now.Add(-maxAge-2*time.Second))
		}, 401, CodeStaleTimestamp},
		{"future", func() *http.Request {
			return f.request(t, f.tenant, "GET", "/v1/leases/1", nil, now.Add(maxAge+2*time.Second))
		}, 401, CodeStaleTimestamp},
		{"oversized", func() *http.Request { return f.request(t, f.tenant, "POST", "/v1/leases/1/manifest", big, now) }, 413, CodeBodyTooLarge},
		{"oversized, no length", func() *http.Request {
			r := f.request(t, f.tenant, "POST", "/v1/leases/1/manifest", big, now)
			r.ContentLength = -1
			return r
		}, 413, CodeBodyTooLarge},
		{"unknown lease", func() *http.Request { return f.request(t, f.tenant, "GET", "/v1/leases/99", nil, now) }, 404, CodeLeaseNotFound},
		{"bad lease id", func() *http.Request { return f.request(t, f.tenant, "GET", "/v1/leases/01", nil, now) }, 400, CodeBadRequest},
		{"bad timestamp", func() *http.Request {
			r := f.request(t, f.tenant, "GET", "/v1/leases/1", nil, now)
			r.Header.Set(HeaderTimestamp, "+"+r.Header.Get(HeaderTimestamp))
			return r
		}, 400, CodeMalformedAuth},
		{"bad pubkey", func() *http.Request {
			r := f.request(t, f.tenant, "GET", "/v1/leases/1", nil, now)
			r.Header.Set(HeaderPubKey, "AAAA")
			return r
		}, 400, CodeMalformedAuth},
		{"bad address", func() *http.Request {
			r := f.request(t, f.tenant, "GET", "/v1/leases/1", nil, now)
			r.Header.Set(HeaderAddress, "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu")
			return r
		}, 400, CodeMalformedAuth},
		{"short nonce", func() *http.Request {
			r := f.request(t, f.tenant, "GET", "/v1/leases/1", nil, now)
			r.Header.Set(HeaderNonce, "abcd")
			return r
		}, 400, CodeMalformedAuth},
		{"duplicate header", func() *http.Request {
			r := f.request(t, f.tenant, "GET", "/v1/leases/1", nil, now)
			r.Header.Add(HeaderSignature, r.Header.Get(HeaderSignature))
			return r
		}, 400, CodeMalformedAuth},
		{"no such endpoint", func() *http.Request { return f.request(t, f.tenant, "GET", "/v2/x", nil, now) }, 404, CodeNotFound},
		{"no job yet: logs", func() *http.Request { return f.request(t, f.tenant, "GET", "/v1/leases/1/logs", nil, now) }, 404, CodeNoJob},
		{"no job yet: results", func() *http.Request { return f.request(t, f.tenant, "GET", "/v1/leases/1/results", nil, now) }, 404, CodeNoJob},
		{"inactive lease: manifest", func() *http.Request {
			return f.request(t, f.tenant, "POST", "/v1/leases/2/manifest", testManifest, now)
		}, 409, CodeLeaseInactive},
		{"manifest hash mismatch", func() *http.Request {
			return f.request(t, f.tenant, "POST", "/v1/leases/1/manifest", []byte(`{"command":["true"]}`), now)
		}, 400, CodeManifestMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, e := serve(f.srv, c.req())
			if e == nil || e.Status != c.status || e.Code != c.code || e.Message == "" {
				t.Fatalf("got %d %s, want %d %s (%+v)", rec.Code, rec.Body.String(), c.status, c.code, e)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
		})
	}
}

func TestReplayedNonce(t *testing.T) {
	f := newFixture(t)
	req := f.request(t, f.tenant, "GET", "/v1/leases/1", nil, time.Now())
	if _, e := serve(f.srv, req); e != nil {
		t.Fatalf("first: %+v", e)
	}
	again := httptest.NewRequest("GET", "/v1/leases/1", nil)
	again.Header = req.Header.Clone()
	if _, e := serve(f.srv, again); e == nil || e.Status != 401 || e.Code != CodeReplayedNonce {
		t.Fatalf("replay: %+v", e)
	}
}

func TestNonceCacheBoundedAndExpires(t *testing.T) {
	f := newFixture(t)
	f.srv.nonces = newNonceCache(2)
	now := time.Now()
	f.srv.now = func() time.Time { return now }
	for i := range 2 {
		if _, e := serve(f.srv, f.request(t, f.tenant, "GET", "/v1/leases/1", nil, now)); e != nil {
			t.Fatalf("request %d: %+v", i, e)
		}
	}
	if _, e := serve(f.srv, f.request(t, f.tenant, "GET", "/v1/leases/1", nil, now)); e == nil || e.Status != 503 || e.Code != CodeBusy {
		t.Fatalf("full cache: %+v", e)
	}
	// Once the remembered timestamps are out of the window, room returns.
	later := now.Add(config.TestAPIConfig().SignatureMaxAge.Std() + 2*time.Second)
	f.srv.now = func() time.Time { return later }
	if _, e := serve(f.srv, f.request(t, f.tenant, "GET", "/v1/leases/1", nil, later)); e != nil {
		t.Fatalf("after expiry: %+v", e)
	}
	if n := f.srv.nonces.len(); n != 1 {
		t.Fatalf("cache holds %d", n)
	}
}

func TestLookupFailure(t *testing.T) {
	f := newFixture(t)
	f.leases.err = errors.New("grpc unavailable")
	if _, e := serve(f.srv, f.request(t, f.tenant, "GET", "/v1/leases/1", nil, time.Now())); e == nil || e.Status != 502 || e.Code != CodeLookupFailed {
		t.Fatalf("%+v", e)
	}
}

func TestClientRoundTrip(t *testing.T) {
	f := newFixture(t)
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	c, err := NewClient(ts.URL+"/", PrivKeySigner{Key: f.tenant}, ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	st, err := c.Status(ctx, 1)
	if err != nil || st.State != StateAwaitingManifest {
		t.Fatalf("status %+v %v", st, err)
	}
	var apiErr *Error
	if _, err := c.SubmitManifest(ctx, 1, []byte(`{"command":["true"]}`)); !errors.As(err, &apiErr) || apiErr.Code != CodeManifestMismatch || apiErr.Status != 400 {
		t.Fatalf("mismatched manifest: %v", err)
	}
	st, err = c.SubmitManifest(ctx, 1, testManifest)
	if err != nil || st.Job == nil {
		t.Fatalf("submit: %+v %v", st, err)
	}
	if _, err := c.SubmitManifest(ctx, 1, testManifest); !errors.As(err, &apiErr) || apiErr.Code != CodeAlreadySubmitted || apiErr.Status != 409 {
		t.Fatalf("second submit: %v", err)
	}
	logs, err := c.Logs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(logs)
	logs.Close()
	if err != nil || string(b) != "hello from GPU-a,GPU-b\n" {
		t.Fatalf("logs %q %v", b, err)
	}
	if _, err := f.runner.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	st, err = c.Status(ctx, 1)
	if err != nil || st.State != string(runner.StateSucceeded) {
		t.Fatalf("status %+v %v", st, err)
	}
	res, err := c.Results(ctx, 1)
	if err != nil || len(res.Files) != 1 || res.Files[0].Path != "dir x/out.txt" || res.Location != "sidecar://1/results" {
		t.Fatalf("results %+v %v", res, err)
	}
	if h := runner.ResultHash(res.Files); !bytes.Equal(h[:], res.Hash) {
		t.Fatalf("result hash %x, recomputed %x", res.Hash, h)
	}
	var buf bytes.Buffer
	sum, err := c.Download(ctx, 1, "dir x/out.txt", &buf)
	if err != nil || buf.String() != "result" || !bytes.Equal(sum, res.Files[0].SHA256) {
		t.Fatalf("download %q %x %v", buf.String(), sum, err)
	}
	for p, status := range map[string]int{"nope.txt": 404, "dir x": 404, "dir%2Fx/out.txt": 404, "../manifest.json": 400, "dir x/../dir x/out.txt": 400} {
		if _, err := c.Download(ctx, 1, p, io.Discard); !errors.As(err, &apiErr) || apiErr.Status != status {
			t.Fatalf("download %q: %v, want status %d", p, err, status)
		}
	}
	// Another account is refused by the client too.
	oc, _ := NewClient(ts.URL, PrivKeySigner{Key: f.other}, ts.Client())
	if _, err := oc.Results(ctx, 1); !errors.As(err, &apiErr) || apiErr.Status != 403 || apiErr.Code != CodeNotTenant {
		t.Fatalf("other tenant: %v", err)
	}
}

func TestKeyringSigner(t *testing.T) {
	reg := codectypes.NewInterfaceRegistry()
	cryptocodec.RegisterInterfaces(reg)
	kr := keyring.NewInMemory(codec.NewProtoCodec(reg))
	rec, _, err := kr.NewMnemonic("tenant", keyring.English, hd.CreateHDPath(118, 0, 0).String(), "", hd.Secp256k1)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := rec.GetPubKey()
	if err != nil {
		t.Fatal(err)
	}
	addr, err := Address(pub.(*secp256k1.PubKey))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	f.leases.leases[1] = fakeLease{tenant: addr, gpus: []string{"GPU-a"}, manifestHash: make([]byte, 32), active: true}
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	c, err := NewClient(ts.URL, KeyringSigner{Keyring: kr, UID: "tenant"}, ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.Status(context.Background(), 1); err != nil || st.LeaseID != 1 {
		t.Fatalf("keyring-signed request: %+v %v", st, err)
	}
}

func TestServe(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ctx, ln) }()
	c, _ := NewClient("http://"+ln.Addr().String(), PrivKeySigner{Key: f.tenant}, nil)
	if _, err := c.Status(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
