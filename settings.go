package tenantpath

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Per-tenant settings. SET ROLE does not apply a role's own settings, so a
// noisy tenant cannot be given its own statement_timeout through its role:
// tenantpath sets them itself, with the switch, in the same statement. A
// connection remembers which settings it ever set, and resets those the
// next tenant (or scope) does not set, so no tenant ever runs with another
// one's values.

// WithTenantSettings gives tenants their own session settings, such as
// statement_timeout, lock_timeout or work_mem: settings(tenant) returns the
// values for a tenant (nil or empty for none). They are set by the switch
// to that tenant, in the same statement (and so in the same round trip),
// for the session, or for each transaction under [TransactionPooling]; the
// shared scope, the base path and tenants without a value get the server's
// default back. Names are checked (letters, digits and '_', optionally
// qualified with a '.' for an extension's settings; never search_path,
// role or session_authorization, which are tenantpath's) and values are
// quoted. A name the server does not know fails the switch (a
// *SwitchError). The function is called on every switch, so it must be
// fast (a map lookup); it must be safe for concurrent use.
func WithTenantSettings(settings func(tenant string) map[string]string) Option {
	return func(c *config) error {
		if settings == nil {
			return errors.New("tenantpath: WithTenantSettings: nil function")
		}
		c.settingsFor = settings
		return nil
	}
}

// settingsSQL returns the select-list fragment that applies want's settings
// and resets the ones this connection set before that want does not have,
// and the names it sets. Under local (a transaction's switch), settings end
// with the transaction, so nothing needs resetting.
func (c *conn) settingsSQL(want Scope, local bool) (string, []string, error) {
	fn := c.cfg.settingsFor
	if fn == nil {
		return "", nil, nil
	}
	var values map[string]string
	if want.Kind == ScopeTenant {
		values = fn(want.Tenant)
	}
	// The server's names are case-insensitive: they are compared in lower
	// case, or a reset of "Work_Mem" would undo the "work_mem" set before it.
	set := make([]setting, 0, len(values))
	for name, value := range values {
		if reason := settingProblem(name); reason != "" {
			return "", nil, fmt.Errorf("tenantpath: setting %q for tenant %q: %s", name, want.Tenant, reason)
		}
		set = append(set, setting{strings.ToLower(name), value, name})
	}
	slices.SortFunc(set, func(a, b setting) int { return strings.Compare(a.name, b.name) }) // the same text for the same settings
	names := make([]string, len(set))
	for i, st := range set {
		if i > 0 && set[i-1].name == st.name {
			return "", nil, fmt.Errorf("tenantpath: setting %q for tenant %q: given twice, in other cases", st.given, want.Tenant)
		}
		names[i] = st.name
	}
	scope := ", false)"
	if local {
		scope = ", true)"
	}
	var b strings.Builder
	for _, st := range set {
		b.WriteString(", pg_catalog.set_config(" + QuoteLiteral(st.name) + ", " + QuoteLiteral(st.value) + scope)
	}
	if !local {
		for _, name := range c.settingsSet {
			if _, found := slices.BinarySearch(names, name); !found {
				b.WriteString(", " + resetTo(name))
			}
		}
	}
	return b.String(), names, nil
}

// setting is one per-tenant setting: its name in lower case, its value, and
// its name as given (for errors).
type setting struct{ name, value, given string }

// settingsApplied records names as set on the session (the connection then
// resets them when it switches to a scope without them). The list only
// grows: a switch that a rollback undoes may leave any of them set.
func (c *conn) settingsApplied(names []string) {
	for _, n := range names {
		if !slices.Contains(c.settingsSet, n) {
			c.settingsSet = append(c.settingsSet, n)
		}
	}
}

// settingProblem returns why name cannot be a per-tenant setting, or "".
func settingProblem(name string) string {
	switch strings.ToLower(name) {
	case "search_path", "role", "session_authorization":
		return "tenantpath sets it itself"
	}
	for _, part := range strings.Split(name, ".") {
		if part == "" {
			return "not a setting name"
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (i > 0 && '0' <= c && c <= '9')) {
				return "not a setting name: use letters, digits and '_', with a '.' after an extension's name"
			}
		}
	}
	return ""
}

// switchStatement is switchQuery with the settings of WithTenantSettings.
func (c *conn) switchStatement(want Scope, local bool, f form) (query, schema string, names []string, err error) {
	extra, names, err := c.settingsSQL(want, local)
	if err != nil {
		return "", "", nil, err
	}
	query, schema, err = c.cfg.switchQuery(want, local, f, extra)
	return query, schema, names, err
}
