package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"time"

	"github.com/crucible-network/crucible/sidecar/runner"
)

// The port proxy.
//
//	ANY /v1/leases/{id}/ports/{port}[/{path...}]
//
// reaches port {port} of the lease's running job, which its manifest must
// expose, as /{path...} with the request's query, method, headers (less the
// X-Crucible-* signing headers) and body. Every request is signed by the
// lease's tenant like any other request of the API: unsigned requests get
// 401, another tenant's 403. HTTP and websockets go through as they are
// (the upgrade is proxied); a TCP port is reached by a request with
// "Connection: Upgrade" and "Upgrade: crucible-tcp" (TCPUpgrade): after the
// 101 answer the connection carries the TCP stream both ways.
// `crucibled tenant forward` does the signing for a local port.
//
// Errors: 404 (CodeNoPort) for a port the manifest does not expose or a job
// that is not running, 502 (CodeUpstream) when the job does not answer.

// TCPUpgrade is the Upgrade protocol that opens a raw TCP tunnel.
const TCPUpgrade = "crucible-tcp"

// Proxy error codes.
const (
	CodeNoPort   = "no_port"
	CodeUpstream = "upstream_unreachable"
)

// PortDialer connects to a port of a lease's running job; *runner.Runner
// implements it.
type PortDialer interface {
	DialPort(ctx context.Context, leaseID uint64, port uint16) (net.Conn, runner.Port, error)
}

var _ PortDialer = (*runner.Runner)(nil)

// PortPath is the API path of a lease's port.
func PortPath(leaseID uint64, port uint16) string {
	return leasePath(leaseID) + "/ports/" + strconv.FormatUint(uint64(port), 10)
}

// proxyHeader reports a request header the proxy does not forward.
func proxyHeader(k string) bool {
	return strings.HasPrefix(http.CanonicalHeaderKey(k), "X-Crucible-")
}

func (s *Server) proxy(w http.ResponseWriter, r *http.Request, l lease, body []byte) {
	dialer, ok := s.jobs.(PortDialer)
	if !ok {
		writeError(w, errorf(http.StatusNotFound, CodeNoPort, "this sidecar serves no ports"))
		return
	}
	if !l.active {
		writeError(w, errorf(http.StatusConflict, CodeLeaseInactive, "lease %d is not active", l.id))
		return
	}
	pt := r.PathValue("port")
	p, err := strconv.ParseUint(pt, 10, 16)
	if err != nil || p == 0 || strconv.FormatUint(p, 10) != pt {
		writeError(w, errorf(http.StatusBadRequest, CodeBadRequest, "port %q is not 1 to 65535", pt))
		return
	}
	port := uint16(p)
	conn, info, err := dialer.DialPort(r.Context(), l.id, port)
	switch {
	case errors.Is(err, runner.ErrUnknownLease) || errors.Is(err, runner.ErrNoPort):
		writeError(w, errorf(http.StatusNotFound, CodeNoPort, "%v", err))
		return
	case err != nil:
		writeError(w, errorf(http.StatusBadGateway, CodeUpstream, "lease %d port %d: %v", l.id, port, err))
		return
	}
	// A proxied stream (websocket, tunnel, long download) outlives the
	// server's read timeout.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})

	if strings.EqualFold(r.Header.Get("Upgrade"), TCPUpgrade) || info.Protocol == runner.ProtocolTCP {
		s.tunnel(w, r, conn, l.id, port)
		return
	}
	used := false
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = fmt.Sprintf("lease-%d:%d", l.id, port)
			pr.Out.URL.Path = "/" + r.PathValue("path")
			pr.Out.URL.RawPath = ""
			pr.Out.Host = pr.Out.URL.Host
			for k := range pr.Out.Header {
				if proxyHeader(k) {
					pr.Out.Header.Del(k)
				}
			}
		},
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				if !used {
					used = true
					return conn, nil
				}
				c, _, err := dialer.DialPort(ctx, l.id, port)
				return c, err
			},
			DisableKeepAlives:     true,
			ResponseHeaderTimeout: 5 * time.Minute,
		},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeError(w, errorf(http.StatusBadGateway, CodeUpstream, "lease %d port %d: %v", l.id, port, err))
		},
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	rp.ServeHTTP(w, r)
}

// tunnel answers 101 and copies bytes both ways between the client and the
// job's port until either side closes.
func (s *Server) tunnel(w http.ResponseWriter, r *http.Request, conn net.Conn, leaseID uint64, port uint16) {
	defer conn.Close()
	if !strings.EqualFold(r.Header.Get("Upgrade"), TCPUpgrade) {
		writeError(w, errorf(http.StatusBadRequest, CodeBadRequest, "port %d is tcp: send Connection: Upgrade and Upgrade: %s", port, TCPUpgrade))
		return
	}
	client, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, CodeInternal, "cannot take over the connection: %v", err))
		return
	}
	defer client.Close()
	_ = client.SetDeadline(time.Time{})
	if _, err := io.WriteString(client, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+TCPUpgrade+"\r\n\r\n"); err != nil {
		return
	}
	s.logger.Debug("tcp tunnel open", "lease", leaseID, "port", port)
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(conn, io.MultiReader(bufferedPart(buf.Reader), client))
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(client, conn)
		if cw, ok := client.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}()
	<-done
	<-done
}

// bufferedPart returns what the server already read past the request.
func bufferedPart(b *bufio.Reader) io.Reader {
	n := b.Buffered()
	if n == 0 {
		return bytes.NewReader(nil)
	}
	p, _ := b.Peek(n)
	return bytes.NewReader(append([]byte(nil), p...))
}
