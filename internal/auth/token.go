package auth

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

// TokenParams are the token settings of a role or user, as stored.
type TokenParams struct {
	Policies        []string      `json:"token_policies"`
	TTL             time.Duration `json:"token_ttl"`
	MaxTTL          time.Duration `json:"token_max_ttl"`
	ExplicitMaxTTL  time.Duration `json:"token_explicit_max_ttl"`
	Period          time.Duration `json:"token_period"`
	NumUses         int           `json:"token_num_uses"`
	NoDefaultPolicy bool          `json:"token_no_default_policy"`
	BoundCIDRs      []string      `json:"token_bound_cidrs"`
}

// TokenInput is the token part of a role or user write. Nil fields are
// left unchanged by Update. It is meant to be embedded in a method's input
// struct so that engine.Decode fills it.
type TokenInput struct {
	Policies        *[]string      `json:"token_policies"`
	LegacyPolicies  *[]string      `json:"policies"` // Vault's older name
	TTL             *time.Duration `json:"token_ttl"`
	MaxTTL          *time.Duration `json:"token_max_ttl"`
	ExplicitMaxTTL  *time.Duration `json:"token_explicit_max_ttl"`
	Period          *time.Duration `json:"token_period"`
	LegacyPeriod    *time.Duration `json:"period"`
	NumUses         *int           `json:"token_num_uses"`
	NoDefaultPolicy *bool          `json:"token_no_default_policy"`
	Type            *string        `json:"token_type"`
	BoundCIDRs      *[]string      `json:"token_bound_cidrs"`
}

// Update applies the fields set in in, and checks the result: TTLs within
// the maximum, a known token type, valid CIDRs, non-negative uses.
func (p *TokenParams) Update(in TokenInput) error {
	next := *p
	switch {
	case in.Policies != nil:
		next.Policies = slices.Clone(*in.Policies)
	case in.LegacyPolicies != nil:
		next.Policies = slices.Clone(*in.LegacyPolicies)
	}
	for i, p := range next.Policies {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "root" {
			return &engine.InputError{Field: "token_policies", Rule: "cannot include root: auth methods cannot create root tokens"}
		}
		next.Policies[i] = p
	}
	if in.TTL != nil {
		next.TTL = *in.TTL
	}
	if in.MaxTTL != nil {
		next.MaxTTL = *in.MaxTTL
	}
	if in.ExplicitMaxTTL != nil {
		next.ExplicitMaxTTL = *in.ExplicitMaxTTL
	}
	switch {
	case in.Period != nil:
		next.Period = *in.Period
	case in.LegacyPeriod != nil:
		next.Period = *in.LegacyPeriod
	}
	if in.NumUses != nil {
		if *in.NumUses < 0 {
			return &engine.InputError{Field: "token_num_uses", Rule: "must not be negative"}
		}
		next.NumUses = *in.NumUses
	}
	if in.NoDefaultPolicy != nil {
		next.NoDefaultPolicy = *in.NoDefaultPolicy
	}
	if in.Type != nil {
		switch *in.Type {
		case "", "default", "service", "default-service":
		default:
			return &engine.InputError{Field: "token_type", Rule: "only service tokens are supported (service, default or default-service)"}
		}
	}
	if in.BoundCIDRs != nil {
		for _, c := range *in.BoundCIDRs {
			if _, err := ParseCIDR(c); err != nil {
				return &engine.InputError{Field: "token_bound_cidrs", Rule: err.Error()}
			}
		}
		next.BoundCIDRs = *in.BoundCIDRs
	}
	if next.MaxTTL > 0 && next.TTL > next.MaxTTL {
		return &engine.InputError{Field: "token_ttl", Rule: "must not exceed token_max_ttl"}
	}
	*p = next
	return nil
}

// Data renders the parameters for a role or user read.
func (p TokenParams) Data(into map[string]any) {
	policies := p.Policies
	if policies == nil {
		policies = []string{}
	}
	cidrs := p.BoundCIDRs
	if cidrs == nil {
		cidrs = []string{}
	}
	into["token_policies"] = policies
	into["policies"] = policies
	into["token_ttl"] = int64(p.TTL / time.Second)
	into["token_max_ttl"] = int64(p.MaxTTL / time.Second)
	into["token_explicit_max_ttl"] = int64(p.ExplicitMaxTTL / time.Second)
	into["token_period"] = int64(p.Period / time.Second)
	into["period"] = int64(p.Period / time.Second)
	into["token_num_uses"] = p.NumUses
	into["token_no_default_policy"] = p.NoDefaultPolicy
	into["token_type"] = "default"
	into["token_bound_cidrs"] = cidrs
}

// Login returns a login carrying these parameters for alias.
func (p TokenParams) Login(alias engine.Alias, displayName string, metadata map[string]string) *engine.Login {
	return &engine.Login{
		Alias:           alias,
		Policies:        append([]string(nil), p.Policies...),
		NoDefaultPolicy: p.NoDefaultPolicy,
		Metadata:        metadata,
		DisplayName:     displayName,
		TTL:             p.TTL,
		MaxTTL:          p.MaxTTL,
		ExplicitMaxTTL:  p.ExplicitMaxTTL,
		Period:          p.Period,
		NumUses:         p.NumUses,
		Renewable:       true,
		BoundCIDRs:      append([]string(nil), p.BoundCIDRs...),
	}
}

// ParseCIDR accepts a CIDR ("10.0.0.0/8") or a single address.
func ParseCIDR(s string) (*net.IPNet, error) {
	if _, n, err := net.ParseCIDR(s); err == nil {
		return n, nil
	}
	ip := net.ParseIP(s)
	if ip == nil {
		return nil, fmt.Errorf("%q is not a CIDR block or an IP address", s)
	}
	bits := 32
	if ip.To4() == nil {
		bits = 128
	}
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
}

// RemoteIn reports whether the request's remote address is in one of
// cidrs; an empty list allows every address.
func RemoteIn(remoteAddr string, cidrs []string) bool {
	if len(cidrs) == 0 {
		return true
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, c := range cidrs {
		if n, err := ParseCIDR(c); err == nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// StillGranted reports whether a token's policies are still the ones
// these parameters grant (with "default" unless NoDefaultPolicy). Methods
// refuse to renew a login token whose role's policies changed, as Vault
// does, so a narrowed role takes effect at the next renewal.
func (p TokenParams) StillGranted(tokenPolicies []string) bool {
	want := slices.Clone(p.Policies)
	if !p.NoDefaultPolicy && !slices.Contains(want, "default") {
		want = append(want, "default")
	}
	have := slices.Clone(tokenPolicies)
	slices.Sort(want)
	slices.Sort(have)
	return slices.Equal(slices.Compact(want), slices.Compact(have))
}

// CheckRenewal is the usual engine.LoginChecker answer: params are the
// token settings of the user or role that issued the token (nil if it is
// gone, what names it, e.g. "role"); the renewal stands only while it
// exists and grants the same policies.
func CheckRenewal(what string, params *TokenParams, tokenPolicies []string) error {
	if params == nil {
		return engine.BadRequest("renew token: the %s no longer exists", what)
	}
	if !params.StillGranted(tokenPolicies) {
		return engine.BadRequest("renew token: the %s's policies have changed; log in again", what)
	}
	return nil
}
