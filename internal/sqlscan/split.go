package sqlscan

// Boundary decides which semicolons end a statement, by psql's rules: not
// one inside parentheses, and not one inside the BEGIN … END body of a
// CREATE [OR REPLACE] FUNCTION or PROCEDURE written with BEGIN ATOMIC (where
// CASE … END nests too). Feed it every token in order. The zero value is
// ready at the start of a statement.
type Boundary struct {
	parens int
	begins int
	// words holds the first letters of the statement's first words when
	// they are create/or/replace/function/procedure, as psql records them.
	words [4]byte
	count int
}

// Ends reports whether t ends the current statement. After a true answer
// the tracker is ready for the next statement.
func (b *Boundary) Ends(t *Token) bool {
	switch t.Kind {
	case OpenParen:
		b.parens++
	case CloseParen:
		if b.parens > 0 {
			b.parens--
		}
	case Word:
		b.word(t.Text)
	case Semicolon:
		if b.parens == 0 && b.begins == 0 {
			*b = Boundary{}
			return true
		}
	}
	return false
}

func (b *Boundary) word(w string) {
	if isDigit(w[0]) {
		return // a number, not an identifier
	}
	if b.count < len(b.words) {
		switch w[0] | 0x20 { // the first letter, in lower case
		case 'c', 'o', 'r', 'f', 'p':
			for _, k := range [...]string{"create", "or", "replace", "function", "procedure"} {
				if EqualFold(w, k) {
					b.words[b.count] = k[0]
				}
			}
		}
	}
	b.count++
	if !b.inRoutine() || b.parens != 0 {
		return
	}
	switch {
	case EqualFold(w, "begin"):
		b.begins++
	case EqualFold(w, "case"):
		if b.begins > 0 {
			b.begins++
		}
	case EqualFold(w, "end"):
		if b.begins > 0 {
			b.begins--
		}
	}
}

// inRoutine: the statement starts with CREATE [OR REPLACE] FUNCTION or
// PROCEDURE.
func (b *Boundary) inRoutine() bool {
	w := b.words
	if w[0] != 'c' {
		return false
	}
	return w[1] == 'f' || w[1] == 'p' || (w[1] == 'o' && w[2] == 'r' && (w[3] == 'f' || w[3] == 'p'))
}

// Statement is one statement of a script: its text without the semicolon
// that ends it, and whether it holds anything but white space and comments.
type Statement struct {
	Text  string
	Start int // offset of Text in the script
	Empty bool
}

// Splitter yields the statements of a script in order, as the server would
// receive them one by one. Use [NewSplitter].
type Splitter struct {
	sc    Scanner
	done  bool
	bound Boundary
}

// NewSplitter returns a splitter over script.
func NewSplitter(script string) Splitter { return Splitter{sc: New(script)} }

// Next returns the next statement, and false when there is none left. The
// text after the last semicolon is a statement too (often an empty one).
func (sp *Splitter) Next() (Statement, bool) {
	if sp.done {
		return Statement{}, false
	}
	start := sp.sc.Pos()
	empty := true
	for {
		end := sp.sc.Pos()
		if !sp.sc.Next() {
			sp.done = true
			return Statement{Text: sp.sc.src[start:end], Start: start, Empty: empty}, true
		}
		t := &sp.sc.Tok
		if sp.bound.Ends(t) {
			return Statement{Text: sp.sc.src[start:end], Start: start, Empty: empty}, true
		}
		if t.Kind != Space && t.Kind != Comment {
			empty = false
		}
	}
}

// FirstWord returns the first word of a statement, skipping white space and
// comments ("" if it starts with something else).
func FirstWord(stmt string) string {
	sc := New(stmt)
	for sc.Next() {
		t := &sc.Tok
		switch t.Kind {
		case Space, Comment:
			continue
		case Word:
			return t.Text
		}
		return ""
	}
	return ""
}
