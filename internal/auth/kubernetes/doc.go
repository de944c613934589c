// Package kubernetes is Ward's Kubernetes auth method: a pod logs in with
// its service account token, and Ward asks the cluster who that is.
//
// Mount it under auth/ (usually auth/kubernetes/). Its paths, relative to
// the mount, speak Vault's wire shapes (API-COMPAT.md §2.8):
//
//	config          read, write: kubernetes_host (required, https URL),
//	                kubernetes_ca_cert (PEM), token_reviewer_jwt, issuer,
//	                disable_iss_validation (default true), pem_keys,
//	                disable_local_ca_jwt
//	role            list
//	role/{name}     read, write, delete: bound_service_account_names and
//	                bound_service_account_namespaces (both required; "*"
//	                for any, or a leading/trailing "*" glob), audience,
//	                alias_name_source, and the token_* settings
//	login           write {role, jwt}; needs no token
//
// A config write replaces the whole config. A read never shows
// token_reviewer_jwt; it shows token_reviewer_jwt_set instead. A role
// write changes only the fields it names.
//
// # Login
//
// Login POSTs a TokenReview (authentication.k8s.io/v1) holding the jwt,
// and the role's audience in spec.audiences when it has one, to
// <kubernetes_host>/apis/authentication.k8s.io/v1/tokenreviews over TLS
// that trusts kubernetes_ca_cert (or the system roots). It authenticates
// with token_reviewer_jwt, or, when none is configured, with the jwt
// itself, whose service account then needs the system:auth-delegator
// ClusterRole. The answer must say authenticated, for a user named
// system:serviceaccount:<namespace>:<name>, valid for the role's audience.
// The name and namespace must then match the role's bindings.
//
// A successful login answers with an engine.Login whose alias is the
// service account's UID (or "<namespace>/<name>" with alias_name_source
// serviceaccount_name), with alias metadata service_account_name,
// service_account_namespace, service_account_uid and
// service_account_secret_name (set only for legacy secret-based tokens);
// the token's metadata adds role. Policies can then template on the alias
// metadata, for example to give each service its own folder:
//
//	path "secret/data/k8s/{{identity.entity.aliases.<accessor>.metadata.service_account_namespace}}/{{identity.entity.aliases.<accessor>.metadata.service_account_name}}/*" {
//	  capabilities = ["read", "list"]
//	}
//
// # Errors
//
// Missing role or jwt, and an unknown role, are 400. A token the cluster
// does not authenticate, one that is not a service account's, a wrong
// audience or issuer, and a service account outside the role's bindings
// ("service account name not authorized", "namespace not authorized") are
// 403. An unreachable or failing API server is 503; a reviewer the API
// server rejects, or an answer that is not a TokenReview, is a 500 whose
// cause is in the server log. No error or log line contains a token.
//
// # Differences from Vault
//
// Ward trusts the TokenReview answer for the service account's identity
// and checks the bindings after the review; it does not verify tokens
// locally, so pem_keys are accepted and shown but unused. The issuer is
// compared with the token's iss claim only when disable_iss_validation is
// false and issuer is set. Ward does not read a local service account
// token or CA from the pod it runs in, and has no namespace selector.
package kubernetes
