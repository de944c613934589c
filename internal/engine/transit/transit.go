package transit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

var _ engine.Factory = Factory

// Factory creates a transit engine for a mount. It does no I/O: keys are
// read from env.Storage when first used.
func Factory(_ context.Context, env engine.Env) (engine.Backend, error) {
	if env.Storage == nil {
		return nil, fmt.Errorf("create transit engine: no storage")
	}
	ks := &keyStore{storage: env.Storage, now: env.Now, rand: env.Rand, logger: env.Logger}
	if ks.now == nil {
		ks.now = time.Now
	}
	if ks.rand == nil {
		ks.rand = rand.Reader
	}
	if ks.logger == nil {
		ks.logger = slog.New(slog.DiscardHandler)
	}
	b := &backend{keys: ks}
	b.Mux = engine.NewMux(b.paths()...)
	return b, nil
}

// backend is the transit engine of one mount.
type backend struct {
	*engine.Mux
	keys *keyStore
}

func (b *backend) rand() io.Reader { return b.keys.rand }
func (b *backend) now() time.Time  { return b.keys.now() }

// paths are the engine's routes; doc.go lists them with their operations.
func (b *backend) paths() []engine.Path {
	return []engine.Path{
		{Pattern: "keys", Summary: "List the keys.", List: b.listKeys},
		{Pattern: "keys/{name}", Summary: "Create, read and delete a key.",
			Read: b.readKey, Write: b.createKey, Delete: b.deleteKey},
		{Pattern: "keys/{name}/config", Summary: "Change a key's settings.", Write: b.configKey},
		{Pattern: "keys/{name}/rotate", Summary: "Add a new version to a key.", Write: b.rotateKey},
		{Pattern: "keys/{name}/trim", Summary: "Delete a key's old versions for good.", Write: b.trimKey},
		{Pattern: "encrypt/{name}", Summary: "Encrypt with a key, creating it if the caller may.",
			Write: b.encrypt, Exists: b.keyExists},
		{Pattern: "decrypt/{name}", Summary: "Decrypt with a key.", Write: b.decrypt},
		{Pattern: "rewrap/{name}", Summary: "Re-encrypt a ciphertext with a key's latest version.", Write: b.rewrap},
		{Pattern: "datakey/{kind}/{name}", Summary: "Generate a data key encrypted with a key.", Write: b.dataKey},
		{Pattern: "hmac/{name}", Summary: "HMAC data with a key.", Write: b.hmac},
		{Pattern: "hmac/{name}/{algorithm}", Summary: "HMAC data with a key.", Write: b.hmac},
		{Pattern: "sign/{name}", Summary: "Sign data with an asymmetric key.", Write: b.sign},
		{Pattern: "sign/{name}/{algorithm}", Summary: "Sign data with an asymmetric key.", Write: b.sign},
		{Pattern: "verify/{name}", Summary: "Verify a signature or HMAC.", Write: b.verify},
		{Pattern: "verify/{name}/{algorithm}", Summary: "Verify a signature or HMAC.", Write: b.verify},
		{Pattern: "random", Summary: "Generate random bytes.", Write: b.random},
		{Pattern: "random/{a}", Summary: "Generate random bytes.", Write: b.random},
		{Pattern: "random/{source}/{bytes}", Summary: "Generate random bytes.", Write: b.random},
		{Pattern: "hash", Summary: "Hash data.", Write: b.hash},
		{Pattern: "hash/{algorithm}", Summary: "Hash data.", Write: b.hash},
		{Pattern: "export/{kind}/{name}", Summary: "Export an exportable key.", Read: b.export},
		{Pattern: "export/{kind}/{name}/{version}", Summary: "Export a version of an exportable key.", Read: b.export},
		{Pattern: "backup/{name}", Summary: "Back up a key in plaintext.", Read: b.backup},
		{Pattern: "restore", Summary: "Restore a key from a backup.", Write: b.restore},
		{Pattern: "restore/{name}", Summary: "Restore a key from a backup under a new name.", Write: b.restore},
	}
}

// keyExists is the existence check of encrypt/{name}: a write to a
// missing key is a create, which upserts the key.
func (b *backend) keyExists(ctx context.Context, req *engine.Request) (bool, error) {
	name := req.Var("name")
	if validateName("name", name) != nil {
		return false, nil
	}
	r, err := b.keys.load(ctx, name)
	return r != nil, err
}

// key returns the named key for operation op, or a 400 when it does not
// exist (Vault answers operations on a missing key with 400).
func (b *backend) key(ctx context.Context, op, name string) (*ring, error) {
	if err := validateName("name", name); err != nil {
		return nil, err
	}
	r, err := b.keys.get(ctx, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, engine.BadRequest("%s: key %q not found", op, name)
	}
	return r, nil
}

// engineBadType refuses an operation the key's type cannot do.
func engineBadType(op string, t keyType) error {
	return engine.BadRequest("%s: %s keys do not support this operation", op, t)
}

// decodeB64 decodes a standard base64 field; "" is no bytes.
func decodeB64(field, s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fieldErr(field, "must be base64 (standard encoding)")
	}
	return b, nil
}

// requiredB64 decodes a required base64 field; what says what the field
// holds ("the data to sign") when it is missing.
func requiredB64(field string, s *string, what string) ([]byte, error) {
	if s == nil {
		return nil, fieldErr(field, "required: the base64 of "+what)
	}
	return decodeB64(field, *s)
}

// decode is engine.Decode with the warnings attached to resp.
func decode[T any](data map[string]any, warnings *[]string) (T, error) {
	v, w, err := engine.Decode[T](data)
	*warnings = append(*warnings, w...)
	return v, err
}

// respond builds a data response carrying warnings.
func respond(data map[string]any, warnings []string) *engine.Response {
	return &engine.Response{Data: data, Warnings: warnings}
}
