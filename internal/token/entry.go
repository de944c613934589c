package token

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// TypeService is the only token type Ward issues. Batch tokens are not
// supported.
const TypeService = "service"

// Entry is what the store keeps about a token. It never holds the token
// itself: ID is the token's salted HMAC.
type Entry struct {
	// ID is the hex HMAC-SHA256 of the token; core passes it as
	// Caller.TokenID and cubbyhole keys its storage by it.
	ID       string `json:"id"`
	Accessor string `json:"accessor"`
	// Parent is the parent token's ID, "" for an orphan.
	Parent string `json:"parent,omitempty"`
	// Policies are sorted and de-duplicated; a root token has ["root"] only.
	Policies []string `json:"policies"`
	// Path is where the token was made: "auth/token/create",
	// "auth/token/root", "auth/userpass/login/bob".
	Path        string            `json:"path"`
	Meta        map[string]string `json:"meta,omitempty"`
	DisplayName string            `json:"display_name"`
	// NumUses is how many more requests the token may make; 0 is unlimited.
	NumUses      int           `json:"num_uses"`
	CreationTime time.Time     `json:"creation_time"`
	CreationTTL  time.Duration `json:"creation_ttl"`
	// ExplicitMaxTTL caps the token's whole life since creation; Period,
	// when set, is what each renewal extends it to.
	ExplicitMaxTTL time.Duration `json:"explicit_max_ttl,omitempty"`
	Period         time.Duration `json:"period,omitempty"`
	// ExpireTime is when the token stops working; zero never.
	ExpireTime  time.Time `json:"expire_time,omitzero"`
	Renewable   bool      `json:"renewable"`
	EntityID    string    `json:"entity_id,omitempty"`
	Type        string    `json:"type"`
	Orphan      bool      `json:"orphan"`
	LastRenewal time.Time `json:"last_renewal,omitzero"`
	Role        string    `json:"role,omitempty"`
	// BoundCIDRs limit where the token may be used from (core checks the
	// request's address); empty is anywhere.
	BoundCIDRs []string `json:"bound_cidrs,omitempty"`
	// RevokePending is when revocation of the token began (explicitly, or
	// because its last use was spent); zero if it has not. A pending token
	// is never accepted.
	RevokePending time.Time `json:"revoke_pending,omitzero"`
}

// IsRoot reports whether the entry carries the root policy.
func (e *Entry) IsRoot() bool { return slices.Contains(e.Policies, "root") }

// TTL returns how long the token has left at now: 0 for a token that never
// expires, and at least one second for a valid expiring one (so a client
// never reads 0 as "forever").
func (e *Entry) TTL(now time.Time) time.Duration {
	if e.ExpireTime.IsZero() {
		return 0
	}
	left := e.ExpireTime.Sub(now).Truncate(time.Second)
	return max(left, time.Second)
}

func (e *Entry) expired(now time.Time) bool {
	return !e.ExpireTime.IsZero() && !now.Before(e.ExpireTime)
}

func (e *Entry) pending() bool { return !e.RevokePending.IsZero() }

// String describes the entry without anything secret (there is nothing
// secret in it, but it keeps logs short).
func (e *Entry) String() string {
	return fmt.Sprintf("token(accessor=%s policies=%v path=%s)", e.Accessor, e.Policies, e.Path)
}

// CreateParams describe a token to create. Create applies the store's TTL
// rules; callers pass what was asked for.
type CreateParams struct {
	// ID, when set, is the token itself instead of a random one. Only
	// root or sudo callers may choose it; it must be 1..128 printable ASCII
	// characters without whitespace or ".".
	ID string
	// Parent is the parent token's ID; "" makes an orphan, as does Orphan
	// (which wins over Parent).
	Parent      string
	Orphan      bool
	Policies    []string
	Path        string
	Meta        map[string]string
	DisplayName string
	NumUses     int
	// TTL zero means the default TTL, except that a token carrying the
	// root policy with no TTL, period or explicit max never expires.
	TTL            time.Duration
	ExplicitMaxTTL time.Duration
	Period         time.Duration
	// Renewable is false unless set: logins and the create endpoint set
	// it; root and response-wrapping tokens leave it false.
	Renewable bool
	EntityID  string
	Role      string
	// BoundCIDRs limit where the token may be used from.
	BoundCIDRs []string
}

// sanitizePolicies trims, lowercases, de-duplicates and sorts names, drops
// empty ones, and reduces any list holding "root" to just "root".
func sanitizePolicies(in []string, addDefault bool) []string {
	out := make([]string, 0, len(in)+1)
	for _, p := range in {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if p == "root" {
			return []string{"root"}
		}
		out = append(out, p)
	}
	if addDefault {
		out = append(out, "default")
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// validCustomID checks a caller-chosen token.
func validCustomID(id string) error {
	if len(id) > 128 {
		return fmt.Errorf("must be at most 128 characters")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c > '~' {
			return fmt.Errorf("must be printable ASCII without whitespace")
		}
		if c == '.' {
			return fmt.Errorf("must not contain \".\"")
		}
	}
	if id == "" {
		return fmt.Errorf("must not be empty")
	}
	return nil
}

// ttlRequest is the input to calculateTTL.
type ttlRequest struct {
	start       time.Time     // when the token was created
	increment   time.Duration // asked for by a renewal; 0 none
	base        time.Duration // the token's own TTL; 0 the default
	period      time.Duration
	explicitMax time.Duration
}

// calculateTTL decides a token's TTL from now, as Vault does: a periodic
// token gets its period (capped at the max TTL) and lives as long as it is
// renewed, up to its explicit max since creation; any other token gets the
// increment, its own TTL or the default, capped so that it never outlives
// start + min(max TTL, explicit max). Warnings say what was capped.
func (s *Store) calculateTTL(now time.Time, r ttlRequest) (time.Duration, []string, error) {
	maxTTL := s.maxTTL
	if r.explicitMax > 0 && r.explicitMax < maxTTL {
		maxTTL = r.explicitMax
	}
	var warnings []string
	var ttl time.Duration
	var limit time.Time
	if r.period > 0 {
		ttl = r.period
		if ttl > maxTTL {
			warnings = append(warnings, fmt.Sprintf("period of %q exceeded the effective max_ttl of %q; period value is capped accordingly", ttl, maxTTL))
			ttl = maxTTL
		}
		if r.explicitMax > 0 {
			limit = r.start.Add(r.explicitMax)
		}
	} else {
		switch {
		case r.increment > 0:
			ttl = r.increment
		case r.base > 0:
			ttl = r.base
		default:
			ttl = s.defaultTTL
		}
		limit = r.start.Add(maxTTL)
	}
	if !limit.IsZero() {
		left := limit.Sub(now)
		if left <= 0 {
			return 0, nil, fmt.Errorf("past the max TTL, cannot renew")
		}
		if ttl > left {
			warnings = append(warnings, fmt.Sprintf("TTL of %q exceeded the effective max_ttl of %q; TTL value is capped accordingly", ttl, left.Truncate(time.Second)))
			ttl = left
		}
	}
	return ttl, warnings, nil
}

// expireKey is the expiry index key of id expiring at t.
func expireKey(t time.Time, id string) string {
	u := max(t.Unix(), 0)
	return fmt.Sprintf("%s%010d/%012d-%s", prefixExpire, u/3600, u, id)
}
