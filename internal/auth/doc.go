// Package auth holds what every auth method shares.
//
// An auth method is an engine (engine.Backend) mounted under auth/. Its
// login path is marked Unauthenticated; a successful login answers with
// engine.Response.Login, and core does the rest: it finds or creates the
// identity entity for the login's alias, issues the token, and writes the
// "auth" block. Methods never create tokens themselves.
//
// TokenParams are the token_* settings Vault's auth methods accept on a
// role or a user (token_policies, token_ttl, ...). A method embeds them in
// its stored role, decodes a TokenInput from role writes with
// engine.Decode, applies it with Update, shows them with Data, and fills
// a login with Login.
package auth
