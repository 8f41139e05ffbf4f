package runner

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/crucible-network/crucible/sidecar/config"
)

// Egress "allow": each container gets a veth pair from the host into its
// network namespace and a /30 of runner.egress_pool (host end .1, container
// end .2, its default route). The runtime makes the namespace (so, where
// containers get a user namespace, that one owns it and sysfs mounts); a
// createRuntime hook moves the container end into it and configures it
// before the container's process starts.
// One nftables table per work dir (inet crucible_<hash>) masquerades the
// pool's traffic out of the host and drops, from any container's veth:
// IPv6; packets to private, shared, link-local, loopback, multicast and
// reserved IPv4 ranges (so: other containers, the provider's LAN, cloud
// metadata at 169.254.169.254); packets to another container's veth; and
// every packet to the host itself (its input hook: the host's own
// addresses, public or private). The public internet stays reachable.
// Egress "deny": the runtime makes the namespace, with loopback only.

// blockedRanges are the IPv4 destinations a container may not reach.
var blockedRanges = []string{
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
	"192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3",
}

// netState is a container's egress network, recorded in container.json.
type netState struct {
	Slot      int    `json:"slot"`
	HostLink  string `json:"host_link"` // host end of the veth pair
	PeerLink  string `json:"peer_link"` // container end, until the hook renames it eth0
	HostAddr  string `json:"host_addr"` // host end's address (the container's gateway)
	Addr      string `json:"addr"`      // the container's address
	PrefixLen int    `json:"prefix_len"`
}

// egressNet is the container backend's egress bookkeeping.
type egressNet struct {
	table  string       // nftables table name (family inet)
	prefix string       // name prefix of the host ends of the veths
	peer   string       // name prefix of the container ends before they move
	path   string       // PATH of the hook (where ip and nsenter are)
	pool   netip.Prefix // addresses handed out, /30 each
	slots  map[int]bool // slots in use
}

// egressTable is the nftables table (family inet) of the work dir whose
// hash is hash.
func egressTable(hash string) string { return "crucible_" + hash[:8] }

func newEgressNet(cfg config.RunnerConfig, hash string) (*egressNet, error) {
	path := []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin"}
	for _, tool := range []string{"ip", "nft", "nsenter"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			return nil, fmt.Errorf("runner.egress allow needs the %s command (Debian: iproute2, nftables, util-linux): %w", tool, err)
		}
		if d, _ := filepath.Abs(filepath.Dir(p)); !slices.Contains(path, d) {
			path = append([]string{d}, path...)
		}
	}
	pool, err := netip.ParsePrefix(cfg.EgressPool)
	if err != nil {
		return nil, fmt.Errorf("runner.egress_pool: %w", err)
	}
	return &egressNet{
		table:  egressTable(hash),
		prefix: "cr" + hash[:5] + "v",
		peer:   "cr" + hash[:5] + "p",
		path:   "PATH=" + strings.Join(path, ":"),
		pool:   pool.Masked(),
		slots:  map[int]bool{},
	}, nil
}

// ipCmd runs a command of the network tools.
func ipCmd(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), runtimeTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// slotAddrs are the host and container addresses of a slot's /30.
func (e *egressNet) slotAddrs(slot int) (host, ctr netip.Addr, ok bool) {
	base := e.pool.Addr().As4()
	n := binary.BigEndian.Uint32(base[:]) + uint32(slot)*4
	var h, c [4]byte
	binary.BigEndian.PutUint32(h[:], n+1)
	binary.BigEndian.PutUint32(c[:], n+2)
	host, ctr = netip.AddrFrom4(h), netip.AddrFrom4(c)
	return host, ctr, e.pool.Contains(ctr) && e.pool.Contains(netip.AddrFrom4(h))
}

// ruleset is the table of this work dir: create (or replace) it.
func (e *egressNet) ruleset() string {
	p := e.prefix + "*"
	return fmt.Sprintf(`table inet %[1]s
delete table inet %[1]s
table inet %[1]s {
	chain forward {
		type filter hook forward priority -10; policy accept;
		iifname "%[2]s" meta nfproto ipv6 drop
		iifname "%[2]s" ip daddr { %[3]s } drop
		iifname "%[2]s" oifname "%[2]s" drop
		oifname "%[2]s" ct state established,related accept
		oifname "%[2]s" drop
	}
	chain input {
		type filter hook input priority -10; policy accept;
		iifname "%[2]s" drop
	}
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		ip saddr %[4]s oifname != "%[2]s" masquerade
	}
}
`, e.table, p, strings.Join(blockedRanges, ", "), e.pool)
}

// setup installs the table, turns IPv4 forwarding on, and removes the
// links of this work dir that no live container claims (left by a crash).
func (e *egressNet) setup(logger interface{ Warn(string, ...any) }) error {
	f, err := os.CreateTemp("", "crucible-nft-*.conf")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(e.ruleset()); err != nil {
		_ = f.Close()
		return err
	}
	_ = f.Close()
	if err := ipCmd("nft", "-f", f.Name()); err != nil {
		return err
	}
	if b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(string(b)) != "1" {
		if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644); err != nil {
			return fmt.Errorf("enable IPv4 forwarding: %w", err)
		}
		logger.Warn("turned IPv4 forwarding on (net.ipv4.ip_forward=1) for container egress")
	}
	for _, l := range e.links() {
		slot, err := strconv.Atoi(l[len(e.prefix):])
		if err == nil && e.slots[slot] {
			continue
		}
		logger.Warn("removing a container link no live container claims", "link", l)
		_ = ipCmd("ip", "link", "del", l)
	}
	return nil
}

// links lists the host's links named with this work dir's prefix.
func (e *egressNet) links() []string {
	entries, _ := os.ReadDir("/sys/class/net")
	var out []string
	for _, d := range entries {
		if strings.HasPrefix(d.Name(), e.prefix) || strings.HasPrefix(d.Name(), e.peer) {
			out = append(out, d.Name())
		}
	}
	return out
}

// up makes a container's veth pair (both ends on the host until the hook
// moves one) and addresses the host end.
func (e *egressNet) up(slot int) (*netState, error) {
	host, ctr, ok := e.slotAddrs(slot)
	if !ok {
		return nil, errors.New("runner.egress_pool is exhausted")
	}
	ns := &netState{
		Slot: slot, HostLink: e.prefix + strconv.Itoa(slot), PeerLink: e.peer + strconv.Itoa(slot),
		HostAddr: host.String(), Addr: ctr.String(), PrefixLen: 30,
	}
	// Leftovers of this slot (a crash between up and the state write).
	e.down(ns)
	// Another sidecar on this host with the same pool would share routes.
	if out, err := exec.Command("ip", "-o", "addr", "show", "to", host.String()+"/32").Output(); err == nil && len(strings.TrimSpace(string(out))) > 0 {
		return nil, fmt.Errorf("%s is already a host address (give each sidecar on a host its own runner.egress_pool): %s", host, strings.TrimSpace(string(out)))
	}
	steps := [][]string{
		{"ip", "link", "add", ns.HostLink, "type", "veth", "peer", "name", ns.PeerLink},
		{"ip", "addr", "add", host.String() + "/30", "dev", ns.HostLink},
		{"ip", "link", "set", ns.HostLink, "up"},
	}
	for _, s := range steps {
		if err := ipCmd(s[0], s[1:]...); err != nil {
			e.down(ns)
			return nil, err
		}
	}
	return ns, nil
}

// netHook moves the container end of the veth into the new container's
// network namespace (the runtime passes the container's state, with its
// pid, on stdin) and configures it: eth0, the address, the default route.
const netHook = `set -e
pid=$(sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p')
[ -n "$pid" ]
ip link set "$1" netns "$pid"
nsenter -t "$pid" -n ip link set "$1" name eth0
nsenter -t "$pid" -n ip addr add "$2" dev eth0
nsenter -t "$pid" -n ip link set eth0 up
nsenter -t "$pid" -n ip route add default via "$3"`

// hook is the createRuntime hook of a container's network.
func (e *egressNet) hook(ns *netState) specs.Hook {
	timeout := 30
	return specs.Hook{
		Path:    "/bin/sh",
		Args:    []string{"sh", "-c", netHook, "crucible-net", ns.PeerLink, ns.Addr + "/" + strconv.Itoa(ns.PrefixLen), ns.HostAddr},
		Env:     []string{e.path},
		Timeout: &timeout,
	}
}

// down removes a container's network: deleting the host end of the veth
// deletes both ends.
func (e *egressNet) down(ns *netState) {
	for _, l := range []string{ns.HostLink, ns.PeerLink} {
		if _, err := os.Stat(filepath.Join("/sys/class/net", l)); err == nil {
			_ = ipCmd("ip", "link", "del", l)
		}
	}
}

// netUp gives a container its egress network, when the config allows
// egress, and points the spec's network namespace at it.
func (b *containerBackend) netUp(_ uint64, s *specs.Spec) (*netState, error) {
	if b.egress == nil {
		return nil, nil
	}
	b.netMu.Lock()
	if b.egressErr != nil {
		b.netMu.Unlock()
		return nil, fmt.Errorf("the egress rules are not installed: %w", b.egressErr)
	}
	slot := 0
	for b.egress.slots[slot] {
		slot++
	}
	b.egress.slots[slot] = true
	b.netMu.Unlock()
	ns, err := b.egress.up(slot)
	if err != nil {
		b.release(slot)
		return nil, err
	}
	if s.Hooks == nil {
		s.Hooks = &specs.Hooks{}
	}
	s.Hooks.CreateRuntime = append(s.Hooks.CreateRuntime, b.egress.hook(ns))
	return ns, nil
}

// netDown removes a container's network and frees its slot.
func (b *containerBackend) netDown(ns *netState) {
	if ns == nil || b.egress == nil {
		return
	}
	b.egress.down(ns)
	b.release(ns.Slot)
}

func (b *containerBackend) release(slot int) {
	b.netMu.Lock()
	delete(b.egress.slots, slot)
	b.netMu.Unlock()
}

// claim marks a re-adopted container's slot in use.
func (b *containerBackend) claim(ns *netState) {
	if ns == nil || b.egress == nil {
		return
	}
	b.netMu.Lock()
	b.egress.slots[ns.Slot] = true
	b.netMu.Unlock()
}

// adopted runs once the runner has re-adopted what it could: the egress
// table is (re)installed and what no live container claims is removed.
func (b *containerBackend) adopted() {
	if b.egress == nil {
		// Egress is deny: drop the table an earlier allow left, if any.
		if _, err := exec.LookPath("nft"); err == nil {
			_ = exec.Command("nft", "delete", "table", "inet", egressTable(b.hash)).Run()
		}
		return
	}
	b.netMu.Lock()
	defer b.netMu.Unlock()
	if err := b.egress.setup(b.logger); err != nil {
		b.egressErr = err
		b.logger.Error("container egress rules not installed: containers start without a network", "err", err)
	}
}

// netClose removes the egress table (no container runs any more).
func (b *containerBackend) netClose() {
	if b.egress == nil {
		return
	}
	_ = ipCmd("nft", "delete", "table", "inet", b.egress.table)
}
