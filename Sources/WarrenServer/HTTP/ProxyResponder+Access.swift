import HTTPTypes
import Hummingbird
import NIOCore
import WarrenCore

/// Access checks on the ordinary path: who asks (the `Authorization` header), whether
/// they may have the module, and the answers the go command understands when not:
/// 401 with a `WWW-Authenticate` challenge (it then sends `.netrc` credentials), 403
/// with a one-line reason it prints, 404 when refusals are hidden, 429 after too many
/// failures. Every refusal goes to the audit log.
extension ProxyResponder {
    static let wwwAuthenticate = HTTPField.Name("WWW-Authenticate")!

    /// The principal and whether it may fetch, or the answer that refuses it.
    func checkAccess(_ access: AccessControl, request: Request, context: Context, module: String?,
                     action: String) async -> Result<(Principal, fetch: Bool), RefusedAccess> {
        let address = context.channel.remoteAddress?.ipAddress
        var authorization = request.headers[.authorization]
        // A browser's session cookie counts when it names a live session; a stale one is
        // ignored (the browser then browses as anyone would), never counted as a guess.
        if authorization == nil, let session = LoginFlow.sessionAuthorization(request),
           case .principal(let who) = access.authenticator.peek(authorization: session), who != .anonymous {
            authorization = session
        }
        let verdict = await access.check(authorization: authorization, address: address, module: module)
        let response: Response
        let result: String
        switch verdict {
        case .granted(let principal, let fetch):
            return .success((principal, fetch))
        case .unauthenticated(let reason):
            var r = Self.text(.unauthorized, "401 Unauthorized: " + reason)
            r.headers[Self.wwwAuthenticate] = "Basic realm=\"warren\""
            (response, result) = (r, "unauthenticated: " + reason)
        case .forbidden(let reason):
            (response, result) = (Self.text(.forbidden, "403 Forbidden: " + reason), "forbidden: " + reason)
        case .hidden:
            (response, result) = (Self.text(.notFound, "not found"), "hidden")
        case .unavailable(let reason):
            (response, result) = (Self.text(.serviceUnavailable, reason), "unavailable")
        case .throttled(let wait):
            var r = Self.text(.tooManyRequests, "too many failed authentications from here; try again in \(wait) s")
            r.headers[.retryAfter] = String(wait)
            (response, result) = (r, "throttled")
        }
        access.audit?.record(.init(action: action, principal: Self.principalForAudit(access, request), address: address,
                                   target: module, result: "denied", detail: result))
        return .failure(RefusedAccess(response: response))
    }

    /// Who a refused request claimed to be, for the audit log: the token's user when it
    /// was good, else anonymous (never the credentials themselves).
    static func principalForAudit(_ access: AccessControl, _ request: Request) -> Principal {
        if case .principal(let principal) = access.authenticator.peek(authorization: request.headers[.authorization]) { return principal }
        return .anonymous
    }

    /// 401 with the challenge the go command answers with `.netrc` credentials.
    static func challenge(_ reason: String) -> Response {
        var r = text(.unauthorized, "401 Unauthorized: " + reason)
        r.headers[wwwAuthenticate] = "Basic realm=\"warren\""
        return r
    }

    /// A read-only caller asked for something that is not cached: say so plainly.
    static func fetchRefused(_ principal: Principal, module: String) -> Response {
        switch principal {
        case .anonymous:
            var r = text(.unauthorized, "401 Unauthorized: \(module) is not cached here, and fetching it needs a Warren token")
            r.headers[wwwAuthenticate] = "Basic realm=\"warren\""
            return r
        case .user(let identity):
            return text(.forbidden, "403 Forbidden: \(identity.name) may read what is cached of \(module) but not fetch it, and it is not cached")
        }
    }
}

struct RefusedAccess: Error {
    let response: Response
}
