import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// The column names relations store (issue 15 item 5): computed in `Catalogue` only, and pinned
/// here because existing databases hold them.
@Suite struct CatalogueTests {
    @Test(arguments: [
        ("posts", "tags", "postId", "tagId"),
        // Not English, on purpose (`categorieId`, `addresId`): existing databases already hold these.
        ("categories", "posts", "categorieId", "postId"),
        ("s", "news", "sId", "newId"),
        ("staff", "address", "staffId", "addresId"),
    ])
    func belongsToManyJoinColumns_keepTheNaiveSingularRule(collection: String, target: String, source: String, other: String) {
        let field = FieldDefinition(name: "links", type: .belongsToMany, target: target)
        let columns = Catalogue.joinColumns(of: field, in: collection)
        #expect(columns.source == source)
        #expect(columns.target == other)
    }

    @Test func relationDefaults_useTheStoredNames() throws {
        let catalogue = try Catalogue.base.adding([
            CollectionDefinition(name: "categories", fields: [
                FieldDefinition(name: "title", type: .string),
                FieldDefinition(name: "posts", type: .hasMany, target: "posts"),
                FieldDefinition(name: "tags", type: .belongsToMany, target: "tags"),
            ]),
            CollectionDefinition(name: "posts", fields: [
                FieldDefinition(name: "category", type: .belongsTo, target: "categories"),
            ]),
            CollectionDefinition(name: "tags", fields: []),
        ])
        #expect(catalogue.collection("categories")?.field("posts")?.foreignKey == "categorieId")
        #expect(catalogue.collection("categories")?.field("tags")?.through == "categories_tags")
        #expect(catalogue.collection("posts")?.field("category")?.foreignKey == "categoryId")
        #expect(catalogue.foreignColumns("posts").map(\.column) == ["categorieId"])
    }
}
