// Package approle is the AppRole auth method: machines log in with a role
// ID and a secret ID, as with Vault's AppRole.
//
// An operator creates a role (role/<name>) with its token settings
// (auth.TokenParams: token_policies, token_ttl, ...) and its secret ID
// rules: bind_secret_id (default true), secret_id_num_uses,
// secret_id_ttl and secret_id_bound_cidrs. The role gets a random role ID
// (role/<name>/role-id, which an operator may also set). Secret IDs are
// issued with role/<name>/secret-id — often response-wrapped, so that only
// the workload that unwraps it ever sees the secret — or registered with
// custom-secret-id; each may narrow the role's limits (num_uses, ttl,
// cidr_list, token_bound_cidrs) and carries metadata that lands on the
// token. An accessor names each secret ID for listing, lookup and destroy
// without revealing it.
//
// A login (login, no token needed) presents role_id and secret_id. Every
// refusal — unknown role ID, wrong, expired or used-up secret ID, client
// address outside the bound CIDRs — is the same 400 "invalid role or
// secret ID" (ErrInvalidCredentials); the reason is logged, never shown.
// A secret ID with uses left has one spent before the login succeeds,
// under a lock, so two concurrent logins with a one-use secret ID never
// both succeed. A successful login answers with engine.Login: the alias is
// the role ID with metadata {"role_name": <role>}, and the token's
// metadata is the secret ID's metadata plus role_name.
//
// Neither role IDs nor secret IDs are stored in the clear outside the
// role itself: indexes are keyed by HMAC-SHA256 under a random per-mount
// key. Storage, relative to the mount:
//
//	salt                              the mount's 32-byte HMAC key
//	role/<name>                       role (JSON), name in lower case
//	role-id/<hmac(role_id)>           name of the role with that role ID
//	secret-id/<role uid>/<hmac(id)>   secret ID properties and uses left
//	accessor/<role uid>/<accessor>    hmac(id) of the accessor's secret ID
//
// The role uid is random per role, so a role deleted and created again
// does not inherit old secret IDs. tidy/secret-id removes expired secret
// IDs and whatever a half-finished role deletion left behind.
package approle
