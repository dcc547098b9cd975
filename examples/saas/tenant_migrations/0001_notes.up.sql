-- Every organisation's schema gets its own notes table.
CREATE TABLE notes (
	id         bigserial PRIMARY KEY,
	title      text NOT NULL,
	body       text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL DEFAULT now()
);
