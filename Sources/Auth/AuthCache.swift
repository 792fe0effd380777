import Foundation
import Storage
import Synchronization

/// Recent authentication results (token digest + `X-Role` → access), so a request does not need
/// a database read to learn who it is. Every write to users, roles, role holdings or tokens made
/// through the server clears it (`invalidate`); a result read before an invalidation is never
/// stored after it (generation check). Expiry is re-checked on every hit.
///
/// Where other processes share the database, their changes clear it too (an announcement), and
/// `maxAge` bounds how long a result is trusted should an announcement be lost.
package final class AuthCache: Sendable {
    private struct Entry { let access: AccessCheck; let expiresAt: Double?; let storedAt: Double }
    private struct State { var entries: [String: Entry] = [:]; var generation: UInt64 = 0 }
    private let state = Mutex(State())
    private let maxAge: Double?
    package static let capacity = 10_000

    /// `maxAge`: seconds a result is used at most; nil for as long as nothing invalidates it.
    package init(maxAge: Double? = nil) {
        self.maxAge = maxAge
    }

    package var generation: UInt64 { state.withLock { $0.generation } }

    package func lookup(_ key: String) -> AccessCheck? {
        guard let entry = state.withLock({ $0.entries[key] }) else { return nil }
        if entry.expiresAt != nil || maxAge != nil {
            let now = Date().timeIntervalSince1970
            if let expiresAt = entry.expiresAt, expiresAt <= now { return nil }
            if let maxAge, now - entry.storedAt > maxAge { return nil }
        }
        return entry.access
    }

    package func store(_ key: String, _ access: AccessCheck, expiresAt: String?, generation: UInt64) {
        let expiry = expiresAt.flatMap { RecordCodec.normalizeDateTime($0) }.flatMap { Self.seconds($0) }
        let storedAt = maxAge == nil ? 0 : Date().timeIntervalSince1970
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= Self.capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = Entry(access: access, expiresAt: expiry, storedAt: storedAt)
        }
    }

    package func invalidate() {
        state.withLock { state in
            state.entries.removeAll(keepingCapacity: true)
            state.generation &+= 1
        }
    }

    private static func seconds(_ timestamp: String) -> Double? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: timestamp)?.timeIntervalSince1970
    }
}
