// Package jwt is Ward's JWT/OIDC auth method, mounted as type "jwt" or
// "oidc" (one Factory serves both). It speaks Vault's API for the method
// (API-COMPAT.md §2.9).
//
// Workloads log in with a JWT their platform already gives them (a CI
// job's ID token, a cloud workload identity); people log in through their
// company's OpenID Connect provider in a browser.
//
// # Paths
//
//	config               read, write: where the keys come from, the OIDC client
//	role/{name}          read, write, delete; role (list)
//	login                write {role, jwt}: JWT login (unauthenticated)
//	oidc/auth_url        write {role, redirect_uri, client_nonce}: start an OIDC login
//	oidc/callback        read or write {state, code, client_nonce}: finish it
//
// # Keys
//
// The config names exactly one key source: jwt_validation_pubkeys (PEM
// public keys or certificates), jwks_url (with jwks_ca_pem), or
// oidc_discovery_url (with oidc_discovery_ca_pem), whose document at
// /.well-known/openid-configuration must name the URL as its issuer and
// gives the jwks_uri. A config write fetches the keys once, so a wrong
// URL or CA fails there. Fetched key sets are kept for an hour and fetched
// again early when a token names a key ID the set lacks (key rotation),
// at most once every ten seconds. Fetches run one at a time and outside
// any lock: while one is under way, logins use the cached set, so a slow
// provider holds up only logins that need keys Ward does not have; when
// the provider is down, a set up to two hours old still serves. The
// discovery document is cached the same way.
//
// Only jwt_supported_algs are accepted. When it is empty, "jwt" roles
// take every supported algorithm (RS256/384/512, PS256/384/512,
// ES256/384/512, EdDSA) and "oidc" roles RS256, as Vault does; HMAC and
// "none" are never accepted.
//
// # JWT login
//
// A login names a role (else the config's default_role) of role_type
// "jwt". The token must be signed by a configured key and then:
//
//   - exp, nbf and iat hold, give or take clock_skew_leeway (60s) plus
//     expiration_leeway or not_before_leeway (150s each); -1 turns a
//     leeway off;
//   - a token without exp must have iat or nbf, and expires
//     expiration_leeway after the later of them (give or take
//     clock_skew_leeway), as Vault does; with expiration_leeway -1 it
//     lives only as long as clock_skew_leeway, and with both -1 it is
//     refused. A token with none of exp, iat and nbf is refused (ID
//     tokens in the OIDC flow must have exp);
//   - iss equals bound_issuer when that is set;
//   - if the token has an aud, the role must have bound_audiences and one
//     of them must be in aud;
//   - sub equals bound_subject when that is set;
//   - every bound_claims entry matches: the claim (a top-level name, or a
//     JSON pointer such as "/org/name" for nested claims) must hold one of
//     the listed values; with bound_claims_type "glob", "*" matches any run
//     of characters.
//
// The user_claim's value names the identity alias; claim_mappings copy
// claims into the alias's metadata and the token's (which also gets
// "role"); groups_claim gives the external group aliases. The role's
// token_* settings shape the token. Failures are 400s whose message names
// the rule ("token is expired", "aud claim does not match any bound
// audience", "error validating signature"); the token itself is never
// quoted or logged, and neither is a role name that does not exist
// ("role could not be found").
//
// # OIDC login
//
// With oidc_discovery_url, oidc_client_id and oidc_client_secret set, a
// role of role_type "oidc" (the default) logs people in with the
// authorization-code flow and PKCE: oidc/auth_url checks redirect_uri
// against the role's allowed_redirect_uris (any port for a loopback
// address), remembers a fresh state, nonce and code verifier for five
// minutes, and answers with the provider's authorization URL. The
// provider sends the browser back to redirect_uri with state and code,
// which the client passes to oidc/callback; Ward redeems the code at the
// token endpoint (client secret and verifier), checks the ID token's
// signature, issuer, audience (the client ID), nonce and times, and
// applies the role as for a JWT login. A state is good for one callback.
// Logins under way live in memory: a restart forgets them. At most 4096
// are kept; since anyone may call oidc/auth_url, a full table evicts the
// oldest login under way rather than refusing new ones, so a flood of
// calls can only make other people's pending logins start again, never
// lock OIDC login out.
//
// # Storage
//
//	config               JSON config (the client secret too; the barrier encrypts it)
//	role/<name>          JSON role
package jwt
