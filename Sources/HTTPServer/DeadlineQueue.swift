/// The event loop's timers: a binary min-heap of (deadline, connection id, generation).
///
/// Cancelling or moving a deadline does not search the heap: the connection bumps its generation
/// and pushes the new deadline, and entries whose generation no longer matches are dropped when
/// they reach the top (lazy invalidation, as in NIO's scheduled tasks). A tick therefore costs
/// O(k log n) for the k due entries instead of a scan of every connection.
struct DeadlineQueue {
    struct Entry: Equatable {
        /// Monotonic nanoseconds.
        var deadline: UInt64
        var connectionID: UInt64
        var generation: UInt64
    }

    /// One owner's handle on the queue (kept in its `Connection`): the deadline of its live entry
    /// and the generation that entry carries.
    struct Slot: Equatable {
        private(set) var scheduled: UInt64?
        private(set) var generation: UInt64 = 0

        init() {}

        /// Whether `entry` is this slot's live entry.
        func holds(_ entry: Entry) -> Bool { scheduled != nil && entry.generation == generation }

        /// Makes every entry pushed so far stale.
        mutating func cancel() {
            scheduled = nil
            generation &+= 1
        }

        fileprivate mutating func take(_ deadline: UInt64) -> UInt64 {
            generation &+= 1
            scheduled = deadline
            return generation
        }
    }

    private(set) var entries: [Entry] = []

    init() { entries.reserveCapacity(64) }

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The earliest entry, live or stale.
    var first: Entry? { entries.first }

    /// Makes `deadline` the owner's deadline when it is earlier than the one it has (or it has
    /// none); a later one is left out, and the earlier entry, when it fires, finds nothing due and
    /// schedules again. So activity that only pushes a deadline back costs nothing here.
    /// Returns whether an entry was pushed.
    @discardableResult
    mutating func schedule(_ deadline: UInt64, for id: UInt64, slot: inout Slot) -> Bool {
        if let scheduled = slot.scheduled, scheduled <= deadline { return false }
        push(Entry(deadline: deadline, connectionID: id, generation: slot.take(deadline)))
        return true
    }

    /// Removes and returns the earliest due entry that `isLive` accepts (its owner's slot still
    /// holds it), dropping stale ones on the way.
    mutating func popDue(now: UInt64, isLive: (Entry) -> Bool) -> Entry? {
        while let entry = popDue(now: now) {
            if isLive(entry) { return entry }
        }
        return nil
    }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        siftUp(entries.count - 1)
    }

    /// Removes and returns the earliest entry when it is due at `now`.
    mutating func popDue(now: UInt64) -> Entry? {
        guard let top = entries.first, top.deadline <= now else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            siftDown(0)
        }
        return top
    }

    /// Drops every entry `isLive` rejects, in O(n); the loop calls it when stale entries pile up.
    mutating func compact(keeping isLive: (Entry) -> Bool) {
        entries.removeAll { !isLive($0) }
        var index = entries.count / 2
        while index > 0 {
            index -= 1
            siftDown(index)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        let entry = entries[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard entry.deadline < entries[parent].deadline else { break }
            entries[child] = entries[parent]
            child = parent
        }
        entries[child] = entry
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let entry = entries[parent]
        let count = entries.count
        while true {
            var child = 2 * parent + 1
            guard child < count else { break }
            if child + 1 < count && entries[child + 1].deadline < entries[child].deadline { child += 1 }
            guard entries[child].deadline < entry.deadline else { break }
            entries[parent] = entries[child]
            parent = child
        }
        entries[parent] = entry
    }
}
