import Foundation
import Logging
import Model
import Storage

/// First start (spec 07): create the user `root` (only role `root`, its default) and write a root
/// token to `<data>/root.token` with mode 0600, saying where on stderr. Later starts change nothing
/// and never print a secret.
package enum Bootstrap {
    package static func ensureRoot(database: Database, dataDirectory: String, logger: Logger) async throws {
        let path = (dataDirectory as NSString).appendingPathComponent("root.token")
        let token = try await database.write { connection -> String? in
            guard try connection.query("SELECT 1 FROM \"users\" WHERE \"username\" = 'root'").isEmpty else { return nil }
            let now = Timestamp.now()
            // No password: root signs in with its token; `triggerbase user create` can add others.
            try connection.run("INSERT INTO \"users\" (\"createdAt\", \"updatedAt\", \"username\", \"nickname\") VALUES (?, ?, 'root', 'Root')",
                               [.text(now), .text(now)])
            let userID = connection.lastInsertRowID
            try connection.run("INSERT INTO \"userRoles\" (\"userId\", \"roleName\", \"isDefault\") VALUES (?, 'root', 1)", [.integer(userID)])
            return try Authenticator.issueToken(userID: userID, name: "root", role: nil, expiresAt: nil, connection: connection).token
        }
        guard let token else { return }
        guard FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            // The root user exists but nobody can read its token: say so once, loudly (create a new
            // one with `triggerbase token create --user root`).
            logger.error("created the root user but could not write \(path); use `triggerbase token create --user root`", ["tokenFile": .string(path)])
            return
        }
        // Logged as a warning so that it shows at every log level: it is the one time the path is said.
        logger.warning("created the root user; its token is in \(path) (mode 0600)", ["tokenFile": .string(path)])
    }
}
