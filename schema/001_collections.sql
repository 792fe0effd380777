-- Collection definitions: one row per collection, its JSON definition as accepted by
-- /api/collections:create (schema/collection.schema.json). The tables themselves are created
-- from these definitions.
CREATE TABLE "collections" (
    "name" TEXT PRIMARY KEY,
    "definition" TEXT NOT NULL,
    "createdAt" TEXT NOT NULL
);
