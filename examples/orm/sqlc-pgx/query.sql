-- name: CreateNote :one
INSERT INTO notes (title) VALUES ($1) RETURNING id, title;

-- name: ListNotes :many
SELECT id, title FROM notes ORDER BY id;

-- name: DeleteNote :execrows
DELETE FROM notes WHERE id = $1;

-- name: ImportNotes :copyfrom
INSERT INTO notes (title) VALUES ($1);
