import JSON
import Model

/// The collections themselves: their tables (DDL, built by `SchemaBuilder` through the dialect)
/// and their stored definitions (the catalogue), inside the caller's write. Which changes are
/// allowed, and the catalogue the requests see, is `SchemaState`'s (Records).
package protocol SchemaStore {
    /// Every stored collection definition over the built-in ones, in creation order.
    func catalogue() throws -> Catalogue
    /// Whether record workflow `definition` has a published version (a collection may be bound to it).
    func hasPublishedRecordWorkflow(_ definition: String) throws -> Bool
    /// Creates the tables, columns, join tables and indexes that take the database from `old` to `new`.
    func migrate(from old: Catalogue, to new: Catalogue) throws
    /// Stores `definition` as collection `name`'s, inserted with `createdAt` or replacing the stored one.
    func saveDefinition(_ definition: JSON, of name: String, createdAt: String) throws
    /// Drops collection `name`'s table and its join tables `joinTables`, and forgets its definition.
    func dropCollection(_ name: String, joinTables: [String]) throws
    /// Drops field `name` of `collection` (its indexes and column) and stores `definition`, the
    /// collection's definition without it.
    func dropField(_ name: String, of collection: String, definition: JSON) throws
    /// Whether any record of `collection` holds a value (not NULL) in column `name`.
    func hasValues(_ name: String, of collection: String) throws -> Bool
}
