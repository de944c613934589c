package sys

import (
	"context"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/policy"
)

func (b *backend) policyPaths() []engine.Path {
	return []engine.Path{
		{
			Pattern: "policies/acl",
			Summary: "List ACL policies.",
			List:    b.listPolicies(false),
			Read:    b.listPolicies(false),
		},
		{
			Pattern: "policies/acl/{name}",
			Summary: "Read, write or delete an ACL policy.",
			Read:    b.readPolicy("policy"),
			Write:   b.writePolicy,
			Delete:  b.deletePolicy,
		},
		{
			Pattern: "policy",
			Summary: "List ACL policies (legacy path).",
			Read:    b.listPolicies(true),
			List:    b.listPolicies(true),
		},
		{
			Pattern: "policy/{name}",
			Summary: "Read, write or delete an ACL policy (legacy path: the text is \"rules\").",
			Read:    b.readPolicy("rules"),
			Write:   b.writePolicy,
			Delete:  b.deletePolicy,
		},
	}
}

// listPolicies answers both list forms; the legacy one also has "policies".
func (b *backend) listPolicies(legacy bool) engine.Handler {
	return func(context.Context, *engine.Request) (*engine.Response, error) {
		names, err := b.core.Policies()
		if err != nil {
			return nil, err
		}
		data := map[string]any{"keys": names}
		if legacy {
			data["policies"] = names
		}
		return engine.DataResponse(data), nil
	}
}

func (b *backend) readPolicy(textKey string) engine.Handler {
	return func(_ context.Context, req *engine.Request) (*engine.Response, error) {
		name := req.Var("name")
		text, ok, err := b.core.Policy(name)
		if err != nil || !ok {
			return nil, err
		}
		return engine.DataResponse(map[string]any{"name": name, textKey: text}), nil
	}
}

type policyInput struct {
	Policy *string `json:"policy"`
	Rules  *string `json:"rules"`
	// node-vault repeats the name in the body.
	Name string `json:"name"`
}

func (b *backend) writePolicy(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[policyInput](req.Data)
	if err != nil {
		return nil, err
	}
	var text string
	switch {
	case in.Policy != nil:
		text = *in.Policy
	case in.Rules != nil:
		text = *in.Rules
		warnings = append(warnings, `"rules" is deprecated, please use "policy" instead`)
	default:
		return nil, &engine.InputError{Field: "policy", Rule: "is required"}
	}
	if err := b.core.PutPolicy(ctx, req.Var("name"), policy.DecodeText(text)); err != nil {
		return nil, err
	}
	return withWarnings(nil, warnings), nil
}

func (b *backend) deletePolicy(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	return nil, b.core.DeletePolicy(ctx, req.Var("name"))
}
