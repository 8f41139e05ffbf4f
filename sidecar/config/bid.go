package config

import (
	"errors"
	"fmt"
	"math/bits"
	"regexp"
	"strings"
)

// denomRegex matches Cosmos SDK coin denominations.
var denomRegex = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$`)

// DefaultDenom is the chain's staking and fee denomination.
const DefaultDenom = "ucru"

// MaxMarkupBps bounds PriceRule.MarkupBps (1000%).
const MaxMarkupBps = 100_000

// bpsDenominator is 100% in basis points.
const bpsDenominator = 10_000

// BidConfig holds what the bid engine bids with. A GPU without a pricing
// rule is never bid.
type BidConfig struct {
	// Denom is the coin denomination of every amount in this section.
	Denom string `yaml:"denom" json:"denom"`
	// Deposit is the amount locked with each bid; it must be at least the
	// chain's minimum bid deposit, which the chain checks.
	Deposit uint64 `yaml:"deposit" json:"deposit"`
	// Pricing holds one rule per GPU model or GPU class.
	Pricing []PriceRule `yaml:"pricing" json:"pricing"`
	// MaxTenantGPUPercent caps, in percent of the provider's registered GPUs
	// (rounded up, at least one GPU), the GPUs in open bids (and bids in
	// flight) on the orders of any one tenant, beyond the first open bid on
	// its orders (which is always allowed, so an order for more GPUs than
	// the cap can still be served). Orders cost a tenant nothing
	// until it accepts a bid, so without a cap a tenant who posts orders and
	// never accepts would hold every GPU in open bids. 100 disables the cap.
	MaxTenantGPUPercent uint32 `yaml:"max_tenant_gpu_percent" json:"max_tenant_gpu_percent"`
}

// DefaultMaxTenantGPUPercent is the default BidConfig.MaxTenantGPUPercent:
// one tenant's unaccepted orders hold at most half of the GPUs.
const DefaultMaxTenantGPUPercent = 50

// TenantGPUCap is the most GPUs the bid engine puts in open bids on one
// tenant's orders, for a provider with registered GPUs: MaxTenantGPUPercent
// of them, rounded up, at least 1.
func (c BidConfig) TenantGPUCap(registered int) int {
	pct := int(c.MaxTenantGPUPercent)
	if pct <= 0 || pct > 100 {
		pct = 100
	}
	return max(1, (registered*pct+99)/100)
}

// PriceRule prices one GPU model or class. Amounts are integers in the
// section's denom, per GPU per block.
type PriceRule struct {
	// Model is either a GPU model name as the inventory reports it
	// ("NVIDIA H100 80GB HBM3") or a GPU class ("H100"). A rule for the exact
	// model wins over a rule for its class. Matching ignores case.
	Model string `yaml:"model" json:"model"`
	// PricePerBlock is the base price per GPU per block.
	PricePerBlock uint64 `yaml:"price_per_block" json:"price_per_block"`
	// MinPricePerBlock is the lowest price per GPU per block the provider accepts.
	MinPricePerBlock uint64 `yaml:"min_price_per_block" json:"min_price_per_block"`
	// MarkupBps is added to PricePerBlock, in basis points (100 = 1%).
	MarkupBps uint32 `yaml:"markup_bps" json:"markup_bps"`
}

// DefaultBidConfig has no rules: a provider bids nothing until it prices its GPUs.
func DefaultBidConfig() BidConfig {
	return BidConfig{
		Denom:   DefaultDenom,
		Deposit: 5_000_000,
		Pricing: []PriceRule{},

		MaxTenantGPUPercent: DefaultMaxTenantGPUPercent,
	}
}

// TestBidConfig prices the GPU class of TestInventoryConfig.
func TestBidConfig() BidConfig {
	return BidConfig{
		Denom:               DefaultDenom,
		Deposit:             1_000,
		MaxTenantGPUPercent: DefaultMaxTenantGPUPercent,
		Pricing: []PriceRule{{
			Model:            "H100",
			PricePerBlock:    1000,
			MinPricePerBlock: 800,
			MarkupBps:        500,
		}},
	}
}

// RuleFor returns the pricing rule for a GPU: the rule naming its model if
// there is one, else the rule naming its class (class may be empty).
func (c BidConfig) RuleFor(model, class string) (PriceRule, bool) {
	for _, r := range c.Pricing {
		if strings.EqualFold(r.Model, model) {
			return r, true
		}
	}
	if class == "" {
		return PriceRule{}, false
	}
	for _, r := range c.Pricing {
		if strings.EqualFold(r.Model, class) {
			return r, true
		}
	}
	return PriceRule{}, false
}

// ErrPriceOverflow is returned when a marked-up price does not fit in 64 bits.
var ErrPriceOverflow = errors.New("price overflows uint64")

// BidPrice is the price per GPU per block the rule bids: PricePerBlock raised
// by MarkupBps basis points (rounded down), and never less than MinPricePerBlock.
func (r PriceRule) BidPrice() (uint64, error) {
	hi, lo := bits.Mul64(r.PricePerBlock, bpsDenominator+uint64(r.MarkupBps))
	if hi >= bpsDenominator {
		return 0, fmt.Errorf("rule for %q: %w", r.Model, ErrPriceOverflow)
	}
	price, _ := bits.Div64(hi, lo, bpsDenominator)
	return max(price, r.MinPricePerBlock), nil
}

// ValidateBasic checks the denom, the deposit, every rule, and that no model
// is priced twice.
func (c BidConfig) ValidateBasic() error {
	if !denomRegex.MatchString(c.Denom) {
		return fieldErrorf("denom", "%q is not a valid coin denomination", c.Denom)
	}
	if c.Deposit == 0 {
		return fieldErrorf("deposit", "must be positive")
	}
	if c.MaxTenantGPUPercent == 0 || c.MaxTenantGPUPercent > 100 {
		return fieldErrorf("max_tenant_gpu_percent", "%d is not between 1 and 100", c.MaxTenantGPUPercent)
	}
	seen := make(map[string]int, len(c.Pricing))
	for i, r := range c.Pricing {
		field := fmt.Sprintf("pricing[%d]", i)
		if strings.TrimSpace(r.Model) == "" {
			return fieldErrorf(field+".model", "must not be empty")
		}
		key := strings.ToLower(r.Model)
		if j, dup := seen[key]; dup {
			return fieldErrorf(field+".model", "%q is already priced by pricing[%d]", r.Model, j)
		}
		seen[key] = i
		if r.PricePerBlock == 0 {
			return fieldErrorf(field+".price_per_block", "must be positive")
		}
		if r.MarkupBps > MaxMarkupBps {
			return fieldErrorf(field+".markup_bps", "%d is more than %d", r.MarkupBps, MaxMarkupBps)
		}
		if _, err := r.BidPrice(); err != nil {
			return &FieldError{Field: field + ".price_per_block", Err: err}
		}
	}
	return nil
}
