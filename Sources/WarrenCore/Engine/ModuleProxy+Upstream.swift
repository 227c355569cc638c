import GoModule

/// Asking the upstream chain, and what its failures mean to a client.
extension ModuleProxy {
    /// Fetches a small artifact through the chain, collecting and validating it per
    /// upstream, so that a malformed answer falls through like a failure.
    func fetchSmall(_ request: ProxyRequest, endpoint: String, module: String, version: String?,
                    _ transform: @escaping @Sendable ([UInt8]) throws -> [UInt8]) async throws(ProxyError) -> ([UInt8], String) {
        do {
            return try await chain.first(request, endpoint: endpoint) { upstream, response in
                let bytes = try await response.body.collect(limit: Self.smallLimit)
                do {
                    return try transform(bytes)
                } catch let e as ProxyError {
                    throw UpstreamFailure.failed(message: "\(upstream.name): \(e.message)")
                }
            }
        } catch {
            throw Self.proxyError(error, module: module, version: version)
        }
    }

    static func proxyError(_ failure: UpstreamFailure, module: String, version: String?) -> ProxyError {
        let what = version.map { "\(module)@\($0)" } ?? module
        switch failure {
        case .notFound(let status, let message):
            return .notFound("\(what): not found upstream: \(message)", gone: status == 410)
        case .refused(let status, let message):
            return ProxyError(status == 403 ? .forbidden : .upstreamFailed, "\(what): upstream refused: \(message)")
        case .failed(let message):
            return .upstreamFailed("\(what): \(message)")
        case .timedOut(let message):
            return .upstreamTimedOut("\(what): \(message)")
        case .disabled:
            return .forbidden("\(what): fetching modules is disabled (upstream list ends in off)")
        }
    }

    static func notCached(_ module: String, _ version: String?) -> ProxyError {
        .notFound("\(version.map { "\(module)@\($0)" } ?? module): not cached, and Disable-Module-Fetch is set")
    }
}
