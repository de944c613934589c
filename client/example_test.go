package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/client"
)

// Reading and writing a KV version 2 secret, with check-and-set so that a
// concurrent writer is never silently overwritten.
func Example_kvV2() {
	ctx := context.Background()
	c, err := client.New(&client.Config{
		Address: "https://ward.example.com:8200",
		Token:   os.Getenv("WARD_TOKEN"),
	})
	if err != nil {
		log.Fatal(err)
	}
	kv := c.KVv2("secret")

	// CAS(0): create only if the key does not exist yet.
	v, err := kv.Put(ctx, "app/db", map[string]any{"user": "app", "password": "s3cret"}, client.CAS(0))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote version", v.Version)

	s, err := kv.Get(ctx, "app/db")
	switch {
	case errors.Is(err, client.ErrNotFound):
		fmt.Println("no such secret")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println("password:", s.Data["password"])
	}

	// Update one field; other fields are kept.
	if _, err := kv.Patch(ctx, "app/db", map[string]any{"password": "n3w"}); err != nil {
		log.Fatal(err)
	}
}

// Finding out whether a path lives in a KV v1 or v2 mount, as the CLI does.
func Example_kvDetect() {
	ctx := context.Background()
	c, _ := client.New(&client.Config{Token: os.Getenv("WARD_TOKEN")})
	m, err := c.KVMount(ctx, "secret/app/db")
	if err != nil {
		log.Fatal(err)
	}
	if m.Version == 2 {
		s, err := c.KVv2(m.Path).Get(ctx, "app/db")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s.Data)
		return
	}
	data, err := c.KVv1(m.Path).Get(ctx, "app/db")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(data)
}

// Initializing a new server and unsealing it with the returned shares.
func Example_initAndUnseal() {
	ctx := context.Background()
	c, _ := client.New(&client.Config{Address: "http://127.0.0.1:8200"})
	sys := c.Sys()

	init, err := sys.Init(ctx, &api.InitRequest{SecretShares: 5, SecretThreshold: 3})
	if err != nil {
		log.Fatal(err)
	}
	// Hand the shares to five different people; keep the root token safe.
	for _, key := range init.KeysBase64[:3] {
		st, err := sys.Unseal(ctx, key)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("unseal progress %d/%d, sealed=%t\n", st.Progress, st.T, st.Sealed)
	}
	root := c.WithToken(init.RootToken)
	if err := root.Sys().PutPolicy(ctx, "app", `path "secret/data/app/*" { capabilities = ["read"] }`); err != nil {
		log.Fatal(err)
	}
}

// Creating a short-lived token for a workload and handing it over wrapped,
// so that only the first reader can use it.
func Example_tokens() {
	ctx := context.Background()
	c, _ := client.New(&client.Config{Token: os.Getenv("WARD_TOKEN")})

	s, err := c.WithWrapTTL("5m").Tokens().Create(ctx, &client.TokenRequest{
		Policies:    []string{"app"},
		TTL:         "1h",
		DisplayName: "app-worker",
	})
	if err != nil {
		log.Fatal(err)
	}
	wrapping := s.WrapInfo.Token

	// On the workload's side: unwrap once, then use the token.
	worker, _ := client.New(nil)
	inner, err := worker.Unwrap(ctx, wrapping)
	if err != nil {
		log.Fatal(err)
	}
	app := worker.WithToken(inner.Auth.ClientToken)
	if _, err := app.Tokens().RenewSelf(ctx, 0); err != nil {
		log.Fatal(err)
	}
}

// Reaching any path with the raw methods. Numbers in Data arrive as
// json.Number.
func Example_raw() {
	ctx := context.Background()
	c, _ := client.New(&client.Config{Token: os.Getenv("WARD_TOKEN")})

	if _, err := c.Write(ctx, "transit/keys/orders", map[string]any{"type": "aes256-gcm96"}); err != nil {
		log.Fatal(err)
	}
	s, err := c.Read(ctx, "transit/keys/orders")
	if err != nil {
		log.Fatal(err)
	}
	if s == nil {
		fmt.Println("not found")
		return
	}
	fmt.Println("latest version:", s.Data["latest_version"])

	var re *client.ResponseError
	if _, err := c.Read(ctx, "sys/raw/core"); errors.As(err, &re) && re.StatusCode == 403 {
		fmt.Println("denied:", re.Errors)
	}
}
