import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WarrenCore

/// `/-/api/tokens`: tokens over HTTP, for scripts and the console, with the same rules as
/// `warren token`. Everyone with a token may list, create and revoke their own; admins
/// (`admin` on `*`) anyone's, and may give a new token any user and groups. A new token
/// never has more groups than its creator unless an admin made it. Credentials come in
/// the Authorization header only (no cookies), so no other site can make a browser call
/// this.
///
///     GET    /-/api/tokens          → [{"id","user","groups","scopes","created","expires","lastUsed","status"}]
///     POST   /-/api/tokens          {"user","groups","scopes","expires":"90d"} → 201 {"id","token"}
///     DELETE /-/api/tokens/ID       → 204
struct TokenAPI: Sendable {
    let access: AccessControl
    let tokens: TokenCache

    func respond(_ request: Request, path: String, principal: Principal, address: String?) async -> Response {
        guard case .user(let caller) = principal else {
            return ProxyResponder.challenge("the token API needs a Warren token")
        }
        let admin = access.policy.isAdministrator(principal)
        let rest = path.dropFirst("/-/api/tokens".count)
        switch (request.method, rest) {
        case (.get, ""), (.get, "/"):
            return await list(caller: caller, admin: admin)
        case (.post, ""), (.post, "/"):
            return await create(request, caller: caller, admin: admin, principal: principal, address: address)
        case (.delete, _) where rest.hasPrefix("/") && rest.count > 1:
            return await revoke(String(rest.dropFirst()), caller: caller, admin: admin, principal: principal, address: address)
        default:
            return ProxyResponder.text(.methodNotAllowed, "use GET or POST on /-/api/tokens, DELETE on /-/api/tokens/ID")
        }
    }

    func list(caller: UserIdentity, admin: Bool) async -> Response {
        let records: [TokenRecord]
        do {
            records = try await tokens.store.tokens()
        } catch {
            return ProxyResponder.text(.serviceUnavailable, "the token store is unavailable")
        }
        let now = Date().timeIntervalSince1970
        let time = { (t: Double?) in t.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0)) } }
        let visible = records.filter { admin || $0.user == caller.name }.map { r -> [String: Any] in
            var entry: [String: Any] = ["id": r.id, "user": r.user, "groups": r.groups, "scopes": r.scopes,
                                        "status": r.revokedAt != nil ? "revoked" : r.isActive(at: now) ? "active" : "expired"]
            entry["created"] = time(r.createdAt)
            entry["expires"] = time(r.expiresAt) ?? NSNull()
            entry["lastUsed"] = time(r.lastUsed) ?? NSNull()
            return entry
        }
        return Self.json(.ok, visible)
    }

    func create(_ request: Request, caller: UserIdentity, admin: Bool, principal: Principal, address: String?) async -> Response {
        guard let body = try? await request.body.collect(upTo: 64 * 1024),
              let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] else {
            return ProxyResponder.text(.badRequest, "want a JSON object: {\"user\",\"groups\",\"scopes\",\"expires\"}")
        }
        let user = object["user"] as? String ?? caller.name
        let groups = object["groups"] as? [String] ?? caller.groups
        let scopes = object["scopes"] as? [String] ?? []
        guard admin || (user == caller.name && Set(groups).isSubset(of: Set(caller.groups))) else {
            return ProxyResponder.text(.forbidden, "403 Forbidden: only admins make tokens for other users or other groups")
        }
        guard !user.isEmpty, !user.contains(where: { $0.isWhitespace || $0 == ":" }) else {
            return ProxyResponder.text(.badRequest, "user must be a name without spaces")
        }
        for scope in scopes {
            do { _ = try AccessScope(scope) } catch { return ProxyResponder.text(.badRequest, "\(error)") }
        }
        var lifetime: Double? = 90 * 86400
        if let text = object["expires"] as? String {
            guard let parsed = TokenLifetime.parse(text) else {
                return ProxyResponder.text(.badRequest, "expires: want a number of d, h, m or s (90d), or never")
            }
            lifetime = parsed
        }
        // Never longer-lived than the creator's own token, unless an admin asks.
        if !admin, let id = caller.tokenID, let own = tokens.expiry(of: id) {
            let now = Date().timeIntervalSince1970
            lifetime = min(lifetime ?? .infinity, own - now)
        }
        let token = AccessToken.generate()
        let now = Date().timeIntervalSince1970
        let record = TokenRecord(id: token.id, user: user, groups: groups, scopes: scopes, secretHash: token.secretHash,
                                 createdAt: now, expiresAt: lifetime.map { now + $0 })
        do {
            try await tokens.store.insertToken(record)
            _ = try? await tokens.refresh()
        } catch {
            return ProxyResponder.text(.serviceUnavailable, "the token store is unavailable")
        }
        access.audit?.record(.init(action: "token.create", principal: principal, address: address, target: "token \(token.id) for \(user)",
                                   result: "done"))
        return Self.json(.created, ["id": token.id, "token": token.text])
    }

    func revoke(_ id: String, caller: UserIdentity, admin: Bool, principal: Principal, address: String?) async -> Response {
        let records = (try? await tokens.store.tokens()) ?? []
        guard let record = records.first(where: { $0.id == id }), record.revokedAt == nil else {
            return ProxyResponder.text(.notFound, "no active token \(id.prefix(40))")
        }
        guard admin || record.user == caller.name else {
            return ProxyResponder.text(.forbidden, "403 Forbidden: only admins revoke other users' tokens")
        }
        do {
            _ = try await tokens.store.revokeToken(id: id, at: Date().timeIntervalSince1970)
        } catch {
            return ProxyResponder.text(.serviceUnavailable, "the token store is unavailable")
        }
        tokens.forget(id: id)
        access.audit?.record(.init(action: "token.revoke", principal: principal, address: address, target: "token \(id)", result: "done"))
        return Response(status: .noContent)
    }

    static func json(_ status: HTTPResponse.Status, _ value: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
