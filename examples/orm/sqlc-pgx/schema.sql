-- The tenant schema's table. sqlc reads it to type the queries, and the
-- tests hand it to the migrator as the tenant migration. Nothing names a
-- schema: the pool sets search_path from each call's context.
CREATE TABLE notes (
	id    bigserial PRIMARY KEY,
	title text NOT NULL
);
