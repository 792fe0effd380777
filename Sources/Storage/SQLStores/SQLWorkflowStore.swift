import JSON
import Model

/// `WorkflowStore` over the `workflows` table (migration 004).
struct SQLWorkflowStore<Session: SQLSession>: WorkflowStore {
    let connection: Session

    private static var summaryColumns: String { "\"id\", \"key\", \"versionNumber\", \"title\", \"options\"" }

    func version(_ id: Int64) throws -> WorkflowRow? {
        try connection.query("SELECT * FROM \"workflows\" WHERE \"id\" = ?", [.integer(id)]).first.map(Self.version)
    }

    func currentVersions() throws -> [WorkflowRow] {
        try connection.query("SELECT * FROM \"workflows\" WHERE \"current\" = 1 ORDER BY \"id\"").map(Self.version)
    }

    func hasVersions(key: String) throws -> Bool {
        try !connection.query("SELECT 1 FROM \"workflows\" WHERE \"key\" = ?", [.text(key)]).isEmpty
    }

    func hasCurrentVersion(key: String) throws -> Bool {
        try !connection.query("SELECT 1 FROM \"workflows\" WHERE \"key\" = ? AND \"current\" = 1", [.text(key)]).isEmpty
    }

    func latestVersionNumber(key: String) throws -> Int64? {
        try connection.query("SELECT max(\"versionNumber\") FROM \"workflows\" WHERE \"key\" = ?", [.text(key)]).first?[0].int64
    }

    func insertVersion(_ content: WorkflowDefinition, versionNumber: Int64, actorID: Int64?) throws -> Int64 {
        try connection.announce(.workflowsChanged)
        let now = Timestamp.now()
        let actor: SQLiteValue = actorID.map { .integer($0) } ?? .null
        return try connection.insert("""
            INSERT INTO "workflows" ("createdAt", "updatedAt", "createdById", "updatedById", "key", "versionNumber",
                "title", "type", "enabled", "sync", "config", "options", "nodes") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(now), .text(now), actor, actor, .text(content.key), .integer(versionNumber)] + Self.columns(content))
    }

    func updateVersion(_ id: Int64, _ content: WorkflowDefinition, actorID: Int64?) throws {
        try connection.announce(.workflowsChanged)
        try connection.run("""
            UPDATE "workflows" SET "title" = ?, "type" = ?, "enabled" = ?, "sync" = ?, "config" = ?, "options" = ?, "nodes" = ?,
                "updatedAt" = ?, "updatedById" = ? WHERE "id" = ?
            """, Self.columns(content) + [.text(Timestamp.now()), actorID.map { .integer($0) } ?? .null, .integer(id)])
    }

    func replaceContent(_ id: Int64, _ content: WorkflowDefinition) throws {
        try connection.announce(.workflowsChanged)
        try connection.run("""
            UPDATE "workflows" SET "title" = ?, "type" = ?, "enabled" = ?, "sync" = ?, "config" = ?, "options" = ?, "nodes" = ?,
                "updatedAt" = ? WHERE "id" = ?
            """, Self.columns(content) + [.text(Timestamp.now()), .integer(id)])
    }

    func currentOrLatestVersion(key: String) throws -> (id: Int64, versionNumber: Int64)? {
        let row = try connection.query("""
            SELECT "id", "versionNumber" FROM "workflows" WHERE "key" = ? ORDER BY "current" IS NULL, "versionNumber" DESC LIMIT 1
            """, [.text(key)]).first
        guard let id = row?[0].int64, let number = row?[1].int64 else { return nil }
        return (id, number)
    }

    func makeCurrent(_ id: Int64, key: String) throws {
        try connection.announce(.workflowsChanged)
        try connection.run("UPDATE \"workflows\" SET \"current\" = NULL, \"enabled\" = 0 WHERE \"key\" = ? AND \"id\" <> ?", [.text(key), .integer(id)])
        try connection.run("UPDATE \"workflows\" SET \"current\" = 1 WHERE \"id\" = ?", [.integer(id)])
    }

    func deleteVersion(_ id: Int64) throws -> Int {
        try connection.announce(.workflowsChanged)
        return try connection.run("DELETE FROM \"workflows\" WHERE \"id\" = ?", [.integer(id)])
    }

    func summaries() throws -> [VersionSummary] {
        try connection.query("SELECT \(Self.summaryColumns) FROM \"workflows\" ORDER BY \"key\", \"versionNumber\"").map(Self.summary)
    }

    func summaries(optionsContaining text: String) throws -> [VersionSummary] {
        let pattern = "%" + text.replacing("\\", with: "\\\\").replacing("%", with: "\\%").replacing("_", with: "\\_") + "%"
        return try connection.query("SELECT \(Self.summaryColumns) FROM \"workflows\" WHERE \"options\" LIKE ? ESCAPE '\\'",
                                    [.text(pattern)]).map(Self.summary)
    }

    func summary(id: Int64, key: String, versionNumber: Int64) throws -> VersionSummary? {
        try connection.query("SELECT \(Self.summaryColumns) FROM \"workflows\" WHERE \"id\" = ? AND \"key\" = ? AND \"versionNumber\" = ?",
                             [.integer(id), .text(key), .integer(versionNumber)]).first.map(Self.summary)
    }

    func enabledCurrentSummary(key: String) throws -> VersionSummary? {
        try connection.query("SELECT \(Self.summaryColumns) FROM \"workflows\" WHERE \"key\" = ? AND \"current\" = 1 AND \"enabled\" = 1",
                             [.text(key)]).first.map(Self.summary)
    }

    // MARK: Rows

    private static func columns(_ c: WorkflowDefinition) -> [SQLiteValue] {
        [c.title.map { .text($0) } ?? .null, .text(c.type), .integer(c.enabled ? 1 : 0), .integer(c.sync ? 1 : 0),
         .text(JSON.object(c.config).serialized()), .text(JSON.object(c.options).serialized()), .text(JSON.array(c.nodes).serialized())]
    }

    private static func version(_ row: Row) -> WorkflowRow {
        func json(_ column: String) -> JSON { (row[column]?.string).flatMap { try? JSON.parse($0) } ?? .null }
        let content = WorkflowDefinition(key: row["key"]?.string ?? "", title: row["title"]?.string, type: row["type"]?.string ?? "action",
                                      enabled: row["enabled"]?.int64 == 1, sync: row["sync"]?.int64 == 1,
                                      config: json("config").objectValue ?? [:], options: json("options").objectValue ?? [:],
                                      nodes: json("nodes").arrayValue ?? [])
        return WorkflowRow(id: row["id"]?.int64 ?? 0, versionNumber: row["versionNumber"]?.int64 ?? 0, definition: content)
    }

    /// A summary from the first five columns of `row` (`summaryColumns`, or the same five at `offset`).
    static func summary(_ row: Row) -> VersionSummary { summary(row, at: 0) }

    static func summary(_ row: Row, at offset: Int) -> VersionSummary {
        VersionSummary(id: row[offset].int64 ?? 0, key: row[offset + 1].string ?? "", versionNumber: row[offset + 2].int64 ?? 0,
                       title: row[offset + 3].string, options: row[offset + 4].string.flatMap { try? JSON.parse($0) })
    }
}

extension SQLSession {
    /// The workflow versions of this connection's database.
    package var workflows: any WorkflowStore { SQLWorkflowStore(connection: self) }
}
