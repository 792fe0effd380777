import Auth
import HTTPServer
import JSON
import Model
import Records
import Storage

/// `/api/collections:list|get|create|destroy` and `/api/collections/<name>/fields:create` (spec 02).
package struct CollectionService: Sendable {
    package let database: any StorageBackend
    package let schema: SchemaState

    package func handle(action: String, request: HTTPRequest, query: QueryParameters, access: AccessCheck) async throws -> HTTPResponse {
        try APIRoutes.check(request.method, action: action, in: APIRoutes.collections, resource: "collections")
        try access.requireManager()
        let catalogue = schema.current
        switch action {
        case "list":
            let all = catalogue.userDefined.compactMap { catalogue.definitionJSON($0) }
            return ResourceService.ok(.array(all), meta: ["count": .int(Int64(all.count)), "page": 1,
                                                          "pageSize": .int(Int64(max(all.count, 1))), "totalPage": 1])
        case "get":
            let name = try Self.name(query)
            guard catalogue.collection(name)?.isBuiltIn == false, let json = catalogue.definitionJSON(name) else {
                throw DomainError.collectionNotFound(name)
            }
            return ResourceService.ok(json)
        case "create":
            let body = try ResourceService.parseBody(request.body)
            let items = body.arrayValue ?? [body]
            var definitions: [CollectionDefinition] = []
            for item in items { definitions.append(try CollectionDefinition.parse(item)) }
            for definition in definitions where catalogue.collection(definition.name) != nil {
                throw DomainError(.conflict, code: "COLLECTION_EXISTS", message: "collection '\(definition.name)' already exists")
            }
            let schema = self.schema
            let result = try await database.write { [definitions] connection -> [JSON] in
                let new = try schema.create(definitions, connection: connection)
                return definitions.compactMap { new.definitionJSON($0.name) }
            }
            return ResourceService.ok(body.arrayValue == nil ? result[0] : .array(result))
        case "destroy":
            let name = try Self.name(query)
            guard catalogue.collection(name)?.isBuiltIn == false else { throw DomainError.collectionNotFound(name) }
            let schema = self.schema
            try await database.write { connection in try schema.drop(name, connection: connection) }
            return ResourceService.ok(.int(1))
        default:
            throw DomainError(.notFound, code: "NOT_FOUND", message: "unknown action '\(action)'")
        }
    }

    /// `fields:create` adds a column (a migration applied at once); `fields:destroy?filterByTk=<field>`
    /// removes a scalar field, and needs `force=true` when the column holds data (spec 02).
    package func fields(collection: String, action: String, request: HTTPRequest, query: QueryParameters, access: AccessCheck) async throws -> HTTPResponse {
        try APIRoutes.check(request.method, action: action, in: APIRoutes.fields, resource: "fields")
        try access.requireManager()
        switch action {
        case "create": return try await addField(collection: collection, request: request)
        case "destroy": return try await removeField(collection: collection, request: request, query: query)
        default: throw DomainError(.notFound, code: "NOT_FOUND", message: "unknown action '\(action)'")
        }
    }

    private func removeField(collection: String, request: HTTPRequest, query: QueryParameters) async throws -> HTTPResponse {
        guard let definition = schema.current.collection(collection), !definition.isBuiltIn else { throw DomainError.collectionNotFound(collection) }
        let name = try Self.name(query)
        guard let field = definition.fields.first(where: { $0.name == name }) else {
            throw DomainError(.notFound, code: "NOT_FOUND", message: "'\(collection)' has no field '\(name)'")
        }
        guard !field.type.isRelation else {
            throw DomainError.validation(name, "relation fields cannot be removed; remove the collection instead")
        }
        let force = query["force"] == "true"
        let schema = self.schema
        try await database.write { connection in
            if try connection.schema.hasValues(name, of: collection) && !force {
                throw DomainError(.conflict, code: "FIELD_HAS_DATA", message: "field '\(name)' holds data; pass force=true to remove it", field: name)
            }
            try schema.removeField(name, of: collection, connection: connection)
        }
        return ResourceService.ok(.int(1))
    }

    private func addField(collection: String, request: HTTPRequest) async throws -> HTTPResponse {
        guard let existing = schema.current.collection(collection), !existing.isBuiltIn else { throw DomainError.collectionNotFound(collection) }
        let field = try FieldDefinition.parse(try ResourceService.parseBody(request.body), path: "field")
        if existing.field(field.name) != nil || CollectionDefinition.systemColumns.contains(field.name) {
            throw DomainError(.conflict, code: "FIELD_EXISTS", message: "field '\(field.name)' already exists", field: field.name)
        }
        if field.required && field.defaultValue == nil {
            let catalogue = schema.current
            let count = try await database.read { connection in try connection.records(catalogue).count(collection) }
            if count > 0 { throw DomainError.validation(field.name, "a required field added to a collection with records needs a default") }
        }
        let schema = self.schema
        let json = try await database.write { connection -> JSON in
            // Checked again against the writer's view: another request of the batch may have added it.
            guard let current = schema.writerCatalogue.collection(collection) else { throw DomainError.collectionNotFound(collection) }
            if current.field(field.name) != nil {
                throw DomainError(.conflict, code: "FIELD_EXISTS", message: "field '\(field.name)' already exists", field: field.name)
            }
            let new = try schema.apply([CollectionDefinition(name: collection, fields: [field])], connection: connection)
            return new.collection(collection)?.field(field.name)?.json ?? .null
        }
        return ResourceService.ok(json)
    }

    private static func name(_ query: QueryParameters) throws(DomainError) -> String {
        guard let name = query["filterByTk"], !name.isEmpty else { throw .invalidParameter("filterByTk", "the collection name is required") }
        guard Name.isValid(name) else { throw .invalidName(name) }
        return name
    }
}
