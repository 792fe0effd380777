@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

extension Catalogue {
    /// posts (scalars, a belongsTo, a belongsToMany, a hasMany), categories, tags and comments:
    /// one of each relation, for the compiler and schema tests.
    static func blog() throws -> Catalogue {
        try Catalogue.base.adding([
            CollectionDefinition(name: "categories", fields: [FieldDefinition(name: "name", type: .string)]),
            CollectionDefinition(name: "tags", fields: [FieldDefinition(name: "name", type: .string)]),
            CollectionDefinition(name: "comments", fields: [FieldDefinition(name: "body", type: .text)]),
            CollectionDefinition(name: "posts", fields: [
                FieldDefinition(name: "title", type: .string, unique: true, maxLength: 20),
                FieldDefinition(name: "views", type: .integer, index: true),
                FieldDefinition(name: "score", type: .double),
                FieldDefinition(name: "postedAt", type: .datetime),
                FieldDefinition(name: "category", type: .belongsTo, target: "categories"),
                FieldDefinition(name: "tags", type: .belongsToMany, target: "tags"),
                FieldDefinition(name: "comments", type: .hasMany, target: "comments", onDelete: .cascade),
            ]),
        ])
    }
}
