-- Roles, the roles users hold, and tokens (spec 03). Permissions are JSON per role:
-- {"<collection>|*": {"create|view|update|destroy": {"scope": "all|own", "fields": [...]}}}.
-- Tokens are stored only as SHA-256 digests; a token row outlives its user (NOT_EXIST_USER).
CREATE TABLE "roles" (
    "name" TEXT PRIMARY KEY,
    "title" TEXT,
    "permissions" TEXT NOT NULL DEFAULT '{}',
    "builtIn" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TEXT NOT NULL,
    "updatedAt" TEXT NOT NULL
);
CREATE TABLE "userRoles" (
    "userId" INTEGER NOT NULL REFERENCES "users"("id") ON DELETE CASCADE,
    "roleName" TEXT NOT NULL REFERENCES "roles"("name") ON DELETE RESTRICT,
    "isDefault" INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY ("userId", "roleName")
);
CREATE TABLE "tokens" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
    "digest" TEXT NOT NULL UNIQUE,
    "userId" INTEGER NOT NULL,
    "name" TEXT,
    "role" TEXT,
    "expiresAt" TEXT,
    "revokedAt" TEXT,
    "createdAt" TEXT NOT NULL
);
CREATE INDEX "ix_tokens_userId" ON "tokens"("userId");
INSERT INTO "roles" ("name", "title", "permissions", "builtIn", "createdAt", "updatedAt") VALUES
    ('root', 'Root', '{}', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('admin', 'Admin', '{"*":{"create":{},"view":{},"update":{},"destroy":{}}}', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('member', 'Member', '{"*":{"view":{"scope":"own"}}}', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ('anonymous', 'Anonymous', '{}', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
