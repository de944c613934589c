package approle

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// MaxNameLen bounds role names, role IDs and custom secret IDs, in bytes.
const MaxNameLen = 4095

// role is a stored AppRole.
type role struct {
	// Name is the role's name, in lower case: role names are not case
	// sensitive, as in Vault.
	Name string `json:"name"`
	// UID is random and names the storage folders of the role's secret
	// IDs, so that a role deleted and made again under the same name
	// cannot inherit the old role's secret IDs.
	UID    string `json:"uid"`
	RoleID string `json:"role_id"`

	BindSecretID       bool          `json:"bind_secret_id"`
	SecretIDBoundCIDRs []string      `json:"secret_id_bound_cidrs"`
	SecretIDNumUses    int           `json:"secret_id_num_uses"`
	SecretIDTTL        time.Duration `json:"secret_id_ttl"`
	LocalSecretIDs     bool          `json:"local_secret_ids"`

	Token auth.TokenParams `json:"token"`
}

// roleInput is a role write, less its token fields (auth.TokenInput).
// Nil fields are left as they are.
type roleInput struct {
	RoleID             *string        `json:"role_id"`
	BindSecretID       *bool          `json:"bind_secret_id"`
	SecretIDBoundCIDRs *[]string      `json:"secret_id_bound_cidrs"`
	BoundCIDRList      *[]string      `json:"bound_cidr_list"` // Vault's older name
	SecretIDNumUses    *int           `json:"secret_id_num_uses"`
	SecretIDTTL        *time.Duration `json:"secret_id_ttl"`
	LocalSecretIDs     *bool          `json:"local_secret_ids"`
}

// roleName returns the request's role name, checked and in lower case.
func roleName(req *engine.Request) (string, error) {
	name := req.Var("role_name")
	if name == "" || len(name) > MaxNameLen {
		return "", &engine.InputError{Field: "role_name", Rule: fmt.Sprintf("must be 1 to %d bytes", MaxNameLen)}
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(" ._-", c)
		if !ok {
			return "", &engine.InputError{Field: "role_name", Rule: "may hold only letters, digits, spaces, '.', '_' and '-'"}
		}
	}
	return strings.ToLower(name), nil
}

// role reads the named role; nil when there is none.
func (b *backend) role(ctx context.Context, name string) (*role, error) {
	var r role
	found, err := getJSON(ctx, b.store, rolePrefix+name, &r)
	if err != nil {
		return nil, fmt.Errorf("read role: %w", err)
	}
	if !found {
		return nil, nil
	}
	return &r, nil
}

// existingRole reads the role named in the request's path, or fails with
// a 404 naming it.
func (b *backend) existingRole(ctx context.Context, req *engine.Request) (*role, error) {
	name, err := roleName(req)
	if err != nil {
		return nil, err
	}
	r, err := b.role(ctx, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, engine.Errorf(engine.ErrNotFound, "role %q does not exist", name)
	}
	return r, nil
}

func (b *backend) roleExists(ctx context.Context, req *engine.Request) (bool, error) {
	name, err := roleName(req)
	if err != nil {
		return false, nil
	}
	r, err := b.role(ctx, name)
	return r != nil, err
}

func (b *backend) listRoles(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	keys, err := b.store.List(ctx, rolePrefix)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return engine.ListResponse(keys), nil
}

func (b *backend) readRole(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name, err := roleName(req)
	if err != nil {
		return nil, err
	}
	r, err := b.role(ctx, name)
	if err != nil || r == nil {
		return nil, err
	}
	data := map[string]any{
		"bind_secret_id":        r.BindSecretID,
		"secret_id_bound_cidrs": engine.StringSlice(r.SecretIDBoundCIDRs),
		"secret_id_num_uses":    r.SecretIDNumUses,
		"secret_id_ttl":         seconds(r.SecretIDTTL),
		"local_secret_ids":      r.LocalSecretIDs,
	}
	r.Token.Data(data)
	return engine.DataResponse(data), nil
}

func (b *backend) writeRole(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name, err := roleName(req)
	if err != nil {
		return nil, err
	}
	tokenData, rest := splitToken(req.Data)
	in, warnings, err := engine.Decode[roleInput](rest)
	if err != nil {
		return nil, err
	}
	tin, _, err := engine.Decode[auth.TokenInput](tokenData)
	if err != nil {
		return nil, err
	}

	b.roles.Lock()
	defer b.roles.Unlock()
	old, err := b.role(ctx, name)
	if err != nil {
		return nil, err
	}
	var r role
	if old != nil {
		if req.CreateOnly {
			return nil, engine.ErrCreateOnly
		}
		r = *old
		if in.LocalSecretIDs != nil && *in.LocalSecretIDs != r.LocalSecretIDs {
			return nil, &engine.InputError{Field: "local_secret_ids", Rule: "can be set only when the role is created"}
		}
	} else {
		uid, err := b.uuid()
		if err != nil {
			return nil, err
		}
		r = role{Name: name, UID: uid, BindSecretID: true}
	}
	if err := applyRole(&r, in); err != nil {
		return nil, err
	}
	if err := r.Token.Update(tin); err != nil {
		return nil, err
	}
	if !r.BindSecretID && len(r.SecretIDBoundCIDRs) == 0 && len(r.Token.BoundCIDRs) == 0 {
		return nil, engine.BadRequest("at least one constraint must be enabled on the role: bind_secret_id, secret_id_bound_cidrs or token_bound_cidrs")
	}

	roleID := r.RoleID
	switch {
	case in.RoleID != nil:
		roleID = *in.RoleID
		if err := checkRoleID(roleID); err != nil {
			return nil, err
		}
	case old == nil:
		if roleID, err = b.uuid(); err != nil {
			return nil, err
		}
	}
	if err := b.saveRole(ctx, &r, roleID); err != nil {
		return nil, err
	}
	if len(warnings) > 0 {
		return &engine.Response{Warnings: warnings}, nil
	}
	return nil, nil
}

// applyRole applies the fields set in in to r and checks them.
func applyRole(r *role, in roleInput) error {
	if in.BindSecretID != nil {
		r.BindSecretID = *in.BindSecretID
	}
	cidrs := in.SecretIDBoundCIDRs
	if cidrs == nil {
		cidrs = in.BoundCIDRList
	}
	if cidrs != nil {
		if err := checkCIDRs("secret_id_bound_cidrs", *cidrs); err != nil {
			return err
		}
		r.SecretIDBoundCIDRs = *cidrs
	}
	if in.SecretIDNumUses != nil {
		if *in.SecretIDNumUses < 0 {
			return &engine.InputError{Field: "secret_id_num_uses", Rule: "must not be negative"}
		}
		r.SecretIDNumUses = *in.SecretIDNumUses
	}
	if in.SecretIDTTL != nil {
		r.SecretIDTTL = *in.SecretIDTTL
	}
	if in.LocalSecretIDs != nil {
		r.LocalSecretIDs = *in.LocalSecretIDs
	}
	return nil
}

// checkRoleID checks a role ID chosen by a caller.
func checkRoleID(id string) error {
	if id == "" || len(id) > MaxNameLen {
		return &engine.InputError{Field: "role_id", Rule: fmt.Sprintf("must be 1 to %d bytes", MaxNameLen)}
	}
	return nil
}

// saveRole stores r with roleID as its role ID, moving the role ID index
// if the ID changed. The caller holds b.roles. The new index entry is
// written first and the old one removed last, so a failure part way
// leaves at worst a stale index entry, which login ignores because it
// checks the role's own role ID.
func (b *backend) saveRole(ctx context.Context, r *role, roleID string) error {
	oldID := r.RoleID
	if roleID != oldID {
		if err := checkRoleID(roleID); err != nil {
			return err
		}
		h, err := b.hash(ctx, "role_id", roleID)
		if err != nil {
			return err
		}
		var owner string
		found, err := getJSON(ctx, b.store, roleIDPrefix+h, &owner)
		if err != nil {
			return fmt.Errorf("read role ID index: %w", err)
		}
		if found && owner != r.Name {
			if other, err := b.role(ctx, owner); err != nil {
				return err
			} else if other != nil && subtle.ConstantTimeCompare([]byte(other.RoleID), []byte(roleID)) == 1 {
				return &engine.InputError{Field: "role_id", Rule: "is already in use by another role"}
			}
		}
		if err := putJSON(ctx, b.store, roleIDPrefix+h, r.Name); err != nil {
			return fmt.Errorf("write role ID index: %w", err)
		}
		r.RoleID = roleID
	}
	if err := putJSON(ctx, b.store, rolePrefix+r.Name, r); err != nil {
		return fmt.Errorf("write role: %w", err)
	}
	if oldID != "" && oldID != roleID {
		if err := b.dropRoleIDIndex(ctx, oldID, r.Name); err != nil {
			return err
		}
	}
	return nil
}

// dropRoleIDIndex removes the index entry of roleID if it names role name.
func (b *backend) dropRoleIDIndex(ctx context.Context, roleID, name string) error {
	h, err := b.hash(ctx, "role_id", roleID)
	if err != nil {
		return err
	}
	var owner string
	found, err := getJSON(ctx, b.store, roleIDPrefix+h, &owner)
	if err != nil || !found || owner != name {
		return err
	}
	if err := b.store.Delete(ctx, roleIDPrefix+h); err != nil {
		return fmt.Errorf("delete role ID index: %w", err)
	}
	return nil
}

func (b *backend) deleteRole(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name, err := roleName(req)
	if err != nil {
		return nil, err
	}
	b.roles.Lock()
	defer b.roles.Unlock()
	r, err := b.role(ctx, name)
	if err != nil || r == nil {
		return nil, err
	}
	// The role goes first: from then on no login can use it, whatever
	// happens to the rest.
	if err := b.store.Delete(ctx, rolePrefix+name); err != nil {
		return nil, fmt.Errorf("delete role: %w", err)
	}
	if err := b.dropRoleIDIndex(ctx, r.RoleID, name); err != nil {
		return nil, err
	}
	if err := b.dropSecretIDs(ctx, r.UID); err != nil {
		return nil, err
	}
	return nil, nil
}

// dropSecretIDs removes every secret ID and accessor of the role with uid.
func (b *backend) dropSecretIDs(ctx context.Context, uid string) error {
	for _, p := range []string{secretIDPrefix, accessorPrefix} {
		if err := storage.DeletePrefix(ctx, b.store, p+uid+"/"); err != nil {
			return fmt.Errorf("delete secret IDs: %w", err)
		}
	}
	return nil
}

func (b *backend) readRoleID(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name, err := roleName(req)
	if err != nil {
		return nil, err
	}
	r, err := b.role(ctx, name)
	if err != nil || r == nil {
		return nil, err
	}
	return engine.DataResponse(map[string]any{"role_id": r.RoleID}), nil
}

func (b *backend) writeRoleID(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[struct {
		RoleID string `json:"role_id"`
	}](req.Data)
	if err != nil {
		return nil, err
	}
	if err := checkRoleID(in.RoleID); err != nil {
		return nil, err
	}
	b.roles.Lock()
	defer b.roles.Unlock()
	r, err := b.existingRole(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := b.saveRole(ctx, r, in.RoleID); err != nil {
		return nil, err
	}
	if len(warnings) > 0 {
		return &engine.Response{Warnings: warnings}, nil
	}
	return nil, nil
}
