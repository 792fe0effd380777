import Foundation
import Logging
import Model
import Storage

/// First start (spec 07): create the user `root` (only role `root`, its default) and write a root
/// token to `<data>/root.token` with mode 0600, saying where on stderr. Later starts change nothing
/// and never print a secret.
package enum Bootstrap {
    package static func ensureRoot(database: any StorageBackend, dataDirectory: String, logger: Logger) async throws {
        let path = (dataDirectory as NSString).appendingPathComponent("root.token")
        let token = try await database.write { connection in try createRoot(in: connection.identities, now: Timestamp.now()) }
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

    /// Creates the user `root` holding only the role `root` and returns its new token; nil (and
    /// nothing written) when `root` exists.
    package static func createRoot(in store: any IdentityStore, now: String) throws -> String? {
        guard try store.userID(named: "root") == nil else { return nil }
        // No password: root signs in with its token; `triggerbase user create` can add others.
        let userID = try store.insertUser(username: "root", email: nil, nickname: "Root", passwordHash: nil, at: now)
        try store.addRoleHolding(userID: userID, role: "root", isDefault: true)
        return try Authenticator.issueToken(userID: userID, name: "root", role: nil, expiresAt: nil, store: store, now: now).token
    }
}
