package approle

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
)

// secretID is a stored secret ID. The secret itself is not in it: it is
// stored under the HMAC of the secret, and only that HMAC is kept.
type secretID struct {
	Accessor string `json:"accessor"`
	// NumUses is the number of logins left; zero is unlimited.
	NumUses int           `json:"num_uses"`
	TTL     time.Duration `json:"ttl"`
	Created time.Time     `json:"created"`
	// Expires is zero for a secret ID that never expires.
	Expires         time.Time         `json:"expires"`
	Updated         time.Time         `json:"updated"`
	Metadata        map[string]string `json:"metadata"`
	CIDRList        []string          `json:"cidr_list"`
	TokenBoundCIDRs []string          `json:"token_bound_cidrs"`
}

func (e *secretID) expired(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires)
}

// secretIDInput is a secret ID write (secret-id and custom-secret-id).
type secretIDInput struct {
	Metadata        map[string]string `json:"metadata"`
	CIDRList        []string          `json:"cidr_list"`
	TokenBoundCIDRs []string          `json:"token_bound_cidrs"`
	NumUses         *int              `json:"num_uses"`
	TTL             *time.Duration    `json:"ttl"`
}

func secretKey(uid, hash string) string  { return secretIDPrefix + uid + "/" + hash }
func accessorKey(uid, acc string) string { return accessorPrefix + uid + "/" + acc }
func validAccessor(acc string) bool {
	return acc != "" && len(acc) <= MaxNameLen && !strings.Contains(acc, "/")
}
func (b *backend) secretHash(ctx context.Context, s secret) (string, error) {
	return b.hash(ctx, "secret_id", string(s))
}

func (b *backend) generateSecretID(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[secretIDInput](req.Data)
	if err != nil {
		return nil, err
	}
	id, err := b.uuid()
	if err != nil {
		return nil, err
	}
	return b.createSecretID(ctx, req, secret(id), in, warnings)
}

func (b *backend) customSecretID(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	rest := make(map[string]any, len(req.Data))
	for k, v := range req.Data {
		if k != "secret_id" {
			rest[k] = v
		}
	}
	s, _, err := engine.Decode[struct {
		SecretID secret `json:"secret_id"`
	}](map[string]any{"secret_id": req.Data["secret_id"]})
	if err != nil {
		return nil, err
	}
	if s.SecretID == "" || len(s.SecretID) > MaxNameLen {
		return nil, &engine.InputError{Field: "secret_id", Rule: fmt.Sprintf("must be 1 to %d bytes", MaxNameLen)}
	}
	in, warnings, err := engine.Decode[secretIDInput](rest)
	if err != nil {
		return nil, err
	}
	return b.createSecretID(ctx, req, s.SecretID, in, warnings)
}

// createSecretID registers s for the request's role, bounded by the
// role's limits, and answers with the secret, its accessor and limits.
func (b *backend) createSecretID(ctx context.Context, req *engine.Request, s secret, in secretIDInput, warnings []string) (*engine.Response, error) {
	b.roles.RLock()
	defer b.roles.RUnlock()
	r, err := b.existingRole(ctx, req)
	if err != nil {
		return nil, err
	}
	if !r.BindSecretID {
		return nil, engine.BadRequest("bind_secret_id is not set on role %q: its logins take no secret ID", r.Name)
	}
	e, err := newSecretID(r, in, b.now())
	if err != nil {
		return nil, err
	}
	if e.Accessor, err = b.uuid(); err != nil {
		return nil, err
	}
	h, err := b.secretHash(ctx, s)
	if err != nil {
		return nil, err
	}
	defer b.secrets.lock(r.UID + "/" + h)()
	var existing secretID
	found, err := getJSON(ctx, b.store, secretKey(r.UID, h), &existing)
	if err != nil {
		return nil, fmt.Errorf("read secret ID: %w", err)
	}
	if found {
		return nil, engine.BadRequest("create secret ID: this secret ID is already registered on role %q", r.Name)
	}
	if err := putJSON(ctx, b.store, secretKey(r.UID, h), e); err != nil {
		return nil, fmt.Errorf("write secret ID: %w", err)
	}
	if err := putJSON(ctx, b.store, accessorKey(r.UID, e.Accessor), h); err != nil {
		b.store.Delete(ctx, secretKey(r.UID, h))
		return nil, fmt.Errorf("write secret ID accessor: %w", err)
	}
	return &engine.Response{
		Data: map[string]any{
			"secret_id":          string(s),
			"secret_id_accessor": e.Accessor,
			"secret_id_ttl":      seconds(e.TTL),
			"secret_id_num_uses": e.NumUses,
		},
		Warnings: warnings,
	}, nil
}

// newSecretID checks a secret ID request against role r and returns the
// entry to store (without its accessor).
func newSecretID(r *role, in secretIDInput, now time.Time) (*secretID, error) {
	uses := r.SecretIDNumUses
	if in.NumUses != nil {
		uses = *in.NumUses
		if uses < 0 {
			return nil, &engine.InputError{Field: "num_uses", Rule: "must not be negative"}
		}
		if r.SecretIDNumUses > 0 && (uses == 0 || uses > r.SecretIDNumUses) {
			return nil, &engine.InputError{Field: "num_uses", Rule: fmt.Sprintf("must be 1 to the role's secret_id_num_uses (%d)", r.SecretIDNumUses)}
		}
	}
	ttl := r.SecretIDTTL
	if in.TTL != nil {
		ttl = *in.TTL
		if r.SecretIDTTL > 0 && (ttl == 0 || ttl > r.SecretIDTTL) {
			return nil, &engine.InputError{Field: "ttl", Rule: fmt.Sprintf("must be at most the role's secret_id_ttl (%ds)", seconds(r.SecretIDTTL))}
		}
	}
	if err := checkCIDRs("cidr_list", in.CIDRList); err != nil {
		return nil, err
	}
	if err := subsetOf("cidr_list", in.CIDRList, r.SecretIDBoundCIDRs, "secret_id_bound_cidrs"); err != nil {
		return nil, err
	}
	if err := checkCIDRs("token_bound_cidrs", in.TokenBoundCIDRs); err != nil {
		return nil, err
	}
	if err := subsetOf("token_bound_cidrs", in.TokenBoundCIDRs, r.Token.BoundCIDRs, "token_bound_cidrs"); err != nil {
		return nil, err
	}
	e := &secretID{
		NumUses:         uses,
		TTL:             ttl,
		Created:         now,
		Updated:         now,
		Metadata:        in.Metadata,
		CIDRList:        in.CIDRList,
		TokenBoundCIDRs: in.TokenBoundCIDRs,
	}
	if ttl > 0 {
		e.Expires = now.Add(ttl)
	}
	return e, nil
}

func (b *backend) listSecretIDs(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	r, err := b.existingRole(ctx, req)
	if err != nil {
		return nil, err
	}
	keys, err := b.store.List(ctx, accessorPrefix+r.UID+"/")
	if err != nil {
		return nil, fmt.Errorf("list secret ID accessors: %w", err)
	}
	return engine.ListResponse(keys), nil
}

// decodeSecret reads the secret_id field of a lookup or destroy.
func decodeSecret(data map[string]any) (secret, []string, error) {
	in, warnings, err := engine.Decode[struct {
		SecretID secret `json:"secret_id"`
	}](data)
	if err != nil {
		return "", nil, err
	}
	if in.SecretID == "" {
		return "", nil, &engine.InputError{Field: "secret_id", Rule: "is required"}
	}
	return in.SecretID, warnings, nil
}

// decodeAccessor reads the secret_id_accessor field of a lookup or destroy.
func decodeAccessor(data map[string]any) (string, []string, error) {
	in, warnings, err := engine.Decode[struct {
		Accessor string `json:"secret_id_accessor"`
	}](data)
	if err != nil {
		return "", nil, err
	}
	if !validAccessor(in.Accessor) {
		return "", nil, &engine.InputError{Field: "secret_id_accessor", Rule: "is required and may not contain '/'"}
	}
	return in.Accessor, warnings, nil
}

// entry reads the secret ID stored under hash h of role r, holding h's
// lock. An expired entry is removed and reported as absent.
func (b *backend) entry(ctx context.Context, r *role, h string) (*secretID, error) {
	var e secretID
	found, err := getJSON(ctx, b.store, secretKey(r.UID, h), &e)
	if err != nil {
		return nil, fmt.Errorf("read secret ID: %w", err)
	}
	if !found {
		return nil, nil
	}
	if e.expired(b.now()) {
		return nil, b.removeSecretID(ctx, r, h, &e)
	}
	return &e, nil
}

// removeSecretID deletes the secret ID under h and its accessor, holding
// h's lock.
func (b *backend) removeSecretID(ctx context.Context, r *role, h string, e *secretID) error {
	if err := b.store.Delete(ctx, secretKey(r.UID, h)); err != nil {
		return fmt.Errorf("delete secret ID: %w", err)
	}
	if validAccessor(e.Accessor) {
		if err := b.store.Delete(ctx, accessorKey(r.UID, e.Accessor)); err != nil {
			return fmt.Errorf("delete secret ID accessor: %w", err)
		}
	}
	return nil
}

func (b *backend) lookupSecretID(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	s, warnings, err := decodeSecret(req.Data)
	if err != nil {
		return nil, err
	}
	r, err := b.existingRole(ctx, req)
	if err != nil {
		return nil, err
	}
	h, err := b.secretHash(ctx, s)
	if err != nil {
		return nil, err
	}
	defer b.secrets.lock(r.UID + "/" + h)()
	e, err := b.entry(ctx, r, h)
	if err != nil || e == nil {
		return nil, err
	}
	return &engine.Response{Data: e.data(), Warnings: warnings}, nil
}

func (b *backend) destroySecretID(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	s, warnings, err := decodeSecret(req.Data)
	if err != nil {
		return nil, err
	}
	r, err := b.existingRole(ctx, req)
	if err != nil {
		return nil, err
	}
	h, err := b.secretHash(ctx, s)
	if err != nil {
		return nil, err
	}
	defer b.secrets.lock(r.UID + "/" + h)()
	e, err := b.entry(ctx, r, h)
	if err != nil || e == nil {
		return nil, err
	}
	if err := b.removeSecretID(ctx, r, h, e); err != nil {
		return nil, err
	}
	if len(warnings) > 0 {
		return &engine.Response{Warnings: warnings}, nil
	}
	return nil, nil
}

// byAccessor finds the role, hash and entry of the accessor in the
// request and locks the entry; call unlock when done, even on error.
func (b *backend) byAccessor(ctx context.Context, req *engine.Request) (r *role, h string, e *secretID, unlock func(), err error) {
	unlock = func() {}
	acc, _, err := decodeAccessor(req.Data)
	if err != nil {
		return nil, "", nil, unlock, err
	}
	if r, err = b.existingRole(ctx, req); err != nil {
		return nil, "", nil, unlock, err
	}
	notFound := engine.Errorf(engine.ErrNotFound, "secret ID accessor %q not found on role %q", acc, r.Name)
	found, err := getJSON(ctx, b.store, accessorKey(r.UID, acc), &h)
	if err != nil {
		return nil, "", nil, unlock, fmt.Errorf("read secret ID accessor: %w", err)
	}
	if !found {
		return nil, "", nil, unlock, notFound
	}
	unlock = b.secrets.lock(r.UID + "/" + h)
	if e, err = b.entry(ctx, r, h); err != nil {
		return nil, "", nil, unlock, err
	}
	if e == nil || e.Accessor != acc {
		return nil, "", nil, unlock, notFound
	}
	return r, h, e, unlock, nil
}

func (b *backend) lookupAccessor(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	_, _, e, unlock, err := b.byAccessor(ctx, req)
	defer unlock()
	if err != nil {
		return nil, err
	}
	return engine.DataResponse(e.data()), nil
}

func (b *backend) destroyAccessor(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	r, h, e, unlock, err := b.byAccessor(ctx, req)
	defer unlock()
	if err != nil {
		return nil, err
	}
	return nil, b.removeSecretID(ctx, r, h, e)
}

// data renders the entry for a lookup, as Vault does.
func (e *secretID) data() map[string]any {
	meta := e.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	return map[string]any{
		"secret_id_accessor": e.Accessor,
		"secret_id_num_uses": e.NumUses,
		"secret_id_ttl":      seconds(e.TTL),
		"creation_time":      e.Created.UTC().Format(time.RFC3339Nano),
		"expiration_time":    e.Expires.UTC().Format(time.RFC3339Nano),
		"last_updated_time":  e.Updated.UTC().Format(time.RFC3339Nano),
		"metadata":           meta,
		"cidr_list":          engine.StringSlice(e.CIDRList),
		"token_bound_cidrs":  engine.StringSlice(e.TokenBoundCIDRs),
	}
}

// checkCIDRs checks that every entry of list is a CIDR block or address.
func checkCIDRs(field string, list []string) error {
	for _, c := range list {
		if _, err := auth.ParseCIDR(c); err != nil {
			return &engine.InputError{Field: field, Rule: err.Error()}
		}
	}
	return nil
}

// subsetOf checks that every block of list lies inside a block of bound
// (named boundField on the role); an empty bound allows anything.
func subsetOf(field string, list, bound []string, boundField string) error {
	if len(bound) == 0 {
		return nil
	}
	for _, c := range list {
		inner, err := auth.ParseCIDR(c)
		if err != nil {
			return &engine.InputError{Field: field, Rule: err.Error()}
		}
		if !within(inner, bound) {
			return &engine.InputError{Field: field, Rule: fmt.Sprintf("%q is not inside the role's %s", c, boundField)}
		}
	}
	return nil
}

// within reports whether network n lies inside one of the blocks.
func within(n *net.IPNet, blocks []string) bool {
	ones, bits := n.Mask.Size()
	for _, b := range blocks {
		outer, err := auth.ParseCIDR(b)
		if err != nil {
			continue
		}
		oOnes, oBits := outer.Mask.Size()
		if oBits == bits && oOnes <= ones && outer.Contains(n.IP) {
			return true
		}
	}
	return false
}
