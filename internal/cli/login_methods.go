package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/client"
)

// loginMethod describes how `ward login -method=NAME` logs in: which
// KEY=VALUE arguments it needs and the login path under its mount.
type loginMethod struct {
	// required are the argument names that must be given.
	required []string
	// defaults fills arguments that were not given (a file path to read).
	defaults map[string]string
	// path is the login path under auth/<mount>/.
	path func(args map[string]any) string
}

// loginMethods are the methods that log in with one write of their
// arguments. token, userpass and oidc have handlers of their own.
var loginMethods = map[string]loginMethod{
	"approle": {
		required: []string{"role_id", "secret_id"},
		path:     func(map[string]any) string { return "login" },
	},
	"jwt": {
		required: []string{"jwt"},
		path:     func(map[string]any) string { return "login" },
	},
	"kubernetes": {
		required: []string{"role", "jwt"},
		// Inside a pod the service account token is here.
		defaults: map[string]string{"jwt": "@/var/run/secrets/kubernetes.io/serviceaccount/token"},
		path:     func(map[string]any) string { return "login" },
	},
	"cert": {
		path: func(map[string]any) string { return "login" },
	},
}

// loginWith logs in at auth/<mount>/ with the method's arguments.
func (c *cmd) loginWith(cl *client.Client, method, mount string) (*api.Auth, error) {
	m := loginMethods[method]
	args := c.args
	for k, v := range m.defaults {
		if !hasArg(args, k) {
			args = append(args, k+"="+v)
		}
	}
	p := &dataParser{stdin: c.stdin}
	data, err := p.parse(args)
	var ie inputError
	if errors.As(err, &ie) {
		return nil, err
	}
	if err != nil {
		return nil, usageErr(err.Error())
	}
	for _, k := range m.required {
		if s, _ := data[k].(string); strings.TrimSpace(s) == "" {
			return nil, usageErr(fmt.Sprintf("%s login needs %s=VALUE", method, k))
		}
	}
	// Values read from files (role_id=@role-id) end in a newline.
	for k, v := range data {
		if s, ok := v.(string); ok {
			data[k] = strings.TrimSpace(s)
		}
	}
	path := "auth/" + strings.Trim(mount, "/") + "/" + m.path(data)
	sec, err := cl.Login(context.Background(), path, data)
	if err != nil {
		return nil, loginHints(err, method, mount)
	}
	if sec == nil || sec.Auth == nil {
		return nil, fmt.Errorf("login at %s: the response holds no token (is it wrapped? unwrap it with `ward unwrap`)", path)
	}
	return sec.Auth, nil
}

func hasArg(args []string, key string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, key+"=") {
			return true
		}
	}
	return false
}
