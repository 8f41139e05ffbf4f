package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"time"
)

// maxForwardBody bounds a request body the forwarder signs (the sidecar
// refuses bodies above its max_request_bytes anyway).
const maxForwardBody = 64 << 20

// ForwardHTTP returns a handler that sends every request it gets to the
// lease's port through the sidecar's proxy, signed with the client's key:
// serve it on a local address (crucibled tenant forward) and use the
// service as if it ran there. Websocket upgrades go through.
func (c *Client) ForwardHTTP(leaseID uint64, port uint16) http.Handler {
	prefix := c.base.EscapedPath() + PortPath(leaseID, port)
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			u := *c.base
			u.Path, u.RawPath = "", ""
			pr.Out.URL.Scheme, pr.Out.URL.Host = u.Scheme, u.Host
			p := pr.In.URL.EscapedPath()
			if p == "/" {
				p = ""
			}
			pr.Out.URL.RawPath = prefix + p
			pr.Out.URL.Path = pr.Out.URL.RawPath
			pr.Out.Host = u.Host
			pr.Out.Header.Del("X-Forwarded-For")
		},
		Transport:     signingTransport{c: c},
		FlushInterval: -1,
	}
}

// signingTransport signs each request before sending it.
type signingTransport struct{ c *Client }

func (t signingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxForwardBody+1))
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		if len(b) > maxForwardBody {
			return nil, fmt.Errorf("request body above %d bytes", maxForwardBody)
		}
		body = b
	}
	req = req.Clone(req.Context())
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	if err := SignRequest(req, body, t.c.signer, t.c.now()); err != nil {
		return nil, err
	}
	rt := t.c.http.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	return rt.RoundTrip(req)
}

// ForwardTCP accepts connections on ln until ctx ends and tunnels each one
// to the lease's TCP port through the sidecar's proxy (a signed
// crucible-tcp upgrade).
func (c *Client) ForwardTCP(ctx context.Context, ln net.Listener, leaseID uint64, port uint16) error {
	go func() { <-ctx.Done(); _ = ln.Close() }()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go func() {
			defer conn.Close()
			up, err := c.DialTCP(ctx, leaseID, port)
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(up, conn); closeWrite(up); done <- struct{}{} }()
			go func() { _, _ = io.Copy(conn, up); closeWrite(conn); done <- struct{}{} }()
			<-done
			<-done
		}()
	}
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

// DialTCP opens a TCP tunnel to the lease's port through the sidecar's
// proxy.
func (c *Client) DialTCP(ctx context.Context, leaseID uint64, port uint16) (net.Conn, error) {
	u := *c.base
	host := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			host += ":443"
		} else {
			host += ":80"
		}
	}
	var d net.Dialer
	var conn net.Conn
	var err error
	if u.Scheme == "https" {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}}).DialContext(ctx, "tcp", host)
	} else {
		conn, err = d.DialContext(ctx, "tcp", host)
	}
	if err != nil {
		return nil, err
	}
	full := u.EscapedPath() + PortPath(leaseID, port)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.Scheme+"://"+u.Host+full, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", TCPUpgrade)
	if err := SignRequest(req, nil, c.signer, c.now()); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		conn.Close()
		return nil, errors.New("tenant api: tunnel refused: " + resp.Status + ": " + strings.TrimSpace(string(b)))
	}
	_ = conn.SetDeadline(time.Time{})
	return &bufferedConn{Conn: conn, r: br}, nil
}

// bufferedConn reads first what the response reader buffered.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *bufferedConn) CloseWrite() error {
	if cw, ok := b.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
