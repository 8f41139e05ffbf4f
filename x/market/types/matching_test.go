package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

func testProvider() providertypes.Provider {
	return providertypes.Provider{
		Owner:      "cru1provider",
		Region:     "eu-west",
		Tier:       "datacenter",
		Attributes: []providertypes.Attribute{{Key: "cc", Value: "on"}, {Key: "interconnect", Value: "nvlink"}},
		Gpus: []providertypes.GPU{
			{Uuid: "GPU-0", Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559},
			{Uuid: "GPU-1", Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559},
			{Uuid: "GPU-2", Model: "NVIDIA A100-SXM4-40GB", Class: "a100", MemoryMib: 40960},
			{Uuid: "MIG-3", Model: "NVIDIA H100 80GB HBM3 MIG 1g.10gb", Class: "h100", MemoryMib: 9856},
		},
		Status:     providertypes.ProviderStatusActive,
		Reputation: 7000,
	}
}

func testSpec(count uint32) types.OrderSpec {
	return types.OrderSpec{
		Gpu:           types.GPUSpec{Class: "h100", Count: count, MinMemoryMib: 80_000},
		Region:        "eu-west",
		Tier:          "datacenter",
		Attributes:    []providertypes.Attribute{{Key: "cc", Value: "on"}},
		MinReputation: 5000,
	}
}

func TestMatchProvider(t *testing.T) {
	cases := []struct {
		name   string
		spec   func(*types.OrderSpec)
		prov   func(*providertypes.Provider)
		gpus   []string
		target error // nil: match
	}{
		{name: "match one", gpus: []string{"GPU-0"}},
		{name: "match two", spec: func(s *types.OrderSpec) { s.Gpu.Count = 2 }, gpus: []string{"GPU-1", "GPU-0"}},
		{name: "model only", spec: func(s *types.OrderSpec) { s.Gpu.Class = ""; s.Gpu.Model = "NVIDIA H100 80GB HBM3" }, gpus: []string{"GPU-0"}},
		{name: "model and class", spec: func(s *types.OrderSpec) { s.Gpu.Model = "NVIDIA H100 80GB HBM3" }, gpus: []string{"GPU-1"}},
		{name: "model mismatch", spec: func(s *types.OrderSpec) { s.Gpu.Class = ""; s.Gpu.Model = "NVIDIA H200" }, gpus: []string{"GPU-0"}, target: types.ErrGPUMismatch},
		{name: "class mismatch", gpus: []string{"GPU-2"}, target: types.ErrGPUMismatch},
		{name: "a100 class", spec: func(s *types.OrderSpec) { s.Gpu.Class = "a100"; s.Gpu.MinMemoryMib = 40960 }, gpus: []string{"GPU-2"}},
		{name: "memory exactly minimum", spec: func(s *types.OrderSpec) { s.Gpu.MinMemoryMib = 81559 }, gpus: []string{"GPU-0"}},
		{name: "memory too small", spec: func(s *types.OrderSpec) { s.Gpu.MinMemoryMib = 81560 }, gpus: []string{"GPU-0"}, target: types.ErrGPUMismatch},
		{name: "small MIG slice", gpus: []string{"MIG-3"}, target: types.ErrGPUMismatch},
		{name: "MIG slice without memory floor", spec: func(s *types.OrderSpec) { s.Gpu.MinMemoryMib = 0 }, gpus: []string{"MIG-3"}},
		{name: "unknown uuid", gpus: []string{"GPU-9"}, target: types.ErrGPUMismatch},
		{name: "too few uuids", spec: func(s *types.OrderSpec) { s.Gpu.Count = 2 }, gpus: []string{"GPU-0"}, target: types.ErrGPUMismatch},
		{name: "too many uuids", gpus: []string{"GPU-0", "GPU-1"}, target: types.ErrGPUMismatch},
		{name: "no uuids", gpus: nil, target: types.ErrGPUMismatch},
		{name: "duplicate uuid", spec: func(s *types.OrderSpec) { s.Gpu.Count = 2 }, gpus: []string{"GPU-0", "GPU-0"}, target: types.ErrGPUMismatch},
		{name: "jailed", prov: func(p *providertypes.Provider) { p.Status = providertypes.ProviderStatusJailed }, gpus: []string{"GPU-0"}, target: types.ErrProviderNotActive},
		{name: "unbonding", prov: func(p *providertypes.Provider) { p.Status = providertypes.ProviderStatusUnbonding }, gpus: []string{"GPU-0"}, target: types.ErrProviderNotActive},
		{name: "unspecified status", prov: func(p *providertypes.Provider) { p.Status = providertypes.ProviderStatusUnspecified }, gpus: []string{"GPU-0"}, target: types.ErrProviderNotActive},
		{name: "reputation equal to minimum", prov: func(p *providertypes.Provider) { p.Reputation = 5000 }, gpus: []string{"GPU-0"}},
		{name: "reputation too low", prov: func(p *providertypes.Provider) { p.Reputation = 4999 }, gpus: []string{"GPU-0"}, target: types.ErrReputationTooLow},
		{name: "any region", spec: func(s *types.OrderSpec) { s.Region = "" }, prov: func(p *providertypes.Provider) { p.Region = "ap-south" }, gpus: []string{"GPU-0"}},
		{name: "region mismatch", prov: func(p *providertypes.Provider) { p.Region = "ap-south" }, gpus: []string{"GPU-0"}, target: types.ErrAttributeMismatch},
		{name: "tier mismatch", prov: func(p *providertypes.Provider) { p.Tier = "community" }, gpus: []string{"GPU-0"}, target: types.ErrAttributeMismatch},
		{name: "attribute missing", prov: func(p *providertypes.Provider) { p.Attributes = nil }, gpus: []string{"GPU-0"}, target: types.ErrAttributeMismatch},
		{name: "attribute value differs", prov: func(p *providertypes.Provider) { p.Attributes[0].Value = "off" }, gpus: []string{"GPU-0"}, target: types.ErrAttributeMismatch},
		{name: "two attributes required", spec: func(s *types.OrderSpec) {
			s.Attributes = append(s.Attributes, providertypes.Attribute{Key: "interconnect", Value: "nvlink"})
		}, gpus: []string{"GPU-0"}},
		{name: "second attribute missing", spec: func(s *types.OrderSpec) {
			s.Attributes = append(s.Attributes, providertypes.Attribute{Key: "interconnect", Value: "pcie"})
		}, gpus: []string{"GPU-0"}, target: types.ErrAttributeMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec, prov := testSpec(1), testProvider()
			if tc.spec != nil {
				tc.spec(&spec)
			}
			if tc.prov != nil {
				tc.prov(&prov)
			}
			err := types.MatchProvider(spec, prov, tc.gpus)
			if tc.target == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.target)
		})
	}
}

func TestGPUMatches(t *testing.T) {
	g := providertypes.GPU{Uuid: "x", Model: "M", Class: "c", MemoryMib: 100}
	require.True(t, types.GPUMatches(types.GPUSpec{Class: "c"}, g))
	require.True(t, types.GPUMatches(types.GPUSpec{Model: "M", MinMemoryMib: 100}, g))
	// Classes match exactly (issue 15 item 10: they used to ignore case,
	// while the README said matching is exact).
	require.False(t, types.GPUMatches(types.GPUSpec{Class: "C"}, g), "classes are exact")
	require.False(t, types.GPUMatches(types.GPUSpec{Class: "d"}, g))
	require.False(t, types.GPUMatches(types.GPUSpec{Model: "m"}, g), "models are exact")
	require.False(t, types.GPUMatches(types.GPUSpec{Class: "c", Model: "N"}, g))
	require.False(t, types.GPUMatches(types.GPUSpec{Class: "c", MinMemoryMib: 101}, g))
}
