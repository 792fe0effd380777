// libFuzzer target for `HTTPRequestParser` (bench/fuzz/run.sh compiles it together with
// Sources/HTTPServer/HTTPRequestParser.swift, HTTPRequest.swift and HTTPError.swift).
//
// The first input byte picks a chunk size; the rest is the byte stream from a client. The stream
// is parsed twice, fed whole and fed in chunks of that size, and the two runs must give the same
// requests and the same error: framing must never depend on how TCP split the bytes. Every
// request must also respect the limits.

private let limits = HTTPRequestParser.Limits(maxHeadBytes: 1024, maxHeaderCount: 16, maxBodyBytes: 4096)

private enum Outcome: Equatable {
    case request(method: String, target: String, version: String, headers: [String], body: [UInt8], keepAlive: Bool)
    case failure(Int, String)
}

private func parse(_ bytes: ArraySlice<UInt8>, chunk: Int) -> [Outcome] {
    var parser = HTTPRequestParser(limits: limits)
    var outcomes: [Outcome] = []
    var offset = bytes.startIndex
    repeat {
        let end = min(bytes.endIndex, offset + chunk)
        parser.feed(Array(bytes[offset..<end]))
        offset = end
        drain: while true {
            switch parser.next() {
            case .needMore:
                break drain
            case .continueExpected:
                continue
            case .request(let request):
                precondition(request.body.count <= limits.maxBodyBytes, "body over the limit")
                precondition(request.headers.count <= limits.maxHeaderCount, "too many headers")
                outcomes.append(.request(method: request.method, target: request.target,
                                         version: request.version.description,
                                         headers: request.headers.map { "\($0.name): \($0.value)" },
                                         body: request.body, keepAlive: request.keepAlive))
            case .failure(let error):
                precondition([400, 408, 413, 417, 431, 501, 505].contains(error.status), "unexpected status \(error.status)")
                outcomes.append(.failure(error.status, error.code))
                precondition(parser.hasFailed)
                guard case .needMore = parser.next() else { preconditionFailure("a failed parser produced another event") }
                return outcomes
            }
        }
    } while offset < bytes.endIndex
    return outcomes
}

@_cdecl("LLVMFuzzerTestOneInput")
public func httpParserFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let chunk = Int(bytes[0] % 17) + 1
    let stream = bytes[1...]
    let whole = parse(stream, chunk: max(1, stream.count))
    let pieces = parse(stream, chunk: chunk)
    precondition(whole == pieces, "fed whole: \(whole)\nfed in chunks of \(chunk): \(pieces)")
    return 0
}
