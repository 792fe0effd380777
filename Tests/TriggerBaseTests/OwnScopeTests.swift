import JSON
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// spec 03's `own` scope, written once in `OwnScope` (issue 15 item 5).
@Suite struct OwnScopeTests {
    let alice = Actor(userID: 7, roleName: "member", tokenID: nil)

    @Test func allScope_restrictsNothing() {
        #expect(OwnScope(RolePermissions.Grant(scope: .all), actor: alice) == nil)
    }

    @Test func ownScope_isTheActorsCreatedByIdInSQLAndOnRecords() throws {
        let own = try #require(OwnScope(RolePermissions.Grant(scope: .own), actor: alice))
        #expect(own.condition.sql(SQLiteDialect(), root: "t0").sql == "t0.\"createdById\" = ?")
        #expect(own.condition.sql(SQLiteDialect(), root: "t0").parameters == [.integer(7)])
        #expect(own.allows(["id": 1, "createdById": 7]))
        #expect(!own.allows(["id": 2, "createdById": 8]))
        #expect(!own.allows(["id": 3, "createdById": .null]))
    }

    @Test func ownScope_withoutUser_seesNothing() throws {
        let own = try #require(OwnScope(RolePermissions.Grant(scope: .own), actor: .anonymous))
        #expect(own.condition.sql(SQLiteDialect(), root: "t0").parameters == [.null])
        #expect(!own.allows(["id": 3, "createdById": .null]))
    }

    @Test func resourceScope_restrictedToOwn_andsTheCondition() throws {
        var scope = ResourceService.Scope()
        scope.condition = .id(5)
        scope.restrict(to: try #require(OwnScope(RolePermissions.Grant(scope: .own), actor: alice)))
        let (sql, parameters) = scope.condition.sql(SQLiteDialect(), root: "t0")
        #expect(sql == "(t0.\"id\" = ? AND t0.\"createdById\" = ?)")
        #expect(parameters == [.integer(5), .integer(7)])
    }
}
