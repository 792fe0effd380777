extension SQLiteDatabase {
    /// Writes a consistent copy of the live database to `path` with the online backup API
    /// (spec 07: `triggerbase backup`), from a read-only connection, so writes go on meanwhile.
    /// Blocks the caller until the copy is complete.
    public func backup(to path: String) throws(StorageError) {
        do {
            try threads.onReader { connection in try connection.backup(to: path) }
        } catch let error as StorageError {
            throw error
        } catch {
            throw .misuse("\(error)")
        }
    }
}
