import Testing
@testable import HTTPServer

/// The event loop's timer heap: order, lazy cancellation, moved deadlines, many entries.
struct DeadlineQueueTests {
    /// Pops everything due at `now` that its owner's slot still holds.
    static func popAll(_ queue: inout DeadlineQueue, now: UInt64, slots: [UInt64: DeadlineQueue.Slot]) -> [UInt64] {
        var ids: [UInt64] = []
        while let entry = queue.popDue(now: now, isLive: { slots[$0.connectionID]?.holds($0) == true }) {
            ids.append(entry.connectionID)
        }
        return ids
    }

    @Test func dueEntriesComeOutInDeadlineOrder_andLaterOnesStay() {
        var queue = DeadlineQueue()
        var slots: [UInt64: DeadlineQueue.Slot] = [:]
        for (id, deadline) in [(1, 50), (2, 10), (3, 30), (4, 70), (5, 20)] as [(UInt64, UInt64)] {
            var slot = DeadlineQueue.Slot()
            queue.schedule(deadline, for: id, slot: &slot)
            slots[id] = slot
        }
        #expect(queue.first?.deadline == 10)
        #expect(Self.popAll(&queue, now: 49, slots: slots) == [2, 5, 3])
        #expect(queue.count == 2)
        #expect(Self.popAll(&queue, now: 100, slots: slots) == [1, 4])
        #expect(queue.isEmpty)
    }

    @Test func aCancelledEntryNeverFires() {
        var queue = DeadlineQueue()
        var a = DeadlineQueue.Slot(), b = DeadlineQueue.Slot()
        queue.schedule(10, for: 1, slot: &a)
        queue.schedule(20, for: 2, slot: &b)
        a.cancel()
        #expect(Self.popAll(&queue, now: 100, slots: [1: a, 2: b]) == [2])
    }

    @Test func anEarlierDeadlineReplacesTheScheduledOne() {
        var queue = DeadlineQueue()
        var slot = DeadlineQueue.Slot()
        #expect(queue.schedule(60, for: 1, slot: &slot))
        #expect(queue.schedule(10, for: 1, slot: &slot))
        #expect(slot.scheduled == 10)
        #expect(Self.popAll(&queue, now: 10, slots: [1: slot]) == [1])
        // The old, later entry is stale: it is dropped when it comes due.
        #expect(Self.popAll(&queue, now: 100, slots: [1: slot]) == [])
    }

    @Test func aLaterDeadlinePushesNothing_theEarlierEntryFiresAndTheOwnerReschedules() {
        var queue = DeadlineQueue()
        var slot = DeadlineQueue.Slot()
        queue.schedule(10, for: 1, slot: &slot)
        #expect(!queue.schedule(60, for: 1, slot: &slot))  // activity moved it back
        #expect(queue.count == 1)
        #expect(Self.popAll(&queue, now: 10, slots: [1: slot]) == [1])
        slot.cancel()  // the loop empties the slot, finds nothing due yet, and schedules again
        #expect(queue.schedule(60, for: 1, slot: &slot))
        #expect(Self.popAll(&queue, now: 59, slots: [1: slot]) == [])
        #expect(Self.popAll(&queue, now: 60, slots: [1: slot]) == [1])
    }

    @Test func manyEntriesComeOutSorted_andCompactKeepsOnlyLiveOnes() {
        var queue = DeadlineQueue()
        var slots: [UInt64: DeadlineQueue.Slot] = [:]
        var generator = SystemRandomNumberGenerator()
        var deadlines: [UInt64: UInt64] = [:]
        for id in UInt64(0)..<10_000 {
            var slot = DeadlineQueue.Slot()
            let deadline = UInt64.random(in: 0..<1_000_000, using: &generator)
            queue.schedule(deadline, for: id, slot: &slot)
            if id % 3 == 0 { slot.cancel() } else { deadlines[id] = deadline }
            slots[id] = slot
        }
        queue.compact { slots[$0.connectionID]?.holds($0) == true }
        #expect(queue.count == deadlines.count)
        var previous: UInt64 = 0
        var popped = 0
        while let entry = queue.popDue(now: .max, isLive: { slots[$0.connectionID]?.holds($0) == true }) {
            #expect(entry.deadline >= previous)
            #expect(deadlines[entry.connectionID] == entry.deadline)
            previous = entry.deadline
            popped += 1
        }
        #expect(popped == deadlines.count)
    }
}
