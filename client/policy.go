package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// policyPath is the modern ACL policy endpoint for name.
func policyPath(name string) string {
	return "sys/policies/acl/" + strings.Trim(name, "/")
}

// PutPolicy creates or replaces the ACL policy name with rules (HCL or
// JSON). The server lower-cases the name and rejects rules it cannot parse
// with a 400.
func (s *Sys) PutPolicy(ctx context.Context, name, rules string) error {
	body := map[string]any{"policy": rules}
	if _, err := s.c.call(ctx, &request{method: http.MethodPut, path: policyPath(name), body: body}); err != nil {
		return fmt.Errorf("write policy %s: %w", name, err)
	}
	return nil
}

// Policy returns the rules of the ACL policy name, or an error wrapping
// ErrNotFound when there is no such policy.
func (s *Sys) Policy(ctx context.Context, name string) (string, error) {
	sec, err := s.c.Read(ctx, policyPath(name))
	if err != nil {
		return "", fmt.Errorf("read policy %s: %w", name, err)
	}
	if sec == nil {
		return "", fmt.Errorf("read policy %s: %w", name, ErrNotFound)
	}
	var d struct {
		Policy string `json:"policy"`
		Rules  string `json:"rules"`
	}
	if err := DecodeData(sec, &d); err != nil {
		return "", fmt.Errorf("read policy %s: %w", name, err)
	}
	if d.Policy == "" {
		d.Policy = d.Rules
	}
	return d.Policy, nil
}

// ListPolicies returns the names of all ACL policies, "root" included.
func (s *Sys) ListPolicies(ctx context.Context) ([]string, error) {
	sec, err := s.c.List(ctx, "sys/policies/acl")
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	keys, err := Keys(sec)
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	return keys, nil
}

// DeletePolicy deletes the ACL policy name. Deleting a policy that does not
// exist succeeds; "root" and "default" cannot be deleted.
func (s *Sys) DeletePolicy(ctx context.Context, name string) error {
	if _, err := s.c.call(ctx, &request{method: http.MethodDelete, path: policyPath(name)}); err != nil {
		return fmt.Errorf("delete policy %s: %w", name, err)
	}
	return nil
}
