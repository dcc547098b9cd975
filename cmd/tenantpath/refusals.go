package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tenantpath/tenantpath/migrator"
)

// explainMigrator words the migrator's refusals in the command's terms
// (flags, not Go options) and picks their exit codes: ids that are not
// tenants are bad input (2); a naming that does not fit the registry, or a
// tenant source that lists nobody while tenant schemas exist, is a failure
// (1), for status too.
func explainMigrator(err error) (string, int, bool) {
	var nm *migrator.NamingMismatchError
	var ut *migrator.UnknownTenantsError
	var nt *migrator.NoTenantsFoundError
	switch {
	case errors.As(err, &nm):
		msg := "the tenant registry holds schemas that the naming in use does not produce: " + sample(nm.Schemas)
		if nm.Prefix != "" {
			msg += fmt.Sprintf("; did you forget --prefix %s?", nm.Prefix)
		}
		return msg, exitFailure, true
	case errors.As(err, &ut):
		return "not tenants: " + sample(ut.Tenants) + " (see --only and --except; tenantpath tenants list shows the tenants)", exitUsage, true
	case errors.As(err, &nt):
		return fmt.Sprintf("the tenant source listed no tenants, yet %d schema(s) match the naming (%s): check --tenants-query, --registry-table and --prefix",
			len(nt.Schemas), sample(nt.Schemas)), exitFailure, true
	}
	return "", exitOK, false
}

// sample lists up to five names and says how many more there are.
func sample(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:5], ", "), len(names)-5)
}
