// Command saas is a small multi-tenant notes service on tenantpath. Each
// organisation has its own schema; a request reaches its organisation by
// subdomain (acme.notes.localhost) or by an X-Tenant-ID header.
//
//	go run ./examples/saas                       # ephemeral PostgreSQL
//	DATABASE_URL=postgres://... go run ./examples/saas -addr 127.0.0.1:8080
//
//	curl -d slug=acme -d name='Acme Corp' http://127.0.0.1:8080/signup
//	curl -d title='first note' http://acme.notes.localhost:8080/notes
//	curl -H 'X-Tenant-ID: acme' http://127.0.0.1:8080/notes
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/internal/pgtest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	domain := flag.String("domain", "notes.localhost", "base domain: <org>.<domain> is an organisation's site")
	prefix := flag.String("prefix", "org_", "schema name prefix of the organisations")
	flag.Parse()
	log.SetFlags(0)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *addr, *domain, *prefix); err != nil {
		log.Fatalf("saas: %v", err)
	}
}

func serve(ctx context.Context, addr, domain, prefix string) error {
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		log.Print("DATABASE_URL is not set: starting an ephemeral PostgreSQL (removed on exit)")
		srv, err := pgtest.Start(pgtest.Options{})
		if err != nil {
			return err
		}
		defer srv.Stop()
		dsn = srv.DSN()
	}
	app, err := NewApp(ctx, Config{DSN: dsn, Naming: tenantpath.Naming{Prefix: prefix}, BaseDomain: domain})
	if err != nil {
		return err
	}
	defer app.Close()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: app.Handler(), ReadHeaderTimeout: 10 * time.Second}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	fmt.Printf("notes service on http://%s\n", ln.Addr())
	fmt.Printf("  curl -d slug=acme -d name='Acme Corp' http://%s/signup\n", ln.Addr())
	fmt.Printf("  curl -d title='first note' http://acme.%s:%s/notes\n", domain, port)
	fmt.Printf("  curl -H 'X-Tenant-ID: acme' http://%s/notes\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(shutdown)
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
