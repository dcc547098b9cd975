package pgtest

import (
	"os"
	"strings"
	"testing"
)

func TestFindPGToolsNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	old := debianPGRoot
	debianPGRoot = t.TempDir()
	t.Cleanup(func() { debianPGRoot = old })

	_, err := findPGTools()
	if err == nil {
		t.Fatal("findPGTools found programs in empty directories")
	}
	for _, want := range []string{"initdb on PATH", debianPGRoot + "/<version>/bin"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	msg := startFailure(err)
	for _, want := range []string{"make test", EnvDSN, err.Error()} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message does not mention %q:\n%s", want, msg)
		}
	}
}

func TestFindPGToolsPicksHighestVersion(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	old := debianPGRoot
	debianPGRoot = t.TempDir()
	t.Cleanup(func() { debianPGRoot = old })
	for _, v := range []string{"9.6", "15", "16", "notaversion"} {
		writeFakeTools(t, debianPGRoot+"/"+v+"/bin")
	}
	tools, err := findPGTools()
	if err != nil {
		t.Fatal(err)
	}
	if want := debianPGRoot + "/16/bin"; tools.binDir != want {
		t.Errorf("binDir = %s, want %s", tools.binDir, want)
	}
}

func writeFakeTools(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if err := os.WriteFile(dir+"/"+name, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}
