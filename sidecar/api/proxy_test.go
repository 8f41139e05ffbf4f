package api

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/runner"
	"github.com/crucible-network/crucible/sidecar/runner/runnertest"
)

// portJobs is the fixture's runner with ports served by test servers:
// 8000 is HTTP, 9000 a TCP echo.
type portJobs struct {
	*runner.Runner
	httpAddr *string
	echoAddr string
}

func (p portJobs) setHTTP(addr string) { *p.httpAddr = addr }

func (p portJobs) DialPort(ctx context.Context, _ uint64, port uint16) (net.Conn, runner.Port, error) {
	var d net.Dialer
	switch port {
	case 8000:
		c, err := d.DialContext(ctx, "tcp", *p.httpAddr)
		return c, runner.Port{Port: port, Protocol: runner.ProtocolHTTP}, err
	case 9000:
		c, err := d.DialContext(ctx, "tcp", p.echoAddr)
		return c, runner.Port{Port: port, Protocol: runner.ProtocolTCP}, err
	}
	return nil, runner.Port{}, fmt.Errorf("%w: port %d", runner.ErrNoPort, port)
}

func proxyFixture(t *testing.T) (*fixture, string) {
	t.Helper()
	f := newFixture(t)
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upstream := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var signed []string
		for k := range r.Header {
			if strings.HasPrefix(k, "X-Crucible-") {
				signed = append(signed, k)
			}
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s body=%s leaked=%v", r.Method, r.URL.RequestURI(), body, signed)
	})}
	go func() { _ = upstream.Serve(up) }()
	t.Cleanup(func() { _ = upstream.Close() })
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = echo.Close() })
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	httpAddr := up.Addr().String()
	f.srv.jobs = portJobs{Runner: f.runner, httpAddr: &httpAddr, echoAddr: echo.Addr().String()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return f, "http://" + ln.Addr().String()
}

// TestProxyHTTP: the tenant reaches its port with a signed request (path,
// query, method and body go through, the signing headers do not); unsigned
// requests, another tenant's, an inactive lease's and unexposed ports are
// refused.
func TestProxyHTTP(t *testing.T) {
	f, base := proxyFixture(t)
	do := func(key *secp256k1.PrivKey, method, target, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+target, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if key != nil {
			if err := SignRequest(req, []byte(body), PrivKeySigner{Key: key}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := do(f.tenant, "POST", "/v1/leases/1/ports/8000/v1/infer?n=2", "prompt")
	if code != 200 || body != "POST /v1/infer?n=2 body=prompt leaked=[]" {
		t.Fatalf("tenant: %d %q", code, body)
	}
	if code, body = do(f.tenant, "GET", "/v1/leases/1/ports/8000/", ""); code != 200 || !strings.HasPrefix(body, "GET / ") {
		t.Fatalf("root with slash: %d %q", code, body)
	}
	if code, body = do(f.tenant, "GET", "/v1/leases/1/ports/8000", ""); code != 200 || !strings.HasPrefix(body, "GET / ") {
		t.Fatalf("root: %d %q", code, body)
	}
	for _, c := range []struct {
		name   string
		key    *secp256k1.PrivKey
		target string
		want   int
	}{
		{"unsigned", nil, "/v1/leases/1/ports/8000/", http.StatusUnauthorized},
		{"other tenant", f.other, "/v1/leases/1/ports/8000/", http.StatusForbidden},
		{"inactive lease", f.tenant, "/v1/leases/2/ports/8000/", http.StatusConflict},
		{"unexposed port", f.tenant, "/v1/leases/1/ports/7000/", http.StatusNotFound},
		{"bad port", f.tenant, "/v1/leases/1/ports/70000/", http.StatusBadRequest},
	} {
		if code, body := do(c.key, "GET", c.target, ""); code != c.want || strings.Contains(body, "leaked") {
			t.Errorf("%s: %d %q, want %d", c.name, code, body, c.want)
		}
	}
}

// TestProxyTCPTunnel opens a TCP tunnel to a tcp port with a signed
// upgrade request and echoes through it.
func TestProxyTCPTunnel(t *testing.T) {
	f, base := proxyFixture(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	req, _ := http.NewRequest("GET", base+"/v1/leases/1/ports/9000", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", TCPUpgrade)
	if err := SignRequest(req, nil, PrivKeySigner{Key: f.tenant}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if _, err := io.WriteString(conn, "ping\n"); err != nil {
		t.Fatal(err)
	}
	line, err := br.ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Fatalf("echo %q %v", line, err)
	}
}

// TestProxyContainerService runs a busybox httpd in a container (the real
// runner, runc, an image from an in-process registry) and reaches it
// through the proxy with the tenant's signature; unsigned requests and
// another tenant's are refused.
func TestProxyContainerService(t *testing.T) {
	runnertest.NeedContainers(t)
	reg := runnertest.Registry(t)
	image := runnertest.Push(t, reg, "tenant/web:1", runnertest.BusyboxImage(t))
	rcfg := config.TestRunnerConfig()
	rcfg.Backend = config.BackendContainer
	rcfg.WorkDir = t.TempDir()
	rn, err := runner.New(rcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rn.Close() })
	f := newFixture(t)
	manifest := []byte(`{"version":2,"image":"` + image + `","command":["httpd","-f","-p","8000","-h","/www"],"service":true,"ports":[{"port":8000}]}`)
	mh := sha256.Sum256(manifest)
	f.leases.leases[1] = fakeLease{tenant: f.addr, manifestHash: mh[:], active: true}
	f.srv.jobs = rn
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	c, err := NewClient("http://"+ln.Addr().String(), PrivKeySigner{Key: f.tenant}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubmitManifest(context.Background(), 1, manifest); err != nil {
		t.Fatal(err)
	}
	get := func(key *secp256k1.PrivKey) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/v1/leases/1/ports/8000/index.html", nil)
		if key != nil {
			if err := SignRequest(req, nil, PrivKeySigner{Key: key}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := get(f.tenant)
		if code == 200 {
			if body != "hello from busybox\n" {
				t.Fatalf("body %q", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service never answered: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _ := get(nil); code != http.StatusUnauthorized {
		t.Fatalf("unsigned: %d", code)
	}
	if code, _ := get(f.other); code != http.StatusForbidden {
		t.Fatalf("other tenant: %d", code)
	}
}

// TestForward: the tenant's local forwarder (crucibled tenant forward)
// signs what it forwards, for HTTP and for a TCP tunnel.
func TestForward(t *testing.T) {
	f, base := proxyFixture(t)
	c, err := NewClient(base, PrivKeySigner{Key: f.tenant}, nil)
	if err != nil {
		t.Fatal(err)
	}
	local := httptestServer(t, c.ForwardHTTP(1, 8000))
	resp, err := http.Post(local+"/generate?x=1", "text/plain", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "POST /generate?x=1 body=hi leaked=[]" {
		t.Fatalf("forwarded: %d %q", resp.StatusCode, b)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.ForwardTCP(ctx, ln, 1, 9000) }()
	t.Cleanup(func() { cancel(); <-done })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, "ping\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Fatalf("echo %q %v", line, err)
	}
	other, _ := NewClient(base, PrivKeySigner{Key: f.other}, nil)
	if _, err := other.DialTCP(context.Background(), 1, 9000); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("another tenant's tunnel: %v", err)
	}
}

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestProxyUpgrade: an HTTP upgrade (what a websocket handshake is) goes
// through the proxy and the forwarder, and the upgraded stream carries
// bytes both ways.
func TestProxyUpgrade(t *testing.T) {
	f, base := proxyFixture(t)
	// The HTTP port's server answers upgrades with an echo stream.
	ws, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upg := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want an upgrade", http.StatusBadRequest)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
		line, _ := brw.ReadString('\n')
		_, _ = io.WriteString(c, "echo: "+line)
	})}
	go func() { _ = upg.Serve(ws) }()
	t.Cleanup(func() { _ = upg.Close() })
	f.srv.jobs.(portJobs).setHTTP(ws.Addr().String())

	c, err := NewClient(base, PrivKeySigner{Key: f.tenant}, nil)
	if err != nil {
		t.Fatal(err)
	}
	local := httptestServer(t, c.ForwardHTTP(1, 8000))
	conn, err := net.Dial("tcp", strings.TrimPrefix(local, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	_, _ = io.WriteString(conn, "GET /socket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d %s", resp.StatusCode, b)
	}
	_, _ = io.WriteString(conn, "hello\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "echo: hello\n" {
		t.Fatalf("upgraded stream: %q %v", line, err)
	}
}

// TestProxyContainerServiceRestart: a service reached through the proxy
// keeps answering across a sidecar restart (runner detached, a new runner
// and API server on the same work dir): the same process answers (the
// page holds its container's first process's start time, which a new
// container would not share). Before, the restarted sidecar deleted the
// container.
func TestProxyContainerServiceRestart(t *testing.T) {
	runnertest.NeedContainers(t)
	reg := runnertest.Registry(t)
	image := runnertest.Push(t, reg, "tenant/web:1", runnertest.BusyboxImage(t))
	rcfg := config.TestRunnerConfig()
	rcfg.Backend = config.BackendContainer
	rcfg.WorkDir = t.TempDir()
	rn, err := runner.New(rcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rn.Close() })
	f := newFixture(t)
	manifest := []byte(`{"version":2,"image":"` + image + `","command":["/bin/sh","-c","mkdir -p /tmp/w && cut -d' ' -f22 /proc/1/stat > /tmp/w/index.html && exec httpd -f -p 8000 -h /tmp/w"],"service":true,"ports":[{"port":8000}]}`)
	mh := sha256.Sum256(manifest)
	f.leases.leases[1] = fakeLease{tenant: f.addr, manifestHash: mh[:], active: true}
	serve := func(jobs *runner.Runner) (string, func()) {
		srv, err := New(config.TestAPIConfig(), f.leases, jobs, nil)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = srv.Serve(ctx, ln) }()
		stop := func() { cancel(); <-done }
		t.Cleanup(stop)
		return "http://" + ln.Addr().String(), stop
	}
	get := func(base string, key *secp256k1.PrivKey) (int, string) {
		req, _ := http.NewRequest("GET", base+"/v1/leases/1/ports/8000/index.html", nil)
		if key != nil {
			if err := SignRequest(req, nil, PrivKeySigner{Key: key}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	base, stop := serve(rn)
	c, err := NewClient(base, PrivKeySigner{Key: f.tenant}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubmitManifest(context.Background(), 1, manifest); err != nil {
		t.Fatal(err)
	}
	var before string
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := get(base, f.tenant)
		if code == 200 && body != "" {
			before = body
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service never answered: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The sidecar stops (API, then the runner detaches) and starts again.
	stop()
	if err := rn.Detach(); err != nil {
		t.Fatal(err)
	}
	rn2, err := runner.New(rcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rn2.Close() })
	base2, _ := serve(rn2)
	code, after := get(base2, f.tenant)
	if code != 200 || after != before {
		t.Fatalf("after restart: %d %q, before %q", code, after, before)
	}
	if code, _ := get(base2, nil); code != http.StatusUnauthorized {
		t.Fatalf("unsigned after restart: %d", code)
	}
	if code, _ := get(base2, f.other); code != http.StatusForbidden {
		t.Fatalf("other tenant after restart: %d", code)
	}
}
