-- The organisations, in the shared schema. This table is the source of
-- truth for which tenants exist.
CREATE TABLE organisations (
	slug       text PRIMARY KEY,
	name       text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
