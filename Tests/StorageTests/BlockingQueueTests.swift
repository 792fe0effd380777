import Testing
@testable import Storage

struct BlockingQueueTests {
    @Test func take_returnsElementsInOrderUpToTheLimit() {
        let queue = BlockingQueue<Int>()
        for value in 0..<5 { #expect(queue.enqueue(value)) }
        var batch: [Int] = []
        #expect(queue.take(upTo: 2, into: &batch))
        #expect(batch == [0, 1])
        batch.removeAll()
        #expect(queue.take(upTo: 10, into: &batch))
        #expect(batch == [2, 3, 4])
    }

    @Test func longBacklog_isConsumedInOrderAcrossCompactions() {
        let queue = BlockingQueue<Int>()
        var taken: [Int] = []
        var batch: [Int] = []
        for value in 0..<5000 { _ = queue.enqueue(value) }
        for round in 0..<3000 {
            _ = queue.enqueue(5000 + round)
            #expect(queue.take(upTo: 3, into: &batch))
            taken += batch
            batch.removeAll()
        }
        while taken.count < 8000, queue.take(upTo: 100, into: &batch) {
            taken += batch
            batch.removeAll()
        }
        #expect(taken == Array(0..<8000))
    }

    @Test func closedQueue_refusesNewElementsAndDrainsTheRest() {
        let queue = BlockingQueue<Int>()
        _ = queue.enqueue(1)
        queue.close()
        #expect(!queue.enqueue(2))
        var batch: [Int] = []
        #expect(queue.take(upTo: 10, into: &batch))
        #expect(batch == [1])
        batch.removeAll()
        #expect(!queue.take(upTo: 10, into: &batch))
    }
}
