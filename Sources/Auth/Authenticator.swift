import Foundation
import Model
import Storage

/// Who a request acts as (spec 03): a user (nil for anonymous) and the role it acts in.
package struct Actor: Sendable, Equatable {
    package var userID: Int64?
    package var roleName: String
    /// The token used, so `auth:signOut` can revoke it.
    package var tokenID: Int64?
    /// When the token expires (RFC 3339), for the authentication cache.
    package var expiresAt: String? = nil

    package init(userID: Int64? = nil, roleName: String, tokenID: Int64? = nil, expiresAt: String? = nil) {
        self.userID = userID
        self.roleName = roleName
        self.tokenID = tokenID
        self.expiresAt = expiresAt
    }

    package static let anonymous = Actor(userID: nil, roleName: "anonymous", tokenID: nil)
}

/// Turns a request's token and `X-Role` into an `Actor`, making spec 03's checks in its order and
/// answering each failure with its 401 code. Tokens are looked up by SHA-256 digest, so the
/// lookup's timing cannot depend on how much of a guessed token was right.
package enum Authenticator {
    /// Longest token we look up; anything longer is malformed.
    package static let maxTokenLength = 512

    /// `Authorization: Bearer <token>` (scheme case-insensitive), else the `token` query parameter.
    package static func token(authorization: String?, queryToken: String?) -> String? {
        if let authorization {
            // `<scheme> <credentials>` read by bytes (this runs for every request): spaces before
            // the scheme are skipped, the scheme is compared in any case, blanks around the token trimmed.
            let utf8 = authorization.utf8
            let space = UInt8(ascii: " ")
            if let schemeStart = utf8.firstIndex(where: { $0 != space }),
               let schemeEnd = utf8[schemeStart...].firstIndex(of: space),
               utf8[schemeStart..<schemeEnd].elementsEqual("bearer".utf8, by: { $0 | 0x20 == $1 }),
               utf8.index(after: schemeEnd) < utf8.endIndex {
                return trimmingBlanks(authorization[utf8.index(after: schemeEnd)...])
            }
            return authorization.isEmpty ? nil : ""
        }
        if let queryToken, !queryToken.isEmpty { return queryToken }
        return nil
    }

    /// `text` without leading and trailing spaces and tabs (HTTP's optional whitespace), by bytes:
    /// Foundation's `trimmingCharacters` bridges through `NSString` on every request.
    private static func trimmingBlanks(_ text: some StringProtocol) -> String {
        let text = Substring(text)
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = text.utf8.firstIndex(where: { !isBlank($0) }), let last = text.utf8.lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(text[first...last])
    }

    private static func unauthorized(_ code: String, _ message: String) -> DomainError {
        DomainError(.unauthenticated, code: code, message: message)
    }

    /// The actor for `token` and `requestedRole` (the `X-Role` header); `now` is RFC 3339 UTC.
    package static func authenticate(token: String?, requestedRole: String?, store: any IdentityStore, now: String) throws -> Actor {
        guard let token else { return .anonymous }
        guard !token.isEmpty, token.utf8.count <= maxTokenLength, token.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw unauthorized("INVALID_TOKEN", "the token is malformed")
        }
        guard let stored = try store.token(digest: Crypto.tokenDigest(token)) else {
            throw unauthorized("INVALID_TOKEN", "the token is not valid")
        }
        if stored.revokedAt != nil { throw unauthorized("BLOCKED_TOKEN", "the token has been revoked") }
        let expiresAt = stored.expiresAt
        if let expires = expiresAt, expires <= now { throw unauthorized("EXPIRED_SESSION", "the token has expired") }
        let userID = stored.userID, tokenID = stored.id
        guard try store.user(id: userID) != nil else {
            throw unauthorized("NOT_EXIST_USER", "the token's user no longer exists")
        }
        // The default role first, then the others by name.
        let holdings = try store.roleHoldings(userID: userID)
        let roles = (holdings.filter(\.isDefault) + holdings.filter { !$0.isDefault }).map(\.roleName)
        guard !roles.isEmpty else { throw unauthorized("USER_HAS_NO_ROLES_ERR", "the user holds no role") }
        // An API key pinned to a role always acts as it, whatever X-Role says.
        if let pinned = stored.role {
            guard roles.contains(pinned) || pinned == "anonymous" else {
                throw unauthorized("ROLE_NOT_FOUND_FOR_USER", "the user no longer holds the role '\(pinned)'")
            }
            return Actor(userID: userID, roleName: pinned, tokenID: tokenID, expiresAt: expiresAt)
        }
        if let requested = requestedRole.map(trimmingBlanks), !requested.isEmpty {
            guard requested == "anonymous" || roles.contains(requested) else {
                throw unauthorized("ROLE_NOT_FOUND_FOR_USER", "the user does not hold the role '\(requested)'")
            }
            return Actor(userID: userID, roleName: requested, tokenID: tokenID, expiresAt: expiresAt)
        }
        return Actor(userID: userID, roleName: roles[0], tokenID: tokenID, expiresAt: expiresAt)
    }

    /// Stores a new token for `userID` (by its digest) and returns it: the only time it exists in clear.
    package static func issueToken(userID: Int64, name: String?, role: String?, expiresAt: String?, store: any IdentityStore,
                                   now: String = Timestamp.now(), token: String = Crypto.newToken()) throws -> (id: Int64, token: String) {
        let id = try store.insertToken(digest: Crypto.tokenDigest(token), userID: userID, name: name, role: role, expiresAt: expiresAt, at: now)
        return (id, token)
    }
}
