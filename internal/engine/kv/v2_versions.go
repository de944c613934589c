package kv

import (
	"context"
	"fmt"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

type versionsBody struct {
	Versions []int `json:"versions"`
}

func parseVersions(data map[string]any) ([]int, error) {
	body, _, err := engine.Decode[versionsBody](data)
	if err != nil {
		return nil, err
	}
	if len(body.Versions) == 0 {
		return nil, &engine.InputError{Field: "versions", Rule: "required: a list of version numbers"}
	}
	return body.Versions, nil
}

// changeVersions runs change on each listed version of the request's
// secret that exists, under the secret's lock, and saves the metadata if
// change reported a change. A missing secret is not an error (204).
func (b *v2) changeVersions(ctx context.Context, req *engine.Request, op string,
	change func(p string, meta *keyMeta, ns []int, now time.Time) (bool, error)) (*engine.Response, error) {
	p, resp, err := b.secretPath(ctx, req)
	if p == "" {
		return resp, err
	}
	ns, err := parseVersions(req.Data)
	if err != nil {
		return nil, err
	}
	defer b.lock(p)()
	meta, err := b.loadMeta(ctx, p)
	if err != nil || meta == nil {
		return nil, err
	}
	var present []int
	for _, n := range ns {
		if meta.Versions[n] != nil {
			present = append(present, n)
		}
	}
	changed, err := change(p, meta, present, b.now().UTC())
	if err != nil {
		return nil, fmt.Errorf("%s versions: %w", op, err)
	}
	if !changed {
		return nil, nil
	}
	if err := b.saveMeta(ctx, p, meta); err != nil {
		return nil, fmt.Errorf("%s versions: %w", op, err)
	}
	return nil, nil
}

// deleteVersions soft-deletes versions: they read as 404 until undeleted.
func (b *v2) deleteVersions(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	return b.changeVersions(ctx, req, "delete", func(_ string, meta *keyMeta, ns []int, now time.Time) (bool, error) {
		changed := false
		for _, n := range ns {
			if v := meta.Versions[n]; v.readable(now) {
				v.Deletion = now
				changed = true
			}
		}
		return changed, nil
	})
}

// undeleteVersions clears the deletion time of versions not destroyed.
func (b *v2) undeleteVersions(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	return b.changeVersions(ctx, req, "undelete", func(_ string, meta *keyMeta, ns []int, _ time.Time) (bool, error) {
		changed := false
		for _, n := range ns {
			if v := meta.Versions[n]; !v.Destroyed && !v.Deletion.IsZero() {
				v.Deletion = time.Time{}
				changed = true
			}
		}
		return changed, nil
	})
}

// destroyVersions wipes the data of versions; their metadata stays,
// marked destroyed.
func (b *v2) destroyVersions(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	return b.changeVersions(ctx, req, "destroy", func(p string, meta *keyMeta, ns []int, _ time.Time) (bool, error) {
		var wipe []int
		for _, n := range ns {
			if !meta.Versions[n].Destroyed {
				wipe = append(wipe, n)
			}
		}
		// Data first: a crash now leaves versions that read as destroyed.
		if err := b.wipeVersions(ctx, p, wipe); err != nil {
			return false, err
		}
		for _, n := range wipe {
			meta.Versions[n].Destroyed = true
		}
		return len(wipe) > 0, nil
	})
}
