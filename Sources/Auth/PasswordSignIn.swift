import Model
import Storage
import Synchronization

/// Signing in with an account (username or email) and password (spec 03, issue 13): the address
/// budget, the per-account slow-down and the global cap are checked before any hashing; the user
/// is read on a read connection, the password verified on the `PasswordHasher` (against a dummy
/// hash for an unknown account, so both failures cost the same), and only a right password
/// reaches the writer, for a short job that stores the token.
package struct PasswordSignIn: Sendable {
    package let database: any StorageBackend
    package let hasher: PasswordHasher
    package let throttle: SignInThrottle
    package let failures: SignInFailures

    package init(database: any StorageBackend, hasher: PasswordHasher, throttle: SignInThrottle, failures: SignInFailures) {
        self.database = database
        self.hasher = hasher
        self.throttle = throttle
        self.failures = failures
    }

    /// A new token and the user it belongs to.
    package struct Session: Sendable {
        package var token: String
        package var user: UserProfile
    }

    /// Signs `account` in from the client `address`; 401 `INVALID_CREDENTIALS` for a wrong
    /// account or password, 429 when the address or the server has no attempt left.
    package func signIn(account: String, password: String, address: String) async throws -> Session {
        try throttle.admit(address: address)
        // Repeated failures for one account are slowed (spec 03), before a hash slot is taken.
        let delay = failures.delay(for: account)
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        let verified = try await throttle.withHashSlot { () async throws -> (id: Int64, stored: String)? in
            let credential = try await database.read { connection in try connection.identities.credential(account: account) }
            let stored = credential?.passwordHash
            let matches = try await PasswordHasher.refusingWhenFull { try await hasher.perform { Crypto.verifyPassword(password, stored: stored ?? Self.dummyHash) } }
            guard matches, let stored, let id = credential?.userID else { return nil }
            return (id, stored)
        }
        var session: Session?
        if let user = verified {
            session = try await database.write { connection -> Session? in
                let store = connection.identities
                // The password may have changed (or the user gone) since it was verified.
                guard try store.credential(userID: user.id)?.passwordHash == user.stored else { return nil }
                let token = try Authenticator.issueToken(userID: user.id, name: nil, role: nil, expiresAt: nil, store: store).token
                return Session(token: token, user: try UserProfile.load(user.id, store: store))
            }
        }
        guard let session else {
            failures.record(account)
            throw DomainError(.unauthenticated, code: "INVALID_CREDENTIALS", message: "the account or password is wrong")
        }
        failures.reset(account)
        return session
    }

    /// Verified against for an unknown account or a user without password, so those cost one full
    /// hash like a known account (no enumeration by timing). A constant: the hash of 128 random
    /// bits that were thrown away (nothing can match it, and a match would still be refused, as
    /// there is no stored password), so no process start or first sign-in pays to make one.
    package static let dummyHash = "pbkdf2-sha256$\(Crypto.passwordIterations)$2261726bec601627b97f1cbfca79b6dc$c876514329d94ea8f77acd5f362b5406d138a9271773a6c869cc3ec1d9fdfd48"
}

/// Failed sign-ins per account, to slow repeated guessing: from the 4th failure on, each attempt
/// waits 250 ms more (at most 5 s). Held in memory; a success resets it.
package final class SignInFailures: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    package init() {}

    package func delay(for account: String) -> Int {
        let failures = counts.withLock { $0[account] ?? 0 }
        return failures < 3 ? 0 : min(5000, (failures - 2) * 250)
    }

    package func record(_ account: String) {
        counts.withLock { counts in
            if counts.count > 100_000 { counts.removeAll() }
            counts[account, default: 0] += 1
        }
    }

    package func reset(_ account: String) { _ = counts.withLock { $0.removeValue(forKey: account) } }
}
