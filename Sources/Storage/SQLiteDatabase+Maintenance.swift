import Logging

extension SQLiteDatabase {
    /// Applies TriggerBase's own migrations (`SystemMigrations.all`) not yet recorded.
    package func migrate() throws(StorageError) {
        try migrate(SystemMigrations.all)
    }

    /// Applies the `migrations` not yet recorded in `_migrations`, in version order, each in its
    /// own transaction together with its record (spec 07: numbered migrations, recorded in the
    /// database). Runs on the writer thread between batches; blocks the caller until done, so call
    /// it at startup, not from a write.
    ///
    /// Throws `.databaseNewerThanBinary` when the database records a version above the highest
    /// in `migrations` (spec 07: "a newer database than the binary refuses to start").
    public func migrate(_ migrations: [Migration]) throws(StorageError) {
        guard !writerThread.isCurrent else { throw .misuse("migrate cannot be called from a write") }
        let outcome = Handoff<StorageError?>()
        let logger = self.logger
        let accepted = writer.queue.enqueue(.exclusive { connection in
            do throws(StorageError) {
                try MigrationRunner(connection: connection, logger: logger).apply(migrations)
                outcome.put(nil)
            } catch {
                outcome.put(error)
            }
        })
        guard accepted else { throw .closed }
        if let error = outcome.wait() { throw error }
    }

    /// Writes a consistent copy of the live database to `path` with the online backup API
    /// (spec 07: `triggerbase backup`), from a read-only connection, so writes go on meanwhile.
    /// Blocks the caller until the copy is complete.
    public func backup(to path: String) throws(StorageError) {
        guard !readerThreads.contains(where: \.isCurrent) else {
            throw .misuse("backup cannot be called from a read")
        }
        let outcome = Handoff<StorageError?>()
        let accepted = readQueue.enqueue { connection in
            do throws(StorageError) {
                try connection.backup(to: path)
                outcome.put(nil)
            } catch {
                outcome.put(error)
            }
        }
        guard accepted else { throw .closed }
        if let error = outcome.wait() { throw error }
    }
}
