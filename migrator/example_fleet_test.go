package migrator_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/tenantpath/tenantpath"
	"github.com/tenantpath/tenantpath/migrator"
)

// A report over every tenant: each function call gets a READ ONLY
// transaction already on its tenant's path.
func ExampleMigrator_ForEachTenant() {
	var m *migrator.Migrator
	res, err := m.ForEachTenant(context.Background(), func(ctx context.Context, tenant string, tx *sql.Tx) error {
		var open int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM invoices WHERE paid_at IS NULL").Scan(&open); err != nil {
			return err
		}
		fmt.Printf("%s: %d open invoices\n", tenant, open)
		return nil
	}, migrator.Workers(4), migrator.ContinueOnError())
	var partial *migrator.PartialError
	if errors.As(err, &partial) {
		log.Printf("failed in %v", partial.FailedTenants())
	}
	log.Printf("%d tenants read", len(res))
}

// A backfill that writes: Write makes each tenant's transaction READ WRITE;
// a tenant whose function fails is rolled back alone.
func ExampleWrite() {
	var m *migrator.Migrator
	_, err := m.ForEachTenant(context.Background(), func(ctx context.Context, tenant string, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE users SET locale = 'en' WHERE locale IS NULL")
		return err
	}, migrator.Write(), migrator.Except("archived-tenant"))
	if err != nil {
		log.Fatal(err)
	}
}

// One query over every tenant, streamed: each row says which tenant it
// came from.
func ExampleMigrator_QueryTenants() {
	var m *migrator.Migrator
	rows, err := m.QueryTenants(context.Background(), "SELECT email FROM users WHERE created_at > $1",
		[]any{time.Now().Add(-24 * time.Hour)})
	if err != nil {
		log.Fatal(err) // the tenant list failed its checks: nothing ran
	}
	defer rows.Close()
	for rows.Next() {
		var email string
		if err := rows.Scan(&email); err != nil {
			log.Fatal(err)
		}
		fmt.Println(rows.Tenant(), email)
	}
	if err := rows.Err(); err != nil {
		log.Fatal(err) // a *PartialError names the tenants whose query failed
	}
}

// Spare tenants for instant sign-up: keep a few built, claim one at
// sign-up, refill in the background.
func ExampleMigrator_EnsureSpares() {
	var m *migrator.Migrator
	ctx := context.Background()
	if _, err := m.EnsureSpares(ctx, 5); err != nil { // at start-up, or after a deploy
		log.Fatal(err)
	}
	if err := m.Create(ctx, "acme"); err != nil { // renames a spare: milliseconds
		log.Fatal(err)
	}
	go func() {
		if _, err := m.EnsureSpares(context.WithoutCancel(ctx), 5); err != nil {
			log.Printf("refilling the spares: %v", err)
		}
	}()
}

// Back up one tenant, and restore it under another id.
func ExampleMigrator_Export() {
	var m *migrator.Migrator
	ctx := context.Background()
	f, err := os.Create("acme.tpa")
	if err != nil {
		log.Fatal(err)
	}
	info, err := m.Export(ctx, "acme", f)
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("acme at version %d: %d tables", info.Version, len(info.Tables))

	f, err = os.Open("acme.tpa")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if _, err := m.Import(ctx, "acme-restored", f); errors.Is(err, migrator.ErrArchiveVersion) {
		log.Fatal("deploy the migrations the archive was made with first: ", err)
	} else if err != nil {
		log.Fatal(err)
	}
}

// Import reads the archive before it sends anything: what is not an
// archive is refused at once.
func ExampleMigrator_Import() {
	db, _ := sql.Open("pgx", "postgres://localhost/unused") // not contacted
	m, err := migrator.New(db, nil, tenantpath.Naming{Prefix: "org_"}, migrator.WithSharedDir(""), migrator.WithTenantDir(""))
	if err != nil {
		log.Fatal(err)
	}
	_, err = m.Import(context.Background(), "acme", strings.NewReader("not an archive"))
	fmt.Println(errors.Is(err, migrator.ErrInvalidArchive))
	fmt.Println(err)
	// Output:
	// true
	// migrator: tenant archive: not a tenant archive (not a gzip stream): gzip: invalid header
}

// Move a tenant to another server: copy, verify the row counts, and drop
// the source in the same step once they agree.
func ExampleMigrator_Move() {
	var src, dst *migrator.Migrator // src built with WithDrop
	rep, err := src.Move(context.Background(), "acme", dst, migrator.DropSource())
	var mismatch *migrator.MoveMismatchError
	if errors.As(err, &mismatch) {
		log.Fatalf("rows changed during the move, the source was kept: %v", mismatch.Tables)
	}
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("moved: %d tables, source dropped: %v", len(rep.Counts), rep.Dropped)
}
