package transit

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

// keyOptions are the settings of a new key: the body of keys/{name}, and
// the upsert fields of encrypt/{name}.
type keyOptions struct {
	Type                 string        `json:"type"`
	Derived              bool          `json:"derived"`
	ConvergentEncryption bool          `json:"convergent_encryption"`
	Exportable           bool          `json:"exportable"`
	AllowPlaintextBackup bool          `json:"allow_plaintext_backup"`
	AutoRotatePeriod     time.Duration `json:"auto_rotate_period"`
	KeySize              int           `json:"key_size"`
}

// newPolicy checks o and makes version 1 of a new key.
func newPolicy(name string, o keyOptions, rnd io.Reader, now time.Time) (*policy, error) {
	t := keyType(o.Type)
	if t == "" {
		t = typeAES256
	}
	switch {
	case !t.known():
		return nil, fieldErr("type", fmt.Sprintf("unknown key type %q: use one of %s", o.Type, typeNames))
	case o.Derived && !t.derivation():
		return nil, fieldErr("derived", fmt.Sprintf("%s keys do not support derivation", t))
	case o.ConvergentEncryption && !t.aead():
		return nil, fieldErr("convergent_encryption", fmt.Sprintf("%s keys do not support it: use an AEAD key type", t))
	case o.ConvergentEncryption && !o.Derived:
		return nil, fieldErr("convergent_encryption", "requires a derived key (derived=true, and a context with every request)")
	case o.KeySize != 0 && t != typeHMAC:
		return nil, fieldErr("key_size", "only hmac keys take a key size")
	case o.KeySize != 0 && (o.KeySize < minHMACKeySize || o.KeySize > maxHMACKeySize):
		return nil, fieldErr("key_size", fmt.Sprintf("must be %d to %d bytes", minHMACKeySize, maxHMACKeySize))
	}
	if err := checkRotatePeriod(o.AutoRotatePeriod); err != nil {
		return nil, err
	}
	p := &policy{
		Name: name, Type: t, Derived: o.Derived, Convergent: o.ConvergentEncryption,
		Exportable: o.Exportable, AllowPlaintextBackup: o.AllowPlaintextBackup,
		AutoRotatePeriod: o.AutoRotatePeriod, MinDecryptionVersion: 1, Versions: map[int]*keyVersion{},
	}
	if t == typeHMAC {
		p.KeySize = o.KeySize
		if p.KeySize == 0 {
			p.KeySize = hmacKeyLen
		}
	}
	if err := p.rotate(rnd, now); err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	return p, nil
}

func checkRotatePeriod(d time.Duration) error {
	if d != 0 && d < time.Hour {
		return fieldErr("auto_rotate_period", "must be 0 (off) or at least 1h")
	}
	return nil
}

func (b *backend) listKeys(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	names, err := b.keys.list(ctx)
	if err != nil {
		return nil, err
	}
	return engine.ListResponse(names), nil
}

func (b *backend) readKey(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name := req.Var("name")
	if err := validateName("name", name); err != nil {
		return nil, err
	}
	r, err := b.keys.get(ctx, name)
	if err != nil || r == nil {
		return nil, err
	}
	info := keyInfo(r)
	// A derived ed25519 key has a public key per context; a read with a
	// context shows those, as Vault does.
	if c, _ := req.Data["context"].(string); c != "" && r.p.Derived && r.p.Type == typeEd25519 {
		derivation, err := decodeB64("context", c)
		if err != nil {
			return nil, err
		}
		for n, v := range info["keys"].(map[string]any) {
			version, _ := strconv.Atoi(n)
			priv, err := r.ed25519Key(r.versions[version], derivation)
			if err != nil {
				return nil, err
			}
			v.(map[string]any)["public_key"] = base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
		}
	}
	return engine.DataResponse(info), nil
}

// createKey creates a key; creating one that exists changes nothing and
// answers with a warning, as Vault does.
func (b *backend) createKey(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name := req.Var("name")
	if err := validateName("name", name); err != nil {
		return nil, err
	}
	var warnings []string
	o, err := decode[keyOptions](req.Data, &warnings)
	if err != nil {
		return nil, err
	}
	existed := false
	r, err := b.keys.change(ctx, name, func(cur *policy) (*policy, bool, error) {
		if cur != nil {
			existed = true
			return cur, false, nil
		}
		p, err := newPolicy(name, o, b.rand(), b.now())
		return p, err == nil, err
	})
	if err != nil {
		return nil, err
	}
	if existed {
		warnings = append(warnings, fmt.Sprintf("key %q already existed: its settings were left as they are", name))
	}
	return respond(keyInfo(r), warnings), nil
}

func (b *backend) deleteKey(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name := req.Var("name")
	if err := validateName("name", name); err != nil {
		return nil, err
	}
	_, err := b.keys.change(ctx, name, func(cur *policy) (*policy, bool, error) {
		switch {
		case cur == nil:
			return nil, false, engine.BadRequest("delete key: key %q not found", name)
		case !cur.DeletionAllowed:
			return nil, false, engine.BadRequest("delete key: deletion is not allowed for key %q: set deletion_allowed=true with keys/%s/config first", name, name)
		}
		return nil, true, nil
	})
	return nil, err
}

// configRequest is the body of keys/{name}/config; absent fields are left
// as they are.
type configRequest struct {
	MinDecryptionVersion *int           `json:"min_decryption_version"`
	MinEncryptionVersion *int           `json:"min_encryption_version"`
	DeletionAllowed      *bool          `json:"deletion_allowed"`
	Exportable           *bool          `json:"exportable"`
	AllowPlaintextBackup *bool          `json:"allow_plaintext_backup"`
	AutoRotatePeriod     *time.Duration `json:"auto_rotate_period"`
}

func (b *backend) configKey(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name := req.Var("name")
	if err := validateName("name", name); err != nil {
		return nil, err
	}
	var warnings []string
	c, err := decode[configRequest](req.Data, &warnings)
	if err != nil {
		return nil, err
	}
	r, err := b.keys.change(ctx, name, func(p *policy) (*policy, bool, error) {
		if p == nil {
			return nil, false, engine.BadRequest("configure key: key %q not found", name)
		}
		w, err := c.apply(p)
		warnings = append(warnings, w...)
		return p, err == nil, err
	})
	if err != nil {
		return nil, err
	}
	return respond(keyInfo(r), warnings), nil
}

// apply changes p as c asks, enforcing Vault's rules.
func (c *configRequest) apply(p *policy) (warnings []string, err error) {
	if c.MinDecryptionVersion != nil {
		v := *c.MinDecryptionVersion
		switch {
		case v < 0:
			return nil, fieldErr("min_decryption_version", "must not be negative")
		case v == 0:
			v = 1
			warnings = append(warnings, "min_decryption_version 0 means 1: key versions start at 1")
		case v > p.LatestVersion:
			return nil, fieldErr("min_decryption_version", fmt.Sprintf("cannot exceed the latest version (%d)", p.LatestVersion))
		}
		if v < p.MinAvailableVersion {
			return nil, fieldErr("min_decryption_version", fmt.Sprintf("versions below %d were trimmed", p.MinAvailableVersion))
		}
		p.MinDecryptionVersion = v
	}
	if c.MinEncryptionVersion != nil {
		v := *c.MinEncryptionVersion
		switch {
		case v < 0:
			return nil, fieldErr("min_encryption_version", "must not be negative")
		case v > p.LatestVersion:
			return nil, fieldErr("min_encryption_version", fmt.Sprintf("cannot exceed the latest version (%d)", p.LatestVersion))
		}
		p.MinEncryptionVersion = v
	}
	if p.MinEncryptionVersion != 0 && p.MinEncryptionVersion < p.MinDecryptionVersion {
		return nil, fieldErr("min_encryption_version", fmt.Sprintf("must be 0 (the latest) or at least min_decryption_version (%d)", p.MinDecryptionVersion))
	}
	if c.DeletionAllowed != nil {
		p.DeletionAllowed = *c.DeletionAllowed
	}
	if c.Exportable != nil {
		if p.Exportable && !*c.Exportable {
			return nil, fieldErr("exportable", "cannot be turned off once on")
		}
		p.Exportable = *c.Exportable
	}
	if c.AllowPlaintextBackup != nil {
		if p.AllowPlaintextBackup && !*c.AllowPlaintextBackup {
			return nil, fieldErr("allow_plaintext_backup", "cannot be turned off once on")
		}
		p.AllowPlaintextBackup = *c.AllowPlaintextBackup
	}
	if c.AutoRotatePeriod != nil {
		if err := checkRotatePeriod(*c.AutoRotatePeriod); err != nil {
			return nil, err
		}
		p.AutoRotatePeriod = *c.AutoRotatePeriod
	}
	return warnings, nil
}

func (b *backend) rotateKey(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name := req.Var("name")
	if err := validateName("name", name); err != nil {
		return nil, err
	}
	r, err := b.keys.change(ctx, name, func(p *policy) (*policy, bool, error) {
		if p == nil {
			return nil, false, engine.BadRequest("rotate key: key %q not found", name)
		}
		if err := p.rotate(b.rand(), b.now()); err != nil {
			return nil, false, fmt.Errorf("rotate key: %w", err)
		}
		return p, true, nil
	})
	if err != nil {
		return nil, err
	}
	return engine.DataResponse(keyInfo(r)), nil
}

func (b *backend) trimKey(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name := req.Var("name")
	if err := validateName("name", name); err != nil {
		return nil, err
	}
	var warnings []string
	t, err := decode[struct {
		MinAvailableVersion *int `json:"min_available_version"`
	}](req.Data, &warnings)
	if err != nil {
		return nil, err
	}
	if t.MinAvailableVersion == nil {
		return nil, fieldErr("min_available_version", "required")
	}
	v := *t.MinAvailableVersion
	r, err := b.keys.change(ctx, name, func(p *policy) (*policy, bool, error) {
		if p == nil {
			return nil, false, engine.BadRequest("trim key: key %q not found", name)
		}
		if err := trimRule(p, v); err != nil {
			return nil, false, err
		}
		if v == p.MinAvailableVersion {
			return p, false, nil
		}
		for n := p.firstVersion(); n < v; n++ {
			delete(p.Versions, n)
		}
		p.MinAvailableVersion = v
		return p, true, nil
	})
	if err != nil {
		return nil, err
	}
	return respond(keyInfo(r), warnings), nil
}

// trimRule checks a new min_available_version v against p.
func trimRule(p *policy, v int) error {
	const f = "min_available_version"
	switch {
	case v < 1:
		return fieldErr(f, "must be positive")
	case p.MinEncryptionVersion == 0:
		return fieldErr(f, "cannot trim while min_encryption_version is 0: set it with keys/<name>/config first")
	case v > p.MinEncryptionVersion:
		return fieldErr(f, fmt.Sprintf("cannot exceed min_encryption_version (%d)", p.MinEncryptionVersion))
	case v > p.MinDecryptionVersion:
		return fieldErr(f, fmt.Sprintf("cannot exceed min_decryption_version (%d)", p.MinDecryptionVersion))
	case v < p.MinAvailableVersion:
		return fieldErr(f, fmt.Sprintf("cannot go below the current value (%d): trimmed versions are gone", p.MinAvailableVersion))
	}
	return nil
}

// keyInfo is a key read's data, in Vault's shape. It lists the versions
// that may still decrypt; their material is never part of it.
func keyInfo(r *ring) map[string]any {
	p := r.p
	keys := make(map[string]any, p.LatestVersion-p.MinDecryptionVersion+1)
	for n := p.MinDecryptionVersion; n <= p.LatestVersion; n++ {
		m := r.versions[n]
		if m == nil {
			continue
		}
		if p.Type.asymmetric() {
			keys[strconv.Itoa(n)] = map[string]any{
				"name":          m.pubName,
				"public_key":    m.public,
				"creation_time": m.created.UTC().Format(time.RFC3339Nano),
			}
		} else {
			keys[strconv.Itoa(n)] = m.created.Unix()
		}
	}
	d := map[string]any{
		"name":                   p.Name,
		"type":                   string(p.Type),
		"keys":                   keys,
		"latest_version":         p.LatestVersion,
		"min_available_version":  p.MinAvailableVersion,
		"min_decryption_version": p.MinDecryptionVersion,
		"min_encryption_version": p.MinEncryptionVersion,
		"deletion_allowed":       p.DeletionAllowed,
		"derived":                p.Derived,
		"exportable":             p.Exportable,
		"allow_plaintext_backup": p.AllowPlaintextBackup,
		"supports_encryption":    p.Type.encryption(),
		"supports_decryption":    p.Type.encryption(),
		"supports_derivation":    p.Type.derivation(),
		"supports_signing":       p.Type.signing(),
		"auto_rotate_period":     int64(p.AutoRotatePeriod / time.Second),
		"imported_key":           false,
	}
	if p.Derived {
		d["kdf"] = "hkdf_sha256"
		d["convergent_encryption"] = p.Convergent
		if p.Convergent {
			d["convergent_encryption_version"] = convergentVersion
		}
	}
	if p.Type == typeHMAC {
		d["key_size"] = p.KeySize
	}
	return d
}

// convergentVersion is what key reads report as convergent_encryption_version:
// Vault's 3, whose client-visible behaviour Ward's scheme shares (the
// server derives the nonce and stores it in the ciphertext; no nonce is
// sent). The derivation itself is Ward's own (see doc.go).
const convergentVersion = 3
