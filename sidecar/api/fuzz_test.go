package api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzRequest")

// fuzzNow is the server clock of the fuzz target, so signed seeds stay valid.
var fuzzNow = time.Unix(1_750_000_000, 0)

type fuzzInput struct {
	method, target, address, pubkey, timestamp, nonce, signature string
	body                                                         []byte
}

// fuzzSeeds are valid and nearly valid requests.
func fuzzSeeds(t testing.TB) []fuzzInput {
	key := secp256k1.GenPrivKeyFromSecret([]byte("tenant"))
	signed := func(method, target string, body []byte) fuzzInput {
		req := httptest.NewRequest(method, target, bytes.NewReader(body))
		if err := SignRequest(req, body, PrivKeySigner{Key: key}, fuzzNow); err != nil {
			t.Fatal(err)
		}
		h := req.Header
		return fuzzInput{method, target, h.Get(HeaderAddress), h.Get(HeaderPubKey), h.Get(HeaderTimestamp), h.Get(HeaderNonce), h.Get(HeaderSignature), body}
	}
	good := signed("GET", "/v1/leases/1", nil)
	post := signed("POST", "/v1/leases/1/manifest", testManifest)
	file := signed("GET", "/v1/leases/1/results/dir%20x/out.txt", nil)
	bad := good
	bad.signature = "AAAA"
	empty := fuzzInput{method: "GET", target: "/v1/leases/1"}
	weird := fuzzInput{"GET", "/v1/leases/18446744073709551616/logs?x=%zz", "cru1\x00", "====", "-1", "ZZ", "\xff", []byte{0, 1, 2}}
	return []fuzzInput{good, post, file, bad, empty, weird}
}

func FuzzRequest(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s.method, s.target, s.address, s.pubkey, s.timestamp, s.nonce, s.signature, s.body)
	}
	fx := newFixture(f)
	fx.srv.now = func() time.Time { return fuzzNow }
	allowed := map[int]bool{200: true, 202: true, 400: true, 401: true, 403: true, 404: true, 405: true, 409: true, 413: true, 503: true}
	f.Fuzz(func(t *testing.T, method, target, address, pubkey, timestamp, nonce, signature string, body []byte) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		req := (&http.Request{
			Method: method, URL: u, RequestURI: target, Host: "sidecar.example",
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
		}).WithContext(context.Background())
		for k, v := range map[string]string{HeaderAddress: address, HeaderPubKey: pubkey, HeaderTimestamp: timestamp, HeaderNonce: nonce, HeaderSignature: signature} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		fx.srv.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && rec.Code != 405 {
			var e Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("status %d with body %q", rec.Code, rec.Body.String())
			}
		}
		// The parser alone never panics either.
		h := http.Header{}
		h.Set(HeaderAddress, address)
		h.Set(HeaderPubKey, pubkey)
		h.Set(HeaderTimestamp, timestamp)
		h.Set(HeaderNonce, nonce)
		h.Set(HeaderSignature, signature)
		if c, e := parseCredentials(h); e == nil {
			_ = c.verify(method, target, body)
		}
	})
}

// TestFuzzSeedCorpus checks (or with -update-corpus writes) the committed
// seed corpus, and that the signed seeds really pass.
func TestFuzzSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzRequest")
	seeds := fuzzSeeds(t)
	for i, s := range seeds {
		content := fmt.Sprintf("go test fuzz v1\nstring(%s)\nstring(%s)\nstring(%s)\nstring(%s)\nstring(%s)\nstring(%s)\nstring(%s)\n[]byte(%s)\n",
			strconv.Quote(s.method), strconv.Quote(s.target), strconv.Quote(s.address), strconv.Quote(s.pubkey),
			strconv.Quote(s.timestamp), strconv.Quote(s.nonce), strconv.Quote(s.signature), strconv.Quote(string(s.body)))
		path := filepath.Join(dir, fmt.Sprintf("seed-%d", i))
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("seed corpus file missing (run go test -run TestFuzzSeedCorpus -update-corpus): %v", err)
		}
	}
	fx := newFixture(t)
	fx.srv.now = func() time.Time { return fuzzNow }
	for _, s := range seeds[:2] {
		req := httptest.NewRequest(s.method, s.target, bytes.NewReader(s.body))
		req.Header.Set(HeaderAddress, s.address)
		req.Header.Set(HeaderPubKey, s.pubkey)
		req.Header.Set(HeaderTimestamp, s.timestamp)
		req.Header.Set(HeaderNonce, s.nonce)
		req.Header.Set(HeaderSignature, s.signature)
		if _, e := serve(fx.srv, req); e != nil {
			t.Fatalf("signed seed %s %s refused: %+v", s.method, s.target, e)
		}
	}
}
