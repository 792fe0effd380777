import JSON
import Model

/// `RecordWorkflowStore` over `recordWorkflowDefinitions`, `recordWorkflowHistory` (migration 006)
/// and the workflow columns of bound collections' tables.
struct SQLRecordWorkflowStore<Session: SQLSession>: RecordWorkflowStore {
    let connection: Session

    // MARK: Definitions

    func definitionIDs() throws -> [String] {
        try connection.query("SELECT DISTINCT \"id\" FROM \"recordWorkflowDefinitions\" ORDER BY \"id\"").compactMap { $0[0].string }
    }

    func latestVersion(of id: String, publishedOnly: Bool) throws -> RecordWorkflowVersion? {
        guard let row = try connection.query("""
            SELECT "major", "minor", "published", "definition" FROM "recordWorkflowDefinitions"
            WHERE "id" = ?\(publishedOnly ? " AND \"published\" = 1" : "") ORDER BY "major" DESC, "minor" DESC LIMIT 1
            """, [.text(id)]).first else { return nil }
        return RecordWorkflowVersion(id: id, major: row[0].int64 ?? 0, minor: row[1].int64 ?? 0, published: row[2].int64 == 1,
                                     definition: row[3].string.flatMap { try? JSON.parse($0) } ?? .null)
    }

    func insertVersion(_ version: RecordWorkflowVersion, initialState: String, at now: String, createdBy userID: Int64?) throws {
        try connection.run("""
            INSERT INTO "recordWorkflowDefinitions" ("id", "major", "minor", "published", "initialState", "definition", "createdAt", "createdById")
            VALUES (?, ?, ?, 0, ?, ?, ?, ?)
            """, [.text(version.id), .integer(version.major), .integer(version.minor), .text(initialState),
                  .text(version.definition.serialized()), .text(now), userID.map { .integer($0) } ?? .null])
    }

    func insertPublishedCopy(of id: String, major: Int64, minor: Int64, at now: String) throws {
        try connection.run("""
            INSERT INTO "recordWorkflowDefinitions" ("id", "major", "minor", "published", "initialState", "definition", "createdAt", "createdById")
            SELECT "id", "major" + 1, 0, 1, "initialState", "definition", ?, "createdById" FROM "recordWorkflowDefinitions"
            WHERE "id" = ? AND "major" = ? AND "minor" = ?
            """, [.text(now), .text(id), .integer(major), .integer(minor)])
    }

    // MARK: Records of bound collections

    func setState(_ state: String, collection: String, recordID: Int64, at now: String, by userID: Int64?) throws {
        try connection.run("""
            UPDATE \(Name.quoted(collection)) SET "workflowState" = ?, "workflowVersion" = "workflowVersion" + 1, "updatedAt" = ?, "updatedById" = ?
            WHERE "id" = ?
            """, [.text(state), .text(now), userID.map { .integer($0) } ?? .null, .integer(recordID)])
    }

    func setPublished(_ published: Bool, collection: String, recordID: Int64, at now: String) throws {
        if published {
            try connection.run("UPDATE \(Name.quoted(collection)) SET \"published\" = 1, \"publishedAt\" = ? WHERE \"id\" = ?",
                               [.text(now), .integer(recordID)])
        } else {
            try connection.run("UPDATE \(Name.quoted(collection)) SET \"published\" = 0, \"publishedAt\" = NULL WHERE \"id\" = ?",
                               [.integer(recordID)])
        }
    }

    // MARK: History

    func appendHistory(_ entry: RecordWorkflowHistoryEntry) throws {
        try connection.run("""
            INSERT INTO "recordWorkflowHistory" ("collection", "recordId", "event", "from", "to", "data", "userId", "at") VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(entry.collection), .integer(entry.recordID), .text(entry.event), entry.from.map { .text($0) } ?? .null,
                  entry.to.map { .text($0) } ?? .null, .text(entry.data.serialized()), entry.userID.map { .integer($0) } ?? .null,
                  .text(entry.at)])
    }

    func history(collection: String, recordID: Int64) throws -> [RecordWorkflowHistoryEntry] {
        try connection.query("""
            SELECT "id", "recordId", "event", "from", "to", "data", "userId", "at" FROM "recordWorkflowHistory"
            WHERE "collection" = ? AND "recordId" = ? ORDER BY "id"
            """, [.text(collection), .integer(recordID)]).map { row in
            RecordWorkflowHistoryEntry(id: row[0].int64 ?? 0, collection: collection, recordID: row[1].int64 ?? 0, event: row[2].string ?? "",
                                       from: row[3].string, to: row[4].string, data: row[5].string.flatMap { try? JSON.parse($0) } ?? .null,
                                       userID: row[6].int64, at: row[7].string ?? "")
        }
    }
}

extension SQLSession {
    /// Record-workflow definitions, record states and history in this connection's transaction.
    package var recordWorkflows: any RecordWorkflowStore { SQLRecordWorkflowStore(connection: self) }
}
