import Foundation
import Hummingbird
import WarrenCore

/// `GET /-/api/audit?since=RFC3339&limit=N`: the audit events of every replica, oldest
/// first, for admins (`admin` on `*`) only.
struct AuditAPI: Sendable {
    let access: AccessControl
    let store: any AuditStore

    func respond(_ request: Request, principal: Principal) async -> Response {
        guard case .user = principal else { return ProxyResponder.challenge("the audit log needs a Warren token") }
        guard access.policy.isAdministrator(principal) else {
            return ProxyResponder.text(.forbidden, "403 Forbidden: only admins read the audit log")
        }
        guard request.method == .get else { return ProxyResponder.text(.methodNotAllowed, "use GET") }
        let query = request.uri.queryParameters
        var since = 0.0
        if let text = query["since"].map(String.init), !text.isEmpty {
            guard let parsed = IndexFeed.parseTimestamp(text) else {
                return ProxyResponder.text(.badRequest, "since must be an RFC 3339 time in UTC")
            }
            since = parsed
        }
        let limit = min(max(Int(query["limit"].map(String.init) ?? "") ?? 1000, 1), 10_000)
        let events: [AuditRecord]
        do {
            events = try await store.auditEvents(since: since, limit: limit)
        } catch {
            return ProxyResponder.text(.serviceUnavailable, "the audit log's database is unavailable")
        }
        let list = events.map { e -> [String: Any] in
            var entry: [String: Any] = ["time": IndexFeed.timestamp(e.time), "action": e.action, "user": e.user, "result": e.result]
            if let token = e.token { entry["token"] = token }
            if let address = e.address { entry["address"] = address }
            if let target = e.target { entry["target"] = target }
            if let detail = e.detail { entry["detail"] = detail }
            return entry
        }
        return TokenAPI.json(.ok, list)
    }
}
