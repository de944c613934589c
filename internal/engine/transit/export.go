package transit

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

// Export kinds, as Vault names them in export/{kind}/{name}.
const (
	exportEncryption = "encryption-key"
	exportSigning    = "signing-key"
	exportHMAC       = "hmac-key"
	exportPublic     = "public-key"
)

// export answers export/{kind}/{name}[/{version}]. Private material
// leaves only keys marked exportable; public keys leave any asymmetric
// key. Without a version every version that may still decrypt is
// exported.
func (b *backend) export(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	kind, name := req.Var("kind"), req.Var("name")
	switch kind {
	case exportEncryption, exportSigning, exportHMAC, exportPublic:
	default:
		return nil, fieldErr("type", "use encryption-key, signing-key, hmac-key or public-key")
	}
	if err := validateName("name", name); err != nil {
		return nil, err
	}
	r, err := b.keys.get(ctx, name)
	if err != nil || r == nil {
		return nil, err
	}
	p := r.p
	switch {
	case kind != exportPublic && !p.Exportable:
		return nil, engine.BadRequest("export: key %q is not exportable: private material leaves only keys with exportable=true", name)
	case kind == exportEncryption && !p.Type.encryption(),
		kind == exportSigning && !p.Type.signing(),
		kind == exportPublic && !p.Type.asymmetric():
		return nil, engine.BadRequest("export: %s keys have no %s", p.Type, kind)
	case kind == exportPublic && p.Derived:
		return nil, engine.BadRequest("export: a derived ed25519 key has a public key per context: sign with batch_input to see it")
	}
	first, last := p.MinDecryptionVersion, p.LatestVersion
	if v := req.Var("version"); v != "" {
		n := p.LatestVersion
		if v != "latest" {
			if n, err = strconv.Atoi(v); err != nil || n < 1 {
				return nil, fieldErr("version", "use a positive version number or latest")
			}
		}
		if _, err := r.openVersion("version", n); err != nil {
			return nil, err
		}
		first, last = n, n
	}
	keys := make(map[string]string, last-first+1)
	for n := first; n <= last; n++ {
		if m := r.versions[n]; m != nil {
			s, err := exportValue(kind, m)
			if err != nil {
				return nil, err
			}
			keys[strconv.Itoa(n)] = s
		}
	}
	return engine.DataResponse(map[string]any{"name": p.Name, "type": string(p.Type), "keys": keys}), nil
}

// exportValue formats one version as Vault does: base64 for symmetric
// and ed25519 keys, PEM for ECDSA (SEC 1 private, PKIX public) and RSA
// (PKCS #1 private, PKIX public).
func exportValue(kind string, m *material) (string, error) {
	switch kind {
	case exportHMAC:
		return base64.StdEncoding.EncodeToString(m.hmacKey), nil
	case exportPublic:
		if k, ok := m.signer.(ed25519.PrivateKey); ok {
			return base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey)), nil
		}
		return strings.TrimSpace(m.public), nil
	}
	switch k := m.signer.(type) {
	case nil:
		return base64.StdEncoding.EncodeToString(m.secret), nil
	case ed25519.PrivateKey:
		return base64.StdEncoding.EncodeToString(k), nil
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return "", fmt.Errorf("export: %w", err)
		}
		return pemString("EC PRIVATE KEY", der), nil
	case *rsa.PrivateKey:
		return pemString("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k)), nil
	}
	return "", fmt.Errorf("export: unexpected key material")
}

func pemString(typ string, der []byte) string {
	return strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})))
}

// backupFormat names the layout of Ward's backups. They are Ward's own:
// Vault's backups cannot be restored into Ward, nor Ward's into Vault.
const backupFormat = "ward-transit-backup-v1"

type backupDoc struct {
	Format string    `json:"format"`
	Time   time.Time `json:"time"`
	Policy *policy   `json:"policy"`
}

// backup answers backup/{name}: the key, every version's material
// included, as base64 JSON. Only keys that are both exportable and
// allow_plaintext_backup may be backed up.
func (b *backend) backup(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name := req.Var("name")
	if err := validateName("name", name); err != nil {
		return nil, err
	}
	r, err := b.keys.get(ctx, name)
	if err != nil || r == nil {
		return nil, err
	}
	switch {
	case !r.p.Exportable:
		return nil, engine.BadRequest("backup: key %q is not exportable: set exportable=true with keys/%s/config first", name, name)
	case !r.p.AllowPlaintextBackup:
		return nil, engine.BadRequest("backup: key %q does not allow plaintext backups: set allow_plaintext_backup=true with keys/%s/config first", name, name)
	}
	raw, err := json.Marshal(backupDoc{Format: backupFormat, Time: b.now().UTC(), Policy: r.p})
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer clear(raw)
	return engine.DataResponse(map[string]any{"backup": base64.StdEncoding.EncodeToString(raw)}), nil
}

// restore answers restore[/{name}]: it stores a key from a backup, under
// name or else the backed-up name. An existing key is replaced only with
// force=true.
func (b *backend) restore(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	var warnings []string
	q, err := decode[struct {
		Backup string `json:"backup"`
		Name   string `json:"name"`
		Force  bool   `json:"force"`
	}](req.Data, &warnings)
	if err != nil {
		return nil, err
	}
	if q.Backup == "" {
		return nil, fieldErr("backup", "required: the output of backup/<name>")
	}
	p, err := parseBackup(q.Backup)
	if err != nil {
		return nil, err
	}
	name := cmpOr(req.Var("name"), cmpOr(q.Name, p.Name))
	if err := validateName("name", name); err != nil {
		return nil, err
	}
	p.Name = name
	if err := p.check(); err != nil {
		return nil, fieldErr("backup", "not a valid key: "+err.Error())
	}
	if _, err := newRing(p, nil); err != nil {
		return nil, fieldErr("backup", "not a valid key: "+err.Error())
	}
	_, err = b.keys.change(ctx, name, func(cur *policy) (*policy, bool, error) {
		if cur != nil && !q.Force {
			return nil, false, engine.BadRequest("restore: key %q already exists: delete it first, or restore with force=true", name)
		}
		return p, true, nil
	})
	if err != nil {
		return nil, err
	}
	if len(warnings) > 0 {
		return respond(nil, warnings), nil
	}
	return nil, nil
}

// parseBackup decodes the output of backup; errors name the rule only.
func parseBackup(s string) (*policy, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fieldErr("backup", "must be base64: the output of backup/<name>")
	}
	defer clear(raw)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var doc backupDoc
	if err := dec.Decode(&doc); err != nil || doc.Format != backupFormat || doc.Policy == nil {
		return nil, fieldErr("backup", "not a Ward transit backup ("+backupFormat+")")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fieldErr("backup", "not a Ward transit backup ("+backupFormat+"): data follows the document")
	}
	return doc.Policy, nil
}
