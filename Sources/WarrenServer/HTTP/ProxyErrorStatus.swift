import HTTPTypes
import WarrenCore

extension ProxyError.Kind {
    /// The status a GOPROXY client gets for each kind of failure. The go command treats
    /// 404 and 410 as "not here, try the next proxy" and anything else as an error, so
    /// only a true absence may become one of those.
    public var httpStatus: HTTPResponse.Status {
        switch self {
        case .badRequest: return .badRequest
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .gone: return .gone
        case .upstreamFailed: return .badGateway
        case .upstreamTimedOut: return .gatewayTimeout
        case .internalFailure: return .internalServerError
        case .unavailable: return .serviceUnavailable
        case .conflict: return .conflict
        case .tooLarge: return .contentTooLarge
        case .policyDenied: return .forbidden
        }
    }
}

extension ProxyError {
    /// The HTTP status code answered for this error.
    public var statusCode: Int { kind.httpStatus.code }
}
