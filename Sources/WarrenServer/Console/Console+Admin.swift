import Foundation
import GoModule
import HTTPTypes
import Hummingbird
import WarrenCore

/// The admin pages: tokens (revoke), pins (pin, unpin), evicting a module, and the audit
/// log. Each action is a form post that answers with a redirect back to the page it came
/// from (so reloading never repeats it) and is written to the audit log.
extension Console {
    func adminRefusal(_ caller: Caller) -> Response? {
        guard access != nil else {
            return page(caller, "Admin", current: "admin", content: "<h1>Admin</h1><p>The admin pages need access control: start Warren with "
                        + "<code>--permissions</code> naming an admin. Without it, use <code>warren token</code> and <code>warren cache</code>.</p>",
                        status: .forbidden)
        }
        guard isAdmin(caller) else {
            return page(caller, "Admin", current: "admin", content: "<h1>Admin</h1><p>Only admins (<code>admin</code> on <code>*</code>) see these pages.</p>",
                        status: .forbidden)
        }
        return nil
    }

    func admin(_ caller: Caller, notice: String?, error: String?) async -> Response {
        if let refusal = adminRefusal(caller) { return refusal }
        var content = "<h1>Admin</h1>" + ConsoleHTML.notice(notice) + ConsoleHTML.notice(error, error: true)
        content += await tokensSection(caller)
        content += await pinsSection(caller)
        content += "<h2>Evict a module</h2><form method=\"post\" action=\"/-/admin/evict\" id=\"evict-form\">\(formFields(caller, back: "/-/admin"))"
            + "<label>Module <input name=\"module\" id=\"evict-module\" required size=\"40\"></label> "
            + "<label>Version <input name=\"version\" id=\"evict-version\" size=\"14\" placeholder=\"all\"></label> "
            + "<button type=\"submit\">Evict cached zips</button></form>"
            + "<p class=\"muted\">Hosted and pinned modules are never evicted. An evicted version is fetched and verified again when asked for.</p>"
        content += await auditSection()
        return page(caller, "Admin", current: "admin", content: content)
    }

    func tokensSection(_ caller: Caller) async -> String {
        guard let tokens = access?.authenticator.tokens else { return "" }
        var out = "<h2>Tokens</h2>"
        guard let records = try? await tokens.store.tokens() else { return out + ConsoleHTML.notice("the token store is unavailable", error: true) }
        let now = Date().timeIntervalSince1970
        out += "<table id=\"tokens\"><thead><tr><th>ID</th><th>User</th><th>Groups</th><th>Scopes</th><th>Created</th><th>Expires</th><th>Last used</th><th>Status</th><th></th></tr></thead><tbody>"
        for r in records.reversed() {
            let state = r.revokedAt != nil ? "revoked" : r.isActive(at: now) ? "active" : "expired"
            out += "<tr id=\"token-\(HTMLText.escaped(r.id))\"><td><code>\(HTMLText.escaped(r.id))</code></td><td>\(HTMLText.escaped(r.user))</td>"
                + "<td>\(HTMLText.escaped(r.groups.joined(separator: ", ")))</td><td>\(HTMLText.escaped(r.scopes.joined(separator: ", ")))</td>"
                + "<td>\(ConsoleHTML.time(r.createdAt))</td><td>\(r.expiresAt.map { ConsoleHTML.time($0) } ?? "never")</td><td>\(ConsoleHTML.time(r.lastUsed))</td>"
                + "<td>\(state)</td><td>"
            if state == "active" {
                out += "<form class=\"inline\" method=\"post\" action=\"/-/admin/revoke\">\(formFields(caller, back: "/-/admin"))"
                    + "<input type=\"hidden\" name=\"id\" value=\"\(HTMLText.escaped(r.id))\"><button type=\"submit\">Revoke</button></form>"
            }
            out += "</td></tr>"
        }
        return out + "</tbody></table><p class=\"muted\">New tokens: <code>warren token create</code>, <code>/-/api/tokens</code>, or signing in.</p>"
    }

    func pinsSection(_ caller: Caller) async -> String {
        guard let pins = index as? any PinStore else { return "" }
        var out = "<h2>Pinned modules</h2>"
        guard let patterns = try? await pins.pins() else { return out + ConsoleHTML.notice("the database is unavailable", error: true) }
        if patterns.isEmpty {
            out += "<p class=\"muted\" id=\"no-pins\">Nothing is pinned.</p>"
        } else {
            out += "<table id=\"pins\"><tbody>"
            for p in patterns {
                out += "<tr><td><code>\(HTMLText.escaped(p))</code></td><td><form class=\"inline\" method=\"post\" action=\"/-/admin/unpin\">"
                    + "\(formFields(caller, back: "/-/admin"))<input type=\"hidden\" name=\"pattern\" value=\"\(HTMLText.escaped(p))\">"
                    + "<button type=\"submit\">Unpin</button></form></td></tr>"
            }
            out += "</tbody></table>"
        }
        return out + "<form method=\"post\" action=\"/-/admin/pin\" id=\"pin-form\">\(formFields(caller, back: "/-/admin"))"
            + "<label>Pattern <input name=\"pattern\" id=\"pin-pattern\" required size=\"40\" placeholder=\"github.com/corp/*\"></label> "
            + "<button type=\"submit\">Pin</button></form>"
    }

    func auditSection() async -> String {
        guard let audit = access?.audit, let store = audit.store else { return "" }
        await audit.flush()
        var out = "<h2>Audit log</h2>"
        guard let events = try? await store.latestAuditEvents(targetPrefix: nil, limit: 100) else {
            return out + ConsoleHTML.notice("the audit log is unavailable", error: true)
        }
        out += "<table id=\"audit\"><thead><tr><th>When</th><th>Action</th><th>Who</th><th>From</th><th>Target</th><th>Result</th></tr></thead><tbody>"
        for e in events {
            out += "<tr><td>\(ConsoleHTML.time(e.time))</td><td>\(HTMLText.escaped(e.action))</td><td>\(HTMLText.escaped(e.user))</td>"
                + "<td>\(HTMLText.escaped(e.address ?? ""))</td><td>\(HTMLText.escaped(e.target ?? ""))</td>"
                + "<td>\(HTMLText.escaped(e.result))\(e.detail.map { " <span class=\"muted\">" + HTMLText.escaped($0) + "</span>" } ?? "")</td></tr>"
        }
        return out + "</tbody></table><p class=\"muted\">The latest 100 events. All of them: <code>/-/api/audit?since=…</code></p>"
    }

    // MARK: - Actions

    func post(_ request: Request, path: String, caller: Caller, context: WarrenRequestContext) async -> Response {
        if let refusal = adminRefusal(caller) { return refusal }
        let form = caller.form
        let address = context.channel.remoteAddress?.ipAddress
        func audit(_ action: String, _ target: String, _ result: String, _ detail: String? = nil) {
            access?.audit?.record(.init(action: action, principal: caller.principal, address: address, target: target, result: result, detail: detail))
        }
        func done(_ message: String) -> Response { Self.redirect(ConsoleForm.back(form["back"], "done", message)) }
        func failed(_ message: String) -> Response { Self.redirect(ConsoleForm.back(form["back"], "error", message)) }

        switch path {
        case "/-/admin/revoke":
            guard let tokens = access?.authenticator.tokens, let id = form["id"], !id.isEmpty else { return failed("no token named") }
            do {
                guard try await tokens.store.revokeToken(id: id, at: Date().timeIntervalSince1970) else { return failed("no active token \(id.prefix(40))") }
            } catch {
                return failed("the token store is unavailable")
            }
            tokens.forget(id: id)
            audit("token.revoke", "token \(id)", "done")
            return done("revoked token \(id)")
        case "/-/admin/pin", "/-/admin/unpin":
            guard let pins = index as? any PinStore else { return failed("pins need the metadata index") }
            let pattern = (form["pattern"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !pattern.isEmpty, !pattern.contains(","), (try? GlobPattern.match(pattern, "")) != nil else {
                return failed("malformed pattern \(pattern.prefix(100))")
            }
            do {
                if path == "/-/admin/pin" {
                    try await pins.pin(pattern)
                    audit("cache.pin", pattern, "done")
                    return done("pinned \(pattern)")
                }
                guard try await pins.unpin(pattern) else { return failed("\(pattern) was not pinned") }
                audit("cache.unpin", pattern, "done")
                return done("unpinned \(pattern)")
            } catch {
                return failed("the database is unavailable")
            }
        case "/-/admin/evict":
            guard let index else { return failed("eviction needs the metadata index") }
            let module = (form["module"] ?? "").trimmingCharacters(in: .whitespaces)
            let version = form["version"].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            guard (try? PathRules.checkModulePath(module)) != nil else { return failed("not a module path: \(module.prefix(100))") }
            let eviction = ModuleEviction(storage: storage, index: index, pins: index as? any PinStore, hosted: proxy.configuration.hosted)
            do {
                let removed = try await eviction.evict(module: module, version: version) { [proxy] key in proxy.forget(key) }
                for r in removed { forgetHot(module: module, version: r.version) }
                let bytes = removed.reduce(Int64(0)) { $0 + $1.bytes }
                let what = removed.map(\.version).joined(separator: ", ")
                audit("cache.evict", module, "done", what)
                return done("evicted \(removed.count) zip\(removed.count == 1 ? "" : "s") of \(module) (\(what); \(ConsoleHTML.bytes(bytes)))")
            } catch let refusal as ModuleEviction.Refusal {
                audit("cache.evict", module, "refused", refusal.description)
                return failed(refusal.description)
            } catch {
                return failed("eviction failed: storage or database unavailable")
            }
        default:
            return ProxyResponder.text(.notFound, "no console action at \(path.prefix(100))")
        }
    }

    /// Drops a version's zip answer from the fast path's table.
    func forgetHot(module: String, version: String) {
        guard let hot, let path = try? PathEscaping.escapePath(module), let v = try? PathEscaping.escapeVersion(version) else { return }
        hot.forget(pathPrefix + "/" + path + "/@v/" + v + ".zip")
    }
}
