import CSQLite

extension SQLiteConnection {
    /// Copies this connection's `main` database into the file at `path` with the online backup
    /// API (sqlite.org/backup.html), in one step, so the copy is one consistent snapshot even
    /// while others write. An existing file is overwritten. The copy is switched to
    /// `journal_mode = DELETE` so it is a single self-contained file.
    public func backup(to path: String) throws(StorageError) {
        let source = try openHandle()
        let destination = try SQLiteConnection(path: path, mode: .readWrite)
        let target = try destination.openHandle()
        guard let backup = sqlite3_backup_init(target, "main", source, "main") else {
            throw destination.lastError(sql: nil)
        }
        let stepResult = sqlite3_backup_step(backup, -1)
        let finishResult = sqlite3_backup_finish(backup)
        guard stepResult == SQLITE_DONE else {
            throw .sqlite(stepResult, duringWrite: true)
        }
        guard finishResult == SQLITE_OK else { throw destination.lastError(sql: nil) }
        try destination.execute("PRAGMA journal_mode = DELETE")
        destination.close()
    }
}
