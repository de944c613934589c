package jwt

import (
	"encoding/json"
	"math"
	"slices"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

// expectations are what a verified token's claims must satisfy beyond
// the role's own bounds.
type expectations struct {
	now    time.Time
	issuer string // bound_issuer (or the OIDC issuer); "" accepts any
	// clientID, for ID tokens, must be one of the audiences.
	clientID string
	// requireExp refuses a token without exp (ID tokens must have one).
	requireExp bool
}

// checkClaims applies the standard claims and the role's bounds to a
// token's verified claims. Every failure is a 400 naming the claim and
// never quoting the token.
func checkClaims(claims map[string]any, r *role, e expectations) error {
	if err := checkTimes(claims, r, e); err != nil {
		return err
	}
	if e.issuer != "" {
		if iss, _ := claims["iss"].(string); iss != e.issuer {
			return engine.BadRequest("iss claim does not match bound issuer")
		}
	}
	aud, err := audiences(claims)
	if err != nil {
		return engine.BadRequest("%v", err)
	}
	if e.clientID != "" && !slices.Contains(aud, e.clientID) {
		return engine.BadRequest("aud claim does not include the client ID")
	}
	switch {
	case len(r.BoundAudiences) > 0:
		if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(r.BoundAudiences, a) }) {
			return engine.BadRequest("aud claim does not match any bound audience")
		}
	case len(aud) > 0 && e.clientID == "":
		return engine.BadRequest("audience claim found in JWT but no audiences bound to the role")
	}
	if r.BoundSubject != "" {
		if sub, _ := claims["sub"].(string); sub != r.BoundSubject {
			return engine.BadRequest("sub claim does not match bound subject")
		}
	}
	if err := checkBoundClaims(claims, r.boundSets(), r.BoundClaimsType == "glob"); err != nil {
		return engine.BadRequest("%v", err)
	}
	return nil
}

// checkTimes checks exp, nbf and iat, each give or take the clock skew
// leeway plus its own leeway.
//
// A token without exp must have iat or nbf (with none of the three it
// would be good forever) and then expires expiration_leeway after the
// later of them, give or take the clock skew leeway, as Vault does. With
// expiration_leeway turned off (-1) such a token lives no longer than the
// clock skew leeway, so with both turned off it is refused.
func checkTimes(claims map[string]any, r *role, e expectations) error {
	skew := leeway(r.ClockSkewLeeway, defaultClockSkew)
	expLeeway := leeway(r.ExpirationLeeway, defaultClaimLeeway)
	exp, hasExp, err := numericDate(claims, "exp")
	if err != nil {
		return err
	}
	nbf, hasNbf, err := numericDate(claims, "nbf")
	if err != nil {
		return err
	}
	iat, hasIat, err := numericDate(claims, "iat")
	if err != nil {
		return err
	}
	switch {
	case hasExp:
		if e.now.After(exp.Add(skew + expLeeway)) {
			return engine.BadRequest("token is expired")
		}
	case e.requireExp:
		return engine.BadRequest("token has no exp claim")
	case !hasIat && !hasNbf:
		return engine.BadRequest("token has no exp, iat or nbf claim")
	default:
		start := iat
		if hasNbf && (!hasIat || nbf.After(iat)) {
			start = nbf
		}
		// The leeway is the token's whole lifetime here, so it counts once.
		if !e.now.Before(start.Add(skew + expLeeway)) {
			return engine.BadRequest("token is expired: it has no exp claim and its iat or nbf is more than expiration_leeway ago")
		}
	}
	if hasNbf && e.now.Add(skew+leeway(r.NotBeforeLeeway, defaultClaimLeeway)).Before(nbf) {
		return engine.BadRequest("token is not yet valid")
	}
	if hasIat && e.now.Add(skew).Before(iat) {
		return engine.BadRequest("token was issued in the future")
	}
	return nil
}

// numericDate reads a NumericDate claim (seconds since the epoch).
func numericDate(claims map[string]any, name string) (time.Time, bool, error) {
	v, ok := claims[name]
	if !ok || v == nil {
		return time.Time{}, false, nil
	}
	var f float64
	switch x := v.(type) {
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return time.Time{}, false, engine.BadRequest("%s claim is not a number", name)
		}
	case float64:
		f = x
	default:
		return time.Time{}, false, engine.BadRequest("%s claim is not a number", name)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e12 {
		return time.Time{}, false, engine.BadRequest("%s claim is out of range", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// loginResponse turns a token the role accepts into a login: user_claim
// names the alias, claim_mappings fill the alias and token metadata (with
// "role" added to the token's), groups_claim the group aliases.
func loginResponse(claims map[string]any, roleName string, r *role) (*engine.Response, error) {
	var userRaw any
	if r.UserClaimJSONPointer {
		userRaw = claim(claims, r.UserClaim)
	} else {
		userRaw = claims[r.UserClaim]
	}
	if userRaw == nil {
		return nil, engine.BadRequest("claim %q not found in token", r.UserClaim)
	}
	user, ok := userRaw.(string)
	if !ok || user == "" {
		return nil, engine.BadRequest("claim %q could not be converted to string", r.UserClaim)
	}
	aliasMeta, err := mappedMetadata(claims, r.ClaimMappings)
	if err != nil {
		return nil, engine.BadRequest("%v", err)
	}
	var groupNames []string
	if r.GroupsClaim != "" {
		if groupNames, err = groups(claims, r.GroupsClaim); err != nil {
			return nil, engine.BadRequest("%v", err)
		}
	}
	meta := make(map[string]string, len(aliasMeta)+1)
	for k, v := range aliasMeta {
		meta[k] = v
	}
	meta["role"] = roleName
	l := r.Token.Login(engine.Alias{Name: user, Metadata: aliasMeta}, user, meta)
	l.GroupAliases = groupNames
	return &engine.Response{Login: l}, nil
}
