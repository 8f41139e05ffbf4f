package runner

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/crucible-network/crucible/sidecar/config"
)

// needEgressTools skips t without the ip and nft commands (.ci/run
// installs iproute2 and nftables).
func needEgressTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("egress tests need %s (apt-get install iproute2 nftables)", tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("egress tests need root")
	}
	probe := fmt.Sprintf("crucible_probe_%d", os.Getpid())
	if out, err := exec.Command("nft", "add", "table", "inet", probe).CombinedOutput(); err != nil {
		t.Skipf("nftables unusable here: %v: %s", err, out)
	}
	_ = exec.Command("nft", "delete", "table", "inet", probe).Run()
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// fakeInternet makes a network namespace standing for the internet: a
// veth from the host (host end 198.51.100.1/30, a documentation range the
// egress rules do not block) to it (198.51.100.2, plus the private
// 10.99.77.2 the host routes there too), and an HTTP server in it on port
// 8080 answering "PUBLIC". Everything goes when the test ends.
func fakeInternet(t *testing.T) {
	t.Helper()
	ns := fmt.Sprintf("crtest-inet-%d", os.Getpid()%100000)
	link := fmt.Sprintf("crtI%d", os.Getpid()%100000)
	_ = exec.Command("ip", "link", "del", link).Run()
	_ = exec.Command("ip", "netns", "del", ns).Run()
	mustRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	mustRun(t, "ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", link).Run() })
	mustRun(t, "ip", "addr", "add", "198.51.100.1/30", "dev", link)
	mustRun(t, "ip", "link", "set", link, "up")
	mustRun(t, "ip", "-n", ns, "addr", "add", "198.51.100.2/30", "dev", "eth0")
	mustRun(t, "ip", "-n", ns, "addr", "add", "10.99.77.2/32", "dev", "eth0")
	mustRun(t, "ip", "-n", ns, "link", "set", "eth0", "up")
	mustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
	mustRun(t, "ip", "-n", ns, "route", "add", "default", "via", "198.51.100.1")
	mustRun(t, "ip", "route", "add", "10.99.77.2/32", "via", "198.51.100.2")
	t.Cleanup(func() { _ = exec.Command("ip", "route", "del", "10.99.77.2/32").Run() })

	ln := listenInNetns(t, filepath.Join("/run/netns", ns), "0.0.0.0:8080")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "PUBLIC") })}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// listenInNetns listens on addr inside the network namespace at nsPath.
func listenInNetns(t *testing.T, nsPath, addr string) net.Listener {
	t.Helper()
	type res struct {
		ln  net.Listener
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // the thread stays in the namespace and dies with the goroutine
		f, err := os.Open(nsPath)
		if err != nil {
			ch <- res{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- res{nil, err}
			return
		}
		ln, err := net.Listen("tcp", addr)
		ch <- res{ln, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.ln
}

// TestContainerEgress: with egress allow, a container reaches a public
// address (a server in a namespace standing for the internet, through the
// host's NAT) but not a private address routed the same way, not the
// host's own addresses (public or its gateway), not its own loopback's
// host, and not another lease's container; with egress deny nothing gets
// out. A restart keeps a re-adopted container's network; stopping a
// container removes its link; closing the runner removes the rules. Before, egress allow was refused by the config.
func TestContainerEgress(t *testing.T) {
	needEgressTools(t)
	e := newContainerEnv(t, func(c *config.RunnerConfig) { c.Egress = config.EgressAllow })
	fakeInternet(t)
	hostLn, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	host := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "HOST") })}
	go func() { _ = host.Serve(hostLn) }()
	t.Cleanup(func() { _ = host.Close() })
	hostPort := strconv.Itoa(hostLn.Addr().(*net.TCPAddr).Port)

	// Lease 50: another tenant's service.
	defer func() {
		if t.Failed() {
			t.Logf("log 50: %s", readLog(t, e.r, 50))
		}
	}()
	start(t, e.r, 50, imageManifest(t, e.image, "exec httpd -f -p 8000 -h /www", map[string]any{
		"service": true, "ports": []map[string]any{{"port": 8000}},
	}))
	if st, _ := e.r.Status(50); st.State.Final() {
		t.Fatalf("lease 50: %s %s: %s", st.State, st.Reason, readLog(t, e.r, 50))
	}
	_ = getThroughDial(t, e.r, 50, 8000)
	other, err := readContainerState(filepath.Join(e.cfg.WorkDir, "leases", "50"))
	if err != nil || other.Net == nil {
		t.Fatalf("lease 50 has no network: %+v %v", other, err)
	}

	// busybox-static's wget crashes in a bare rootfs (static glibc's NSS);
	// nc connects to a numeric address without it.
	probe := `
get() { printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 "$1" "$2" 2>/dev/null | tail -n 1; }
gw=$(ip route | awk '/default/ {print $3}')
echo gw=$gw
echo public=$(get 198.51.100.2 8080)
echo private=$(get 10.99.77.2 8080)
echo hostpub=$(get 198.51.100.1 $HOSTPORT)
echo hostgw=$(get $gw $HOSTPORT)
echo loop=$(get 127.0.0.1 $HOSTPORT)
echo other=$(get $OTHER 8000)
echo nets=$(ls /sys/class/net | tr '\n' ' ')
`
	env := map[string]any{"env": map[string]string{"HOSTPORT": hostPort, "OTHER": other.Net.Addr}}
	start(t, e.r, 51, imageManifest(t, e.image, probe, env))
	st := wait(t, e.r, 51)
	log := readLog(t, e.r, 51)
	t.Logf("egress allow:\n%s", log)
	if st.State != StateSucceeded {
		t.Fatalf("state %s (%s)", st.State, st.Reason)
	}
	v := logValues(log)
	if v["public"] != "PUBLIC" {
		t.Errorf("public=%q: the container did not reach the public address", v["public"])
	}
	for _, k := range []string{"private", "hostpub", "hostgw", "loop", "other"} {
		if v[k] != "" {
			t.Errorf("%s=%q: the container reached what egress allow must block", k, v[k])
		}
	}
	if v["gw"] == "" {
		t.Error("no default route in the container")
	}

	// Egress deny: loopback only.
	deny := newContainerEnv(t, nil)
	start(t, deny.r, 52, imageManifest(t, deny.image, probe, env))
	if st := wait(t, deny.r, 52); st.State != StateSucceeded {
		t.Fatalf("deny: %s (%s)", st.State, st.Reason)
	}
	dv := logValues(readLog(t, deny.r, 52))
	if dv["public"] != "" || strings.TrimSpace(dv["nets"]) != "lo" {
		t.Errorf("egress deny: public=%q nets=%q", dv["public"], dv["nets"])
	}

	// A restart keeps a running container's network: the rules stay while
	// no sidecar runs, and the new runner keeps the link it re-adopts.
	be := e.r.be.(*containerBackend)
	if err := e.r.Detach(); err != nil {
		t.Fatal(err)
	}
	if exec.Command("nft", "list", "table", "inet", be.egress.table).Run() != nil {
		t.Fatal("the egress rules went with a detached runner")
	}
	r2 := newRunner(t, e.cfg)
	be2 := r2.be.(*containerBackend)
	if links := be2.egress.links(); len(links) != 1 || links[0] != other.Net.HostLink {
		t.Fatalf("links after restart %v, want [%s]", links, other.Net.HostLink)
	}
	if body := getThroughDial(t, r2, 50, 8000); body != "hello from busybox\n" {
		t.Fatalf("body after restart %q", body)
	}
	// Host state goes with the containers, and the rules with the runner.
	if err := r2.Cancel(50); err != nil {
		t.Fatal(err)
	}
	wait(t, r2, 50)
	if links := be2.egress.links(); len(links) != 0 {
		t.Errorf("links left after the containers stopped: %v", links)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	if exec.Command("nft", "list", "table", "inet", be2.egress.table).Run() == nil {
		t.Errorf("table %s left after the runner closed", be2.egress.table)
	}
}

// TestEgressLeftoversRemoved: links of this work dir that no
// live container claims (a crash between making and recording them) are
// removed when a runner starts.
func TestEgressLeftoversRemoved(t *testing.T) {
	needEgressTools(t)
	e := newContainerEnv(t, func(c *config.RunnerConfig) { c.Egress = config.EgressAllow })
	eg := e.r.be.(*containerBackend).egress
	ns, err := eg.up(7)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eg.down(ns) })
	r2 := newRunner(t, e.cfg)
	if links := r2.be.(*containerBackend).egress.links(); len(links) != 0 {
		t.Errorf("leftover links kept: %v", links)
	}
}
