import HTTPServer
import JSON
import Model
import Workflows

/// How the outcome of a write that may fire workflows becomes the HTTP answer.
extension WorkflowRuntime {
    /// The answer to a committed write that fired no sync workflow (`answersAtOnce`).
    package func immediateResponse(_ outcome: WriteOutcome, requestID: String) -> HTTPResponse {
        finish(ResourceService.ok(outcome.data), outcome.fired, requestID: requestID)
    }

    /// Whether the answer to `outcome` needs nothing more than the write (no sync workflow to run).
    package func answersAtOnce(_ outcome: WriteOutcome) -> Bool { outcome.fired.syncExecutionIDs.isEmpty }

    /// The answer to a write once it committed, after running its sync workflows in order: 200
    /// with `messages`, 400 when an `end` node failed it, 500 `WORKFLOW_FAILED` otherwise.
    package func response(_ outcome: WriteOutcome, requestID: String) async -> HTTPResponse {
        if answersAtOnce(outcome) { return immediateResponse(outcome, requestID: requestID) }
        let response: HTTPResponse
        switch await runSync(outcome.fired.syncExecutionIDs) {
        case .resolved(let messages):
            response = .json(JSON.object(["data": outcome.data, "messages": .array(messages)]).serializedBytes())
        case .endFailed(let messages):
            // NocoBase answers the messages alone; without any, say why instead of an empty list.
            let errors: [JSON] = messages.isEmpty
                ? [["message": "a workflow on this action ended as failed; the write itself is committed", "code": "WORKFLOW_ENDED_FAILED"]]
                : messages
            response = .json(status: 400, JSON.object(["errors": .array(errors)]).serializedBytes())
        case .failed(let id):
            response = DomainError(.internalFailure, code: "WORKFLOW_FAILED",
                                message: "workflow execution \(id) on this action failed; the write itself is committed").response
        }
        return finish(response, outcome.fired, requestID: requestID)
    }

    private func finish(_ response: HTTPResponse, _ fired: FiredWorkflows, requestID: String) -> HTTPResponse {
        if !fired.ignored.isEmpty {
            logger.info("workflows not fired", ["requestId": .string(requestID),
                                                "ignored": .string(fired.ignored.map { "\($0.key)=\($0.reason)" }.joined(separator: ","))])
        }
        var response = response
        for (name, value) in fired.headers { response.addHeader(name, value) }
        return response
    }
}
