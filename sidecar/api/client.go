package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"

	"github.com/crucible-network/crucible/sidecar/runner"
)

// Signer signs request digests with a tenant's secp256k1 account key, the
// way Cosmos SDK keys sign (SHA256 of msg, then ECDSA; 64-byte r || s).
type Signer interface {
	Sign(msg []byte) (sig []byte, pub cryptotypes.PubKey, err error)
}

// KeyringSigner signs with a key of a Cosmos SDK keyring (the one
// `crucibled keys` manages).
type KeyringSigner struct {
	Keyring keyring.Keyring
	// UID is the key's name in the keyring.
	UID string
}

// Sign implements Signer. Local keys ignore the sign mode; Ledger devices
// cannot sign these arbitrary digests.
func (s KeyringSigner) Sign(msg []byte) ([]byte, cryptotypes.PubKey, error) {
	return s.Keyring.Sign(s.UID, msg, signing.SignMode_SIGN_MODE_DIRECT)
}

// PrivKeySigner signs with an in-memory key (tests, tools).
type PrivKeySigner struct{ Key *secp256k1.PrivKey }

// Sign implements Signer.
func (s PrivKeySigner) Sign(msg []byte) ([]byte, cryptotypes.PubKey, error) {
	sig, err := s.Key.Sign(msg)
	if err != nil {
		return nil, nil, err
	}
	return sig, s.Key.PubKey(), nil
}

// SignRequest sets the five signing headers of req for body (which must be
// what req sends). The target signed is req.URL.RequestURI().
func SignRequest(req *http.Request, body []byte, signer Signer, now time.Time) error {
	var nb [16]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return err
	}
	nonce := hex.EncodeToString(nb[:])
	ts := strconv.FormatInt(now.Unix(), 10)
	sig, pub, err := signer.Sign(SignBytes(req.Method, req.URL.RequestURI(), ts, nonce, body))
	if err != nil {
		return fmt.Errorf("tenant api: sign request: %w", err)
	}
	spub, ok := pub.(*secp256k1.PubKey)
	if !ok {
		return fmt.Errorf("tenant api: key type %T is not secp256k1", pub)
	}
	addr, err := Address(spub)
	if err != nil {
		return err
	}
	req.Header.Set(HeaderAddress, addr)
	req.Header.Set(HeaderPubKey, base64.StdEncoding.EncodeToString(spub.Key))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	return nil
}

// Client calls a sidecar's tenant API with signed requests. Failed requests
// return an *Error with the server's status and code.
type Client struct {
	base   *url.URL
	signer Signer
	http   *http.Client
	now    func() time.Time
}

// NewClient returns a client of the API at baseURL (e.g. the provider's
// host_uri, "https://gpu.example.com:8443"). A nil httpClient uses one
// without an overall timeout (log streams are long); bound calls with ctx.
func NewClient(baseURL string, signer Signer, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("tenant api: base url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("tenant api: base url %q: want http(s)://host[:port]", baseURL)
	}
	if signer == nil {
		return nil, errors.New("tenant api: a signer is required")
	}
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return &Client{base: u, signer: signer, http: httpClient, now: time.Now}, nil
}

// do sends a signed request to path (already escaped, under the base URL)
// and returns the response when its status is want; otherwise the *Error.
func (c *Client) do(ctx context.Context, method, escapedPath string, body []byte, want int) (*http.Response, error) {
	u := *c.base
	full := u.EscapedPath() + escapedPath
	p, err := url.PathUnescape(full)
	if err != nil {
		return nil, err
	}
	u.Path, u.RawPath = p, full
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body == nil {
		req.Body, req.ContentLength, req.GetBody = http.NoBody, 0, nil
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := SignRequest(req, body, c.signer, c.now()); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("tenant api: %s %s: %w", method, escapedPath, err)
	}
	if resp.StatusCode == want {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{Status: resp.StatusCode}
	if json.Unmarshal(b, e) != nil || e.Code == "" {
		e.Code, e.Message = CodeInternal, strings.TrimSpace(string(b))
	}
	return nil, e
}

func (c *Client) doJSON(ctx context.Context, method, path string, body []byte, want int, out any) error {
	resp, err := c.do(ctx, method, path, body, want)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		return fmt.Errorf("tenant api: decode %s response: %w", path, err)
	}
	return nil
}

func leasePath(id uint64) string { return "/v1/leases/" + strconv.FormatUint(id, 10) }

// Status returns a lease's status.
func (c *Client) Status(ctx context.Context, leaseID uint64) (LeaseStatus, error) {
	var out LeaseStatus
	err := c.doJSON(ctx, http.MethodGet, leasePath(leaseID), nil, http.StatusOK, &out)
	return out, err
}

// SubmitManifest sends the job manifest, byte for byte as hashed into the order.
func (c *Client) SubmitManifest(ctx context.Context, leaseID uint64, manifest []byte) (LeaseStatus, error) {
	var out LeaseStatus
	if manifest == nil {
		manifest = []byte{}
	}
	err := c.doJSON(ctx, http.MethodPost, leasePath(leaseID)+"/manifest", manifest, http.StatusAccepted, &out)
	return out, err
}

// Logs returns the job's log stream: everything so far, then live output
// until the job ends (EOF). The caller closes it; ctx cancels it.
func (c *Client) Logs(ctx context.Context, leaseID uint64) (io.ReadCloser, error) {
	resp, err := c.do(ctx, http.MethodGet, leasePath(leaseID)+"/logs", nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Results returns the job's result (hash, location, files).
func (c *Client) Results(ctx context.Context, leaseID uint64) (runner.Result, error) {
	var out runner.Result
	err := c.doJSON(ctx, http.MethodGet, leasePath(leaseID)+"/results", nil, http.StatusOK, &out)
	return out, err
}

// Download writes one result file (path as in Result.Files) to w and
// checks it against the SHA256 the server announces; it returns that hash.
func (c *Client) Download(ctx context.Context, leaseID uint64, path string, w io.Writer) ([]byte, error) {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	resp, err := c.do(ctx, http.MethodGet, leasePath(leaseID)+"/results/"+strings.Join(segs, "/"), nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	want, err := hex.DecodeString(resp.Header.Get(HeaderFileSHA256))
	if err != nil || len(want) != sha256.Size {
		return nil, fmt.Errorf("tenant api: download %s: missing or bad %s header", path, HeaderFileSHA256)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, h), resp.Body); err != nil {
		return nil, fmt.Errorf("tenant api: download %s: %w", path, err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		return nil, fmt.Errorf("tenant api: download %s: sha256 %x, server announced %x", path, got, want)
	}
	return want, nil
}
