package sqlscan

import (
	"strings"
	"testing"
)

func tokens(src string) []Token {
	var out []Token
	sc := New(src)
	for {
		if !sc.Next() {
			return out
		}
		out = append(out, sc.Tok)
	}
}

func TestTokens(t *testing.T) {
	cases := []struct {
		src   string
		kinds []Kind
		body  map[int]string // token index -> Body
	}{
		{"SELECT 1", []Kind{Word, Space, Word}, nil},
		{"a$b $1 $", []Kind{Word, Space, Param, Space, Other}, nil},
		{"'it''s'", []Kind{String}, map[int]string{0: "it''s"}},
		{`E'a\'b'x`, []Kind{String, Word}, map[int]string{0: `a\'b`}},
		{`typE'a'`, []Kind{Word, String}, map[int]string{1: "a"}}, // only a lone E prefixes
		{`'a\'`, []Kind{String}, map[int]string{0: `a\`}},         // standard strings: no escapes
		{`"se""arch"`, []Kind{QuotedIdent}, map[int]string{0: `se""arch`}},
		{`U&"d\0061t"`, []Kind{QuotedIdent}, nil},
		{`u&'x'`, []Kind{String}, nil},
		{"B'01' X'ff' N'n'", []Kind{String, Space, String, Space, String}, nil},
		{"$$a;b$$", []Kind{DollarString}, map[int]string{0: "a;b"}},
		{"$é$ ; $é$;", []Kind{DollarString, Semicolon}, map[int]string{0: " ; "}},
		{"$a1$x$a1$", []Kind{DollarString}, map[int]string{0: "x"}},
		{"$1a$", []Kind{Param, Word}, nil},
		{"/* a /* b */ c */x", []Kind{Comment, Word}, map[int]string{0: " a /* b */ c "}},
		{"-- c\nx", []Kind{Comment, Space, Word}, map[int]string{0: " c"}},
		{"f(a);", []Kind{Word, OpenParen, Word, CloseParen, Semicolon}, nil},
		{"x\u00a0y", []Kind{Word}, nil}, // U+00A0 is not white space to the server
	}
	for _, c := range cases {
		got := tokens(c.src)
		if len(got) != len(c.kinds) {
			t.Errorf("%q: %d tokens %+v, want kinds %v", c.src, len(got), got, c.kinds)
			continue
		}
		for i, k := range c.kinds {
			if got[i].Kind != k {
				t.Errorf("%q: token %d (%q) is kind %d, want %d", c.src, i, got[i].Text, got[i].Kind, k)
			}
		}
		for i, b := range c.body {
			if got[i].Body != b {
				t.Errorf("%q: token %d body %q, want %q", c.src, i, got[i].Body, b)
			}
		}
	}
}

func TestUnicodeFlag(t *testing.T) {
	for _, src := range []string{`U&"x"`, `u&'x'`} {
		if got := tokens(src); len(got) != 1 || !got[0].Unicode {
			t.Errorf("%q: %+v, want one Unicode token", src, got)
		}
	}
	if got := tokens(`"x"`); got[0].Unicode {
		t.Errorf("plain quoted identifier flagged Unicode")
	}
}

func TestUnterminated(t *testing.T) {
	for _, src := range []string{"'abc", `"abc`, "$x$abc", "/* abc", "E'\\"} {
		got := tokens(src)
		if len(got) != 1 || !got[0].Unterminated || got[0].Text != src {
			t.Errorf("%q: %+v, want one unterminated token holding everything", src, got)
		}
	}
}

func statements(script string) []Statement {
	var out []Statement
	sp := NewSplitter(script)
	for {
		s, ok := sp.Next()
		if !ok {
			return out
		}
		out = append(out, s)
	}
}

func nonEmpty(script string) []string {
	var out []string
	for _, s := range statements(script) {
		if !s.Empty {
			out = append(out, strings.TrimSpace(s.Text))
		}
	}
	return out
}

func TestSplitter(t *testing.T) {
	cases := []struct {
		script string
		want   []string
	}{
		{"SELECT 1; SELECT 2;", []string{"SELECT 1", "SELECT 2"}},
		{"SELECT ';'; SELECT \";\"", []string{"SELECT ';'", `SELECT ";"`}},
		{"-- a;b\nSELECT 1 /* ; */;", []string{"-- a;b\nSELECT 1 /* ; */"}},
		{"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT 2",
			[]string{"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", "SELECT 2"}},
		// A tag with bytes >= 0x80 is a tag: PostgreSQL accepts them.
		{"CREATE FUNCTION f() RETURNS int AS $é$ SELECT 1; $é$ LANGUAGE sql; SELECT 2",
			[]string{"CREATE FUNCTION f() RETURNS int AS $é$ SELECT 1; $é$ LANGUAGE sql", "SELECT 2"}},
		{"CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2); SELECT 3",
			[]string{"CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2)", "SELECT 3"}},
		{"CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END; SELECT 3",
			[]string{"CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END", "SELECT 3"}},
		{"CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END; BEGIN; COMMIT",
			[]string{"CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END", "BEGIN", "COMMIT"}},
		{"BEGIN; SELECT 1; END;", []string{"BEGIN", "SELECT 1", "END"}},
		{" ; -- only\n ; /* c */", nil},
	}
	for _, c := range cases {
		got := nonEmpty(c.script)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q:\n got %q\nwant %q", c.script, got, c.want)
		}
	}
}

func TestFirstWord(t *testing.T) {
	for src, want := range map[string]string{
		"  /* x */ -- y\n BEGIN": "BEGIN",
		"commit;":                "commit",
		"(SELECT 1)":             "",
		"":                       "",
	} {
		if got := FirstWord(src); got != want {
			t.Errorf("FirstWord(%q) = %q, want %q", src, got, want)
		}
	}
}

func TestNothingAllocates(t *testing.T) {
	q := "/* app */ SELECT id, E'\\n', U&'x' FROM notes WHERE a = $1 AND b = $tag$ ; $tag$; SELECT 2"
	n := testing.AllocsPerRun(100, func() {
		sc := New(q)
		for {
			if !sc.Next() {
				break
			}
		}
		sp := NewSplitter(q)
		for {
			if _, ok := sp.Next(); !ok {
				break
			}
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per scan", n)
	}
}

// FuzzScan: the tokens cover the input exactly, in order; statements and
// the semicolons that end them cover it too.
func FuzzScan(f *testing.F) {
	for _, s := range []string{"SELECT 1", "'", "\"", "$$", "$a", "/*", "--", "E'\\'", "/* /* */",
		"$x$ $x", "$é$;$é$", "U&'", "CREATE FUNCTION f() BEGIN ATOMIC ; END;", "(;);"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		var b strings.Builder
		sc := New(q)
		for {
			if !sc.Next() {
				break
			}
			tok := sc.Tok
			if tok.Text == "" {
				t.Fatalf("empty token in %q", q)
			}
			b.WriteString(tok.Text)
		}
		if b.String() != q {
			t.Fatalf("tokens rebuild %q, want %q", b.String(), q)
		}
		b.Reset()
		sp := NewSplitter(q)
		for {
			st, ok := sp.Next()
			if !ok {
				break
			}
			if q[st.Start:st.Start+len(st.Text)] != st.Text {
				t.Fatalf("statement offset wrong in %q", q)
			}
			b.WriteString(st.Text)
			if end := st.Start + len(st.Text); end < len(q) {
				b.WriteByte(q[end]) // the semicolon
			}
		}
		if b.String() != q {
			t.Fatalf("statements rebuild %q, want %q", b.String(), q)
		}
	})
}
