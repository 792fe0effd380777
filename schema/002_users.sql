-- Users (spec 03). The auth layer fills and manages them; every collection's createdBy / updatedBy
-- relation points here. `password` holds only a salted slow hash, never the password.
CREATE TABLE "users" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
    "createdAt" TEXT NOT NULL,
    "updatedAt" TEXT NOT NULL,
    "createdById" INTEGER,
    "updatedById" INTEGER,
    "username" TEXT NOT NULL UNIQUE,
    "email" TEXT UNIQUE,
    "nickname" TEXT,
    "password" TEXT
);
