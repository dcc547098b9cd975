package sqlc

// Note is a row of notes.
type Note struct {
	ID    int64
	Title string
}
