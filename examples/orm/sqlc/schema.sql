-- The tenant schema's table. Queries do not name a schema: tenantpath sets
-- the search_path from the context.
CREATE TABLE notes (
	id    bigserial PRIMARY KEY,
	title text NOT NULL
);
