import JSON

/// One stored version of a record-workflow definition (spec 06): "0.1", "0.2" … while
/// unpublished, "1.0" once published, then "1.1" …; `definition` is the JSON as saved.
package struct RecordWorkflowVersion: Sendable, Equatable {
    package var id: String
    package var major: Int64
    package var minor: Int64
    package var published: Bool
    package var definition: JSON

    package init(id: String, major: Int64, minor: Int64, published: Bool, definition: JSON) {
        self.id = id
        self.major = major
        self.minor = minor
        self.published = published
        self.definition = definition
    }

    /// `major.minor`, as the API shows it.
    package var version: String { "\(major).\(minor)" }
}

/// One transition a record went through: the event invoked, the states left and entered, the
/// event's data and who invoked it, when.
package struct RecordWorkflowHistoryEntry: Sendable, Equatable {
    /// Assigned when stored; ignored by `appendHistory`.
    package var id: Int64
    package var collection: String
    package var recordID: Int64
    package var event: String
    package var from: String?
    package var to: String?
    package var data: JSON
    package var userID: Int64?
    package var at: String

    package init(id: Int64 = 0, collection: String, recordID: Int64, event: String, from: String?, to: String?, data: JSON,
                 userID: Int64?, at: String) {
        self.id = id
        self.collection = collection
        self.recordID = recordID
        self.event = event
        self.from = from
        self.to = to
        self.data = data
        self.userID = userID
        self.at = at
    }
}

/// Record-workflow definitions (every version kept), the workflow columns of a bound
/// collection's records (`workflowState`, `workflowVersion`, `published`, `publishedAt`) and the
/// transition history, inside the caller's transaction. `collection` is a name the catalogue
/// holds, bound to a record workflow.
package protocol RecordWorkflowStore {
    // MARK: Definitions

    /// The ids of every stored definition, in order.
    func definitionIDs() throws -> [String]
    /// The latest version of the definition `id` (of its published versions only, when
    /// `publishedOnly`); nil when there is none.
    func latestVersion(of id: String, publishedOnly: Bool) throws -> RecordWorkflowVersion?
    /// Stores `version` unpublished, whatever its `published` says, with the state a record starts in.
    func insertVersion(_ version: RecordWorkflowVersion, initialState: String, at now: String, createdBy userID: Int64?) throws
    /// Stores a copy of the version `major.minor` of `id` as `(major + 1).0`, published; its
    /// creator stays the copied version's.
    func insertPublishedCopy(of id: String, major: Int64, minor: Int64, at now: String) throws

    // MARK: Records of bound collections

    /// Moves the record to `state`, counting one more transition (`workflowVersion`), as an update by `userID`.
    func setState(_ state: String, collection: String, recordID: Int64, at now: String, by userID: Int64?) throws
    /// Marks the record published at `now`, or unpublished (`now` is then ignored).
    func setPublished(_ published: Bool, collection: String, recordID: Int64, at now: String) throws

    // MARK: History

    /// Appends one transition to the record's history.
    func appendHistory(_ entry: RecordWorkflowHistoryEntry) throws
    /// The record's transitions, oldest first.
    func history(collection: String, recordID: Int64) throws -> [RecordWorkflowHistoryEntry]
}
