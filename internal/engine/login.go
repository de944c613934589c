package engine

import (
	"context"
	"time"
)

// Login is an auth method's answer to a successful login: who logged in
// and what token they get. The method sets it on Response.Login; core
// finds or creates the identity entity for Alias, issues the token and
// answers with the "auth" block. Methods never create tokens themselves.
type Login struct {
	// Alias is the principal as this auth mount knows it: a user name, a
	// role ID, a service account UID, a JWT subject. Core maps (mount
	// accessor, Alias.Name) to one identity entity.
	Alias Alias
	// GroupAliases are external group names (a JWT groups claim); core
	// links the entity to the identity groups with these aliases.
	GroupAliases []string

	// Policies are the token's policies; "default" is added unless
	// NoDefaultPolicy. Identity policies are added by core.
	Policies        []string
	NoDefaultPolicy bool
	// Metadata becomes the token's meta and the auth block's metadata.
	Metadata map[string]string
	// DisplayName is shown in lookups and audit; core prefixes the mount
	// type ("userpass-alice").
	DisplayName string

	// TTL, MaxTTL, ExplicitMaxTTL and Period bound the token's life; zero
	// takes the mount's defaults. NumUses zero is unlimited.
	TTL            time.Duration
	MaxTTL         time.Duration
	ExplicitMaxTTL time.Duration
	Period         time.Duration
	NumUses        int
	// Renewable is whether the token can be renewed (default true for
	// logins: methods should set it).
	Renewable bool
	// BoundCIDRs limit where the token may be used from; empty is anywhere.
	BoundCIDRs []string
}

// Alias names a principal of one auth mount.
type Alias struct {
	Name     string
	Metadata map[string]string
}

// LoginChecker is implemented by auth methods that re-check a login when
// its token is renewed, as Vault's do: the user or role must still exist.
// Core calls CheckLogin with the token's creation path relative to the
// mount ("login/alice"), its metadata and its policies; an error refuses
// the renewal and reaches the client.
type LoginChecker interface {
	CheckLogin(ctx context.Context, login LoginCheck) error
}

// LoginCheck describes the token being renewed.
type LoginCheck struct {
	Path     string
	Metadata map[string]string
	Policies []string
}
