package policy

import "slices"

// mergeRule folds src into dst, both rules for the same pattern: Parse uses it
// for repeated blocks in one policy and Compile across a token's policies.
//
//   - capabilities are unioned, and Deny wins over everything (the merged
//     rule is Deny alone and carries no other constraint);
//   - allowed and denied parameters are merged key by key: an empty list
//     (any value) on either side wins, otherwise the value lists are joined.
//     A rule without allowed_parameters adds no keys, so once one policy
//     restricts parameters on a pattern the merged rule does too (as Vault);
//   - required parameters are unioned;
//   - of the wrapping TTL bounds the lowest non-zero one is kept.
//
// dst's maps and slices must be owned by dst; src is not modified.
func mergeRule(dst, src *PathRule) {
	dst.Templated = dst.Templated || src.Templated
	if dst.Capabilities&Deny != 0 || src.Capabilities&Deny != 0 {
		*dst = PathRule{Pattern: dst.Pattern, Capabilities: Deny, Templated: dst.Templated}
		return
	}
	dst.Capabilities |= src.Capabilities
	dst.AllowedParameters = mergeParams(dst.AllowedParameters, src.AllowedParameters)
	dst.DeniedParameters = mergeParams(dst.DeniedParameters, src.DeniedParameters)
	for _, p := range src.RequiredParameters {
		dst.RequiredParameters = appendUnique(dst.RequiredParameters, p)
	}
	dst.MinWrappingTTL = lowestBound(dst.MinWrappingTTL, src.MinWrappingTTL)
	dst.MaxWrappingTTL = lowestBound(dst.MaxWrappingTTL, src.MaxWrappingTTL)
}

func mergeParams(dst, src map[string][]string) map[string][]string {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string][]string, len(src))
	}
	for k, vals := range src {
		mergeParamValues(dst, k, vals)
	}
	return dst
}

// mergeParamValues adds vals for key k to m, where an empty list means "any
// value" and so absorbs every other list.
func mergeParamValues(m map[string][]string, k string, vals []string) {
	old, ok := m[k]
	switch {
	case !ok:
		m[k] = slices.Clone(vals)
		if m[k] == nil {
			m[k] = []string{}
		}
	case len(old) == 0 || len(vals) == 0:
		m[k] = []string{}
	default:
		for _, v := range vals {
			old = appendUnique(old, v)
		}
		m[k] = old
	}
}

func lowestBound[T ~int64](a, b T) T {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// cloneRule returns a copy of r that shares no maps or slices with it.
func cloneRule(r *PathRule) PathRule {
	c := *r
	c.AllowedParameters = cloneParams(r.AllowedParameters)
	c.DeniedParameters = cloneParams(r.DeniedParameters)
	c.RequiredParameters = slices.Clone(r.RequiredParameters)
	return c
}

func cloneParams(m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	c := make(map[string][]string, len(m))
	for k, v := range m {
		c[k] = slices.Clone(v)
		if c[k] == nil {
			c[k] = []string{}
		}
	}
	return c
}
