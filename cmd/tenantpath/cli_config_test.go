package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type configDoc struct {
	Settings map[string]string `json:"settings"`
	Origin   map[string]string `json:"origin"`
}

// testConfigPrecedence pins flags > environment > file > defaults, setting
// by setting, and then that the resolved prefix is the one the database
// sees.
func testConfigPrecedence(t *testing.T, bin string) {
	c := newCLI(t, bin)
	file := filepath.Join(c.dir, "tenantpath.toml")
	c.write("tenantpath.toml", `prefix = "`+c.prefix+`file_"
shared_schemas = ["`+c.prefix+`shared", "public"]
parallel = 3
tenants_query = "SELECT 'from file'"
continue_on_error = true
`)
	env := []string{"TENANTPATH_PARALLEL=5", "TENANTPATH_TENANTS_QUERY=SELECT 'from env'", "TENANTPATH_DIR=" + c.dir}
	code, out, errs := runBinary(t, bin, append(env, "DATABASE_URL=postgres://u:secret@h/db"), "config", "--json", "--tenants-query", "SELECT 'from flag'")
	if code != exitOK {
		t.Fatalf("config: exit %d: %s", code, errs)
	}
	doc := decode[configDoc](t, out)
	for name, want := range map[string][2]string{
		"prefix":            {c.prefix + "file_", "file " + file},
		"shared-schemas":    {c.prefix + "shared,public", "file " + file},
		"continue-on-error": {"true", "file " + file},
		"parallel":          {"5", "env TENANTPATH_PARALLEL"},
		"tenants-query":     {"SELECT 'from flag'", "flag --tenants-query"},
		"dir":               {c.dir, "env TENANTPATH_DIR"},
		"version-table":     {"tenantpath_migrations", "default"},
		"database-url":      {"postgres://u:xxxxx@h/db", "env DATABASE_URL"},
	} {
		if doc.Settings[name] != want[0] || doc.Origin[name] != want[1] {
			t.Errorf("%s = %q from %q, want %q from %q", name, doc.Settings[name], doc.Origin[name], want[0], want[1])
		}
	}
	if strings.Contains(out, "secret") {
		t.Errorf("config printed the password: %s", out)
	}
	// TENANTPATH_DATABASE_URL comes before DATABASE_URL; text output is
	// a config file, with each origin.
	code, out, _ = runBinary(t, bin, []string{"TENANTPATH_DATABASE_URL=postgres://a@h/one", "DATABASE_URL=postgres://b@h/two", "TENANTPATH_DIR=" + c.dir}, "config")
	if code != exitOK || !strings.Contains(out, `database_url = "postgres://a@h/one"  # env TENANTPATH_DATABASE_URL`) ||
		!strings.Contains(out, `parallel = 3  # file `+file) || !strings.Contains(out, `shared_schemas = ["`+c.prefix+`shared", "public"]`) {
		t.Errorf("config text:\n%s", out)
	}

	// The prefix the database sees: the file's, then the environment's,
	// then the flag's. Each uses a registry of its own: one registry
	// holding schemas of two namings would be a naming mismatch.
	c.write("tenantpath.toml", `prefix = "`+c.prefix+`file_"
shared_schemas = ["`+c.prefix+`shared", "public"]
`)
	c.env = []string{"TENANTPATH_DIR=" + c.dir}
	mustExec(t, c, "tenants", "create", "a")
	c.env = append(c.env, "TENANTPATH_PREFIX="+c.prefix+"env_")
	mustExec(t, c, "tenants", "create", "b", "--registry-table", "reg_b")
	mustExec(t, c, "tenants", "create", "c", "--prefix", c.prefix+"flag_", "--registry-table", "reg_c")
	var got []string
	rows, err := c.db.Query("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY 1", c.prefix)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	rows.Close()
	want := []string{c.prefix + "env_b", c.prefix + "file_a", c.prefix + "flag_c", c.prefix + "shared"}
	if !slices.Equal(got, want) {
		t.Fatalf("schemas %v, want %v", got, want)
	}
}

func mustExec(t *testing.T, c *cli, args ...string) string {
	t.Helper()
	code, out, errs := c.exec(t, args...)
	if code != exitOK {
		t.Fatalf("%q: exit %d\n%s%s", args, code, out, errs)
	}
	return out
}

// testConfigFile pins --config, relative dirs and the refusal of unknown
// keys and wrong types.
func testConfigFile(t *testing.T, bin string) {
	c := newCLI(t, bin)
	cfgDir := t.TempDir()
	rel, err := filepath.Rel(cfgDir, c.dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(cfgDir, "deploy.toml")
	write := func(data string) {
		if err := os.WriteFile(cfg, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`dir = "` + rel + `"
prefix = "` + c.prefix + `"
shared_schemas = "` + c.prefix + `shared,public"
`)
	for _, env := range [][]string{nil, {"TENANTPATH_CONFIG=" + cfg}} {
		args := []string{"migrate", "all"}
		if env == nil {
			args = append(args, "--config", cfg)
		}
		code, out, errs := runBinary(t, bin, append(env, "DATABASE_URL="+c.dsn), args...)
		if code != exitOK || !strings.Contains(out, "ok   (shared) ("+c.prefix+"shared)") {
			t.Fatalf("%v %q: exit %d\n%s%s", env, args, code, out, errs)
		}
	}
	for _, tc := range []struct{ file, want string }{
		{`prefx = "org_"`, `unknown key "prefx"`},
		{`yes = true`, `unknown key "yes"`},
		{`parallel = "many"`, "parallel: must be a whole number"},
		{`shared_schemas = [1, 2]`, "shared_schemas: must be an array of names"},
		{`prefix = `, cfg},
	} {
		write(tc.file)
		code, _, errs := runBinary(t, bin, []string{"DATABASE_URL=" + c.dsn}, "--config", cfg, "status")
		if code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("file %q: exit %d, stderr %q; want %d and %q", tc.file, code, errs, exitUsage, tc.want)
		}
	}
	code, _, errs := runBinary(t, bin, nil, "--config", filepath.Join(cfgDir, "missing.toml"), "config")
	if code != exitUsage || !strings.Contains(errs, "missing.toml does not exist") {
		t.Errorf("missing --config: exit %d, %q", code, errs)
	}
}
