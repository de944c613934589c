package approle

import (
	"context"
	"fmt"
	"strings"

	"github.com/wardsec/ward/internal/engine"
)

// tidy removes what logins and lookups would treat as absent but storage
// still holds: expired secret IDs, accessors whose secret ID is gone, and
// the secret IDs of roles that were deleted part way. It runs to the end
// before answering, holding the role lock so no role changes under it.
func (b *backend) tidy(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	b.roles.Lock()
	defer b.roles.Unlock()
	names, err := b.store.List(ctx, rolePrefix)
	if err != nil {
		return nil, fmt.Errorf("tidy: list roles: %w", err)
	}
	live := map[string]*role{}
	for _, n := range names {
		r, err := b.role(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("tidy: %w", err)
		}
		if r != nil {
			live[r.UID] = r
		}
	}
	orphans := map[string]bool{}
	for _, p := range []string{secretIDPrefix, accessorPrefix} {
		folders, err := b.store.List(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("tidy: list secret IDs: %w", err)
		}
		for _, f := range folders {
			if uid, ok := strings.CutSuffix(f, "/"); ok && live[uid] == nil {
				orphans[uid] = true
			}
		}
	}
	for uid := range orphans {
		if err := b.dropSecretIDs(ctx, uid); err != nil {
			return nil, fmt.Errorf("tidy: %w", err)
		}
	}
	removed := 0
	for _, r := range live {
		n, err := b.tidyRole(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("tidy role %q: %w", r.Name, err)
		}
		removed += n
	}
	return engine.DataResponse(map[string]any{
		"expired_secret_ids_removed": removed,
		"deleted_roles_cleaned":      len(orphans),
	}), nil
}

// tidyRole removes r's expired secret IDs and dangling accessors.
func (b *backend) tidyRole(ctx context.Context, r *role) (int, error) {
	hashes, err := b.store.List(ctx, secretIDPrefix+r.UID+"/")
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, h := range hashes {
		unlock := b.secrets.lock(r.UID + "/" + h)
		var e secretID
		found, err := getJSON(ctx, b.store, secretKey(r.UID, h), &e)
		if err == nil && found && e.expired(b.now()) {
			err = b.removeSecretID(ctx, r, h, &e)
			removed++
		}
		unlock()
		if err != nil {
			return removed, err
		}
	}
	accessors, err := b.store.List(ctx, accessorPrefix+r.UID+"/")
	if err != nil {
		return removed, err
	}
	for _, acc := range accessors {
		var h string
		found, err := getJSON(ctx, b.store, accessorKey(r.UID, acc), &h)
		if err != nil || !found {
			continue
		}
		unlock := b.secrets.lock(r.UID + "/" + h)
		var e secretID
		ok, err := getJSON(ctx, b.store, secretKey(r.UID, h), &e)
		if err == nil && (!ok || e.Accessor != acc) {
			err = b.store.Delete(ctx, accessorKey(r.UID, acc))
		}
		unlock()
		if err != nil {
			return removed, err
		}
	}
	return removed, nil
}
