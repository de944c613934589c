// Package cert is the TLS certificate auth method: a client logs in with
// the certificate it presented in the TLS handshake, and no secret.
//
// An operator registers trusted certificates as roles:
//
//	ward write auth/cert/certs/web certificate=@ca.pem \
//	    allowed_common_names="*.web.example.com" token_policies=web
//
// A role's certificate is PEM, one or more certificates. A CA certificate
// (basic constraints CA:TRUE) is a trust anchor: any client certificate
// that chains to it, with intermediates the client sent, is trusted. A
// non-CA certificate trusts only a client certificate identical to it.
// The client certificate must be valid at the mount's current time and,
// if it has extended key usages, allow client authentication.
//
// The allowed_* lists narrow a role by the client certificate's names,
// with "*" matching any run of characters: allowed_common_names (subject
// CN), allowed_dns_sans, allowed_email_sans, allowed_uri_sans,
// allowed_organizational_units, and Vault's deprecated allowed_names (CN,
// DNS or email SAN). Each non-empty list must be matched by at least one
// name of its kind; an empty list allows all.
//
// POST auth/cert/login, with no token, takes the connection's client
// certificate (Request.PeerCertificates; the server asks for but never
// requires one) and tries the role named by "name", or every role in name
// order, answering with the first that trusts it. The login's alias is
// the certificate's subject common name, as in Vault, so one entity
// stands for one CN on this mount; the token's metadata carries cert_name,
// common_name, serial_number (decimal), subject_key_id and
// authority_key_id (colon-separated hex). With config
// enable_identity_alias_metadata the alias carries the same metadata, for
// policy templates.
//
// Refusals use Vault's texts: no certificate is "client certificate must
// be supplied"; a certificate no role accepts is "invalid certificate or
// no client certificate supplied" (400, the reason is logged at debug
// level only); a login from outside the role's token_bound_cidrs is 403.
//
// Storage: roles under cert/<name> (names lower-cased), the mount's
// configuration under config.
package cert
