/// `IdentityStore` over the tables `users`, `roles`, `userRoles` and `tokens` (migrations 002, 003).
struct SQLIdentityStore<Session: SQLSession>: IdentityStore {
    let connection: Session

    // MARK: Users

    private static var userColumns: String { "\"id\", \"username\", \"email\", \"nickname\", \"createdAt\", \"updatedAt\"" }

    private static func user(_ row: Row) -> UserRow {
        UserRow(id: row["id"]?.int64 ?? 0, username: row["username"]?.string ?? "", email: row["email"]?.string,
                nickname: row["nickname"]?.string, createdAt: row["createdAt"]?.string ?? "", updatedAt: row["updatedAt"]?.string ?? "")
    }

    func user(id: Int64) throws -> UserRow? {
        try connection.query("SELECT \(Self.userColumns) FROM \"users\" WHERE \"id\" = ?", [.integer(id)]).first.map(Self.user)
    }

    func users() throws -> [UserRow] {
        try connection.query("SELECT \(Self.userColumns) FROM \"users\" ORDER BY \"id\"").map(Self.user)
    }

    func userID(named username: String) throws -> Int64? {
        try connection.query("SELECT \"id\" FROM \"users\" WHERE \"username\" = ?", [.text(username)]).first?[0].int64
    }

    func credential(account: String) throws -> UserCredential? {
        try connection.query("SELECT \"id\", \"password\" FROM \"users\" WHERE \"username\" = ? OR \"email\" = ? LIMIT 1",
                             [.text(account), .text(account)]).first.flatMap(Self.credential)
    }

    func credential(userID: Int64) throws -> UserCredential? {
        try connection.query("SELECT \"id\", \"password\" FROM \"users\" WHERE \"id\" = ?", [.integer(userID)]).first.flatMap(Self.credential)
    }

    private static func credential(_ row: Row) -> UserCredential? {
        row[0].int64.map { UserCredential(userID: $0, passwordHash: row[1].string) }
    }

    func insertUser(username: String, email: String?, nickname: String?, passwordHash: String?, at now: String) throws -> Int64 {
        try connection.announce(.identitiesChanged)
        // In a savepoint of its own: a taken name is an answer callers go on from, and a failed
        // statement would leave a PostgreSQL transaction unusable.
        return try connection.inSavepoint {
            try connection.insert("""
                INSERT INTO "users" ("createdAt", "updatedAt", "username", "email", "nickname", "password") VALUES (?, ?, ?, ?, ?, ?)
                """, [.text(now), .text(now), .text(username), Self.text(email), Self.text(nickname), Self.text(passwordHash)])
        }
    }

    func updateUser(id: Int64, _ changes: UserChanges, at now: String) throws {
        try connection.announce(.identitiesChanged)
        var sets = ["\"updatedAt\" = ?"]
        var parameters: [SQLiteValue] = [.text(now)]
        if let email = changes.email { sets.append("\"email\" = ?"); parameters.append(Self.text(email)) }
        if let nickname = changes.nickname { sets.append("\"nickname\" = ?"); parameters.append(Self.text(nickname)) }
        if let passwordHash = changes.passwordHash { sets.append("\"password\" = ?"); parameters.append(.text(passwordHash)) }
        try connection.run("UPDATE \"users\" SET \(sets.joined(separator: ", ")) WHERE \"id\" = ?", parameters + [.integer(id)])
    }

    func deleteUser(id: Int64) throws -> Int {
        try connection.announce(.identitiesChanged)
        return try connection.run("DELETE FROM \"users\" WHERE \"id\" = ?", [.integer(id)])
    }

    // MARK: Roles

    private static func role(_ row: Row) -> RoleRow {
        RoleRow(name: row["name"]?.string ?? "", title: row["title"]?.string, permissions: row["permissions"]?.string ?? "{}",
                builtIn: row["builtIn"]?.int64 == 1)
    }

    func role(named name: String) throws -> RoleRow? {
        try connection.query("SELECT \"name\", \"title\", \"permissions\", \"builtIn\" FROM \"roles\" WHERE \"name\" = ?", [.text(name)])
            .first.map(Self.role)
    }

    func roles() throws -> [RoleRow] {
        try connection.query("SELECT \"name\", \"title\", \"permissions\", \"builtIn\" FROM \"roles\" ORDER BY \"name\"").map(Self.role)
    }

    func saveRole(name: String, title: String?, permissions: String, at now: String) throws {
        try connection.announce(.identitiesChanged)
        try connection.run("""
            INSERT INTO "roles" ("name", "title", "permissions", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?)
            ON CONFLICT("name") DO UPDATE SET "permissions" = excluded."permissions",
                "title" = coalesce(excluded."title", "roles"."title"), "updatedAt" = excluded."updatedAt"
            """, [.text(name), Self.text(title), .text(permissions), .text(now), .text(now)])
    }

    func deleteRole(named name: String) throws {
        try connection.announce(.identitiesChanged)
        try connection.run("DELETE FROM \"roles\" WHERE \"name\" = ?", [.text(name)])
    }

    func isRoleHeld(_ name: String) throws -> Bool {
        try !connection.query("SELECT 1 FROM \"userRoles\" WHERE \"roleName\" = ? LIMIT 1", [.text(name)]).isEmpty
    }

    // MARK: Roles users hold

    func roleHoldings(userID: Int64) throws -> [RoleHolding] {
        try connection.query("SELECT \"roleName\", \"isDefault\" FROM \"userRoles\" WHERE \"userId\" = ? ORDER BY \"roleName\"",
                             [.integer(userID)]).compactMap { row in
            row[0].string.map { RoleHolding(roleName: $0, isDefault: row[1].int64 == 1) }
        }
    }

    func holds(userID: Int64, role: String) throws -> Bool {
        try !connection.query("SELECT 1 FROM \"userRoles\" WHERE \"userId\" = ? AND \"roleName\" = ?", [.integer(userID), .text(role)]).isEmpty
    }

    func addRoleHolding(userID: Int64, role: String, isDefault: Bool) throws {
        try connection.announce(.identitiesChanged)
        try connection.run("INSERT INTO \"userRoles\" (\"userId\", \"roleName\", \"isDefault\") VALUES (?, ?, ?)",
                           [.integer(userID), .text(role), .integer(isDefault ? 1 : 0)])
    }

    func removeRoleHoldings(userID: Int64) throws {
        try connection.announce(.identitiesChanged)
        try connection.run("DELETE FROM \"userRoles\" WHERE \"userId\" = ?", [.integer(userID)])
    }

    // MARK: Tokens

    func insertToken(digest: String, userID: Int64, name: String?, role: String?, expiresAt: String?, at now: String) throws -> Int64 {
        try connection.insert("""
            INSERT INTO "tokens" ("digest", "userId", "name", "role", "expiresAt", "createdAt") VALUES (?, ?, ?, ?, ?, ?)
            """, [.text(digest), .integer(userID), Self.text(name), Self.text(role), Self.text(expiresAt), .text(now)])
    }

    func token(digest: String) throws -> TokenRow? {
        guard let row = try connection.query("""
            SELECT "id", "userId", "name", "role", "expiresAt", "revokedAt" FROM "tokens" WHERE "digest" = ?
            """, [.text(digest)]).first, let id = row[0].int64, let userID = row[1].int64 else { return nil }
        // A revocation is any non-NULL value, whatever its type.
        let revokedAt: String? = row[5].isNull ? nil : (row[5].string ?? "")
        return TokenRow(id: id, userID: userID, name: row[2].string, role: row[3].string, expiresAt: row[4].string, revokedAt: revokedAt)
    }

    func revokeToken(id: Int64, at now: String) throws {
        try connection.announce(.identitiesChanged)
        try connection.run("UPDATE \"tokens\" SET \"revokedAt\" = ? WHERE \"id\" = ?", [.text(now), .integer(id)])
    }

    func apiKeys(userID: Int64) throws -> [TokenRow] {
        try connection.query("""
            SELECT "id", "userId", "name", "role", "expiresAt" FROM "tokens"
            WHERE "userId" = ? AND "role" IS NOT NULL AND "revokedAt" IS NULL ORDER BY "id"
            """, [.integer(userID)]).map { row in
            TokenRow(id: row[0].int64 ?? 0, userID: row[1].int64 ?? userID, name: row[2].string, role: row[3].string,
                     expiresAt: row[4].string, revokedAt: nil)
        }
    }

    func revokeAPIKey(id: Int64, holder: Int64?, at now: String) throws -> Int {
        try connection.announce(.identitiesChanged)
        return try connection.run("""
            UPDATE "tokens" SET "revokedAt" = ? WHERE "id" = ? AND "role" IS NOT NULL AND "revokedAt" IS NULL AND ("userId" = ? OR ?)
            """, [.text(now), .integer(id), .integer(holder ?? 0), .integer(holder == nil ? 1 : 0)])
    }

    private static func text(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
}

extension SQLSession {
    /// Users, roles, role holdings and tokens in this connection's transaction.
    package var identities: any IdentityStore { SQLIdentityStore(connection: self) }
}
