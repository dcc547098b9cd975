package migrator

import (
	"fmt"
	"strings"
)

// PartialError reports a run over many tenants in which some failed or were
// not started. It matches [ErrPartial]. Every tenant not listed in Failed or
// Skipped succeeded.
type PartialError struct {
	Failed    []Result // the tenants whose run failed, each with its Err
	Skipped   []string // tenants not started (stop on first error, or cancel)
	Succeeded int
	// Cause is the context's error when the run stopped because its
	// context was cancelled, else nil.
	Cause error
}

func (e *PartialError) Error() string {
	var b strings.Builder
	total := e.Succeeded + len(e.Failed) + len(e.Skipped)
	fmt.Fprintf(&b, "migrator: %d of %d tenants failed", len(e.Failed), total)
	if len(e.Skipped) > 0 {
		fmt.Fprintf(&b, ", %d not run", len(e.Skipped))
	}
	if e.Cause != nil {
		fmt.Fprintf(&b, " (%v)", e.Cause)
	}
	for i, r := range e.Failed {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Failed)-i)
			break
		}
		fmt.Fprintf(&b, "; %s: %v", r.Tenant, r.Err)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrPartial) true.
func (e *PartialError) Is(target error) bool { return target == ErrPartial }

// Unwrap returns the context's error of a cancelled run (if any), then the
// error of every failed tenant in order, so errors.Is and errors.As see
// them all: errors.Is(err, context.Canceled), errors.Is(err, ErrChecksum),
// errors.As(err, &migrationErr).
func (e *PartialError) Unwrap() []error {
	out := make([]error, 0, len(e.Failed)+1)
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	for _, r := range e.Failed {
		out = append(out, r.Err)
	}
	return out
}

// FailedTenants returns the ids of the tenants that failed, in order.
func (e *PartialError) FailedTenants() []string {
	ids := make([]string, len(e.Failed))
	for i, r := range e.Failed {
		ids[i] = r.Tenant
	}
	return ids
}

// SharedError reports that the shared migrations failed in [Migrator.Migrate],
// so no tenant was touched. Err is the underlying error.
type SharedError struct{ Err error }

func (e *SharedError) Error() string {
	return "migrator: shared migrations failed, no tenant was migrated: " + e.Err.Error()
}

func (e *SharedError) Unwrap() error { return e.Err }

// NamingMismatchError reports a tenant registry written under another
// naming: it holds schema names that the naming in use does not make from
// their tenant ids, so a run would look for every tenant in the wrong
// schema. It matches [ErrNamingMismatch].
type NamingMismatchError struct {
	// Schemas are the stored schema names the naming does not produce,
	// sorted.
	Schemas []string
	// Prefix is a prefix that explains every one of them (each is Prefix
	// followed by its tenant id), or "" when none does.
	Prefix string
}

func (e *NamingMismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "migrator: the tenant registry holds %d schema name(s) this naming does not produce (%s)",
		len(e.Schemas), quoteFew(e.Schemas))
	if e.Prefix != "" {
		fmt.Fprintf(&b, ": did you forget a Naming with Prefix %q?", e.Prefix)
	} else {
		b.WriteString(": the registry was written with another naming; use that one")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNamingMismatch) true.
func (e *NamingMismatchError) Is(target error) bool { return target == ErrNamingMismatch }

// UnknownTenantsError reports ids given to [Only] or [Except] that are not
// in the tenant list. Nothing has run. It matches [ErrUnknownTenants].
type UnknownTenantsError struct {
	Tenants []string // sorted
}

func (e *UnknownTenantsError) Error() string {
	return fmt.Sprintf("migrator: not tenants (the tenant list does not hold them): %s", quoteFew(e.Tenants))
}

// Is makes errors.Is(err, ErrUnknownTenants) true.
func (e *UnknownTenantsError) Is(target error) bool { return target == ErrUnknownTenants }

// NoTenantsFoundError reports a run or status over no tenants at all while
// schemas exist that the naming maps to tenants: the tenant source (the
// registry, or the WithTenantSource callback) listed none of them, which
// usually means it reads the wrong table or database. It matches
// [ErrNoTenantsFound].
type NoTenantsFoundError struct {
	Schemas []string // schemas the naming maps to a tenant id, sorted
}

func (e *NoTenantsFoundError) Error() string {
	return fmt.Sprintf("migrator: the tenant source listed no tenants, yet %d schema(s) look like tenants under this naming (%s): "+
		"check the tenant source, or, if these are not tenants, give the naming a Prefix or list them as shared schemas",
		len(e.Schemas), quoteFew(e.Schemas))
}

// Is makes errors.Is(err, ErrNoTenantsFound) true.
func (e *NoTenantsFoundError) Is(target error) bool { return target == ErrNoTenantsFound }

// quoteFew renders up to five names quoted, and how many more there are.
func quoteFew(names []string) string {
	const few = 5
	if len(names) <= few {
		return quoteAll(names)
	}
	return fmt.Sprintf("%s and %d more", quoteAll(names[:few]), len(names)-few)
}
