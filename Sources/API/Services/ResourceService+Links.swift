import HTTPServer
import JSON
import Model
import Records

extension ResourceService {
    /// `/api/<c>/<id>/<relation>:add|set|remove|toggle`: the targets come from `filterByTk` (comma
    /// list, repeats or `filterByTk[]`), or else from a body array of ids (or one id). Answers 200
    /// `{}` (`toggle`: `{"data": "ok"}`), as NocoBase does. The caller needs `update` on the parent,
    /// whose scope the caller (`Application.association`) has checked. Link changes fire no
    /// post-action workflows: they are not actions on the parent's collection.
    package func link(_ action: LinkAction, field: FieldDefinition, of collection: String, id: Int64, request: HTTPRequest,
              query: QueryParameters) async throws -> HTTPResponse {
        let targets: [Int64]
        if let keys = try query.primaryKeys() {
            targets = keys
        } else if request.body.isEmpty {
            targets = []
        } else {
            switch try Self.parseBody(request.body) {
            case .array(let items):
                targets = try items.map { item throws(DomainError) in
                    guard let value = item.intValue ?? item["id"]?.intValue, value > 0 else { throw DomainError.validation("values", "ids must be positive integers") }
                    return value
                }
            case .int(let value) where value > 0: targets = [value]
            default: throw DomainError.badRequest("the records to \(action.rawValue): filterByTk, or a body array of ids")
            }
        }
        if targets.isEmpty && action != .set && !(action == .remove && !field.type.isToMany) {
            throw DomainError.invalidParameter("filterByTk", "name the records to \(action.rawValue)")
        }
        let schema = self.schema
        try await database.write { connection in
            var writer = RecordWriter(connection: connection, catalogue: schema.writerCatalogue, actorID: nil)
            try writer.link(action, field: field, of: collection, id: id, targets: targets)
        }
        return action == .toggle ? Self.ok("ok") : .json(Array("{}".utf8))
    }
}
