import Foundation
import GoModule
import Hummingbird
import WarrenCore

/// The browsing pages: the start page, the module list (search and paging by path), and
/// one module's page.
extension Console {
    func searchForm(_ search: String) -> String {
        """
        <form class="search" method="get" action="/-/modules" role="search">
        <input type="search" name="q" id="q" value="\(HTMLText.escaped(search))" placeholder="Search module paths" aria-label="Search module paths">
        <button type="submit" id="search">Search</button></form>
        """
    }

    func home(_ caller: Caller) async -> Response {
        var content = "<h1>What Warren holds</h1>" + searchForm("")
        content += "<p><a href=\"/-/modules\">All modules</a></p>"
        content += "<p>Point the go command here: <code id=\"goproxy\">go env -w GOPROXY=\(HTMLText.escaped(goproxyURL()))</code></p>"
        if let index {
            do {
                let top = try await index.mostDownloaded(limit: 40).filter { mayRead(caller, $0.module) }.prefix(10)
                content += "<h2>Most downloaded versions</h2>"
                if top.isEmpty {
                    content += "<p class=\"muted\">No downloads counted yet.</p>"
                } else {
                    content += "<table id=\"top\"><thead><tr><th>Module</th><th>Version</th><th class=\"num\">Downloads</th><th>Last download</th></tr></thead><tbody>"
                    for v in top {
                        content += "<tr><td><a href=\"\(ConsoleHTML.moduleHref(v.module))\">\(HTMLText.escaped(v.module))</a></td><td>\(HTMLText.escaped(v.version))</td>"
                            + "<td class=\"num\">\(v.downloads)</td><td>\(ConsoleHTML.time(v.lastAccess))</td></tr>"
                    }
                    content += "</tbody></table>"
                }
            } catch {
                content += ConsoleHTML.notice("the index is unavailable", error: true)
            }
        } else {
            content += ConsoleHTML.notice("No metadata index is configured, so there is nothing to browse.", error: true)
        }
        return page(caller, "Warren", current: "home", content: content)
    }

    func goproxyURL() -> String {
        (publicURL ?? "") + pathPrefix
    }

    /// - Parameter per: modules on a page (nil: `pageSize`); links to the other pages keep it.
    func modules(_ caller: Caller, search: String, after: String?, per: Int?) async -> Response {
        let pageSize = per ?? Self.pageSize
        guard let index else {
            return page(caller, "Modules", current: "modules", content: "<h1>Modules</h1>" + ConsoleHTML.notice("No metadata index is configured.", error: true))
        }
        let search = String(search.prefix(200))
        // Fill a page with modules this caller may read, asking the index in batches.
        var shown: [IndexedModule] = []
        var cursor = after
        var more = false
        do {
            scan: while true {
                let batch = try await index.modules(containing: search, after: cursor, limit: pageSize + 1)
                for m in batch.prefix(pageSize) {
                    cursor = m.module
                    guard mayRead(caller, m.module) else { continue }
                    if shown.count == pageSize {
                        more = true
                        break scan
                    }
                    shown.append(m)
                }
                if batch.count <= pageSize {
                    break
                }
            }
        } catch {
            return page(caller, "Modules", current: "modules", content: "<h1>Modules</h1>" + ConsoleHTML.notice("the index is unavailable", error: true),
                        status: .serviceUnavailable)
        }
        var content = "<h1>Modules</h1>" + searchForm(search)
        if !search.isEmpty {
            content += "<p id=\"summary\">Modules whose path contains <strong>\(HTMLText.escaped(search))</strong>"
                + (after == nil ? "" : ", continued") + ":</p>"
        }
        if shown.isEmpty {
            content += "<p id=\"empty\" class=\"muted\">No module\(search.isEmpty ? " is stored yet" : " matches").</p>"
        } else {
            content += "<table id=\"modules\"><thead><tr><th>Module</th><th>Kind</th><th class=\"num\">Versions</th><th class=\"num\">Zips</th>"
                + "<th class=\"num\">Downloads</th><th>Latest stored</th></tr></thead><tbody>"
            for m in shown {
                let kind = kind(m.module)
                content += "<tr><td><a href=\"\(ConsoleHTML.moduleHref(m.module))\">\(HTMLText.escaped(m.module))</a></td>"
                    + "<td><span class=\"tag \(kind.css)\">\(kind.label)</span></td><td class=\"num\">\(m.versions)</td>"
                    + "<td class=\"num\">\(ConsoleHTML.bytes(m.zipBytes))</td><td class=\"num\">\(m.downloads)</td><td>\(ConsoleHTML.time(m.lastStored))</td></tr>"
            }
            content += "</tbody></table>"
        }
        var pager: [String] = []
        var q = search.isEmpty ? "" : "q=" + ConsoleHTML.query(search)
        if let per { q += (q.isEmpty ? "" : "&amp;") + "per=\(per)" }
        if after != nil { pager.append("<a id=\"first\" href=\"/-/modules\(q.isEmpty ? "" : "?" + q)\">First page</a>") }
        if more, let last = shown.last {
            pager.append("<a id=\"next\" rel=\"next\" href=\"/-/modules?\(q.isEmpty ? "" : q + "&amp;")after=\(ConsoleHTML.query(last.module))\">Next page</a>")
        }
        if !pager.isEmpty { content += "<div class=\"pager\">" + pager.joined() + "</div>" }
        return page(caller, "Modules", current: "modules", content: content)
    }

    func module(_ caller: Caller, _ module: String, notice: String?, error: String?) async -> Response {
        let notFound = page(caller, "Not found", current: "modules",
                            content: "<h1>Not found</h1><p>Warren holds no module at this path. <a href=\"/-/modules\">All modules</a>.</p>", status: .notFound)
        do {
            try PathRules.checkModulePath(module)
        } catch {
            return notFound
        }
        // A module this caller may not read looks like one that is not here.
        guard mayRead(caller, module), let index else { return notFound }
        let versions: [IndexedVersion]
        do {
            versions = try await index.versions(of: module)
        } catch {
            return page(caller, module, current: "modules", content: "<h1>\(HTMLText.escaped(module))</h1>" + ConsoleHTML.notice("the index is unavailable", error: true),
                        status: .serviceUnavailable)
        }
        guard !versions.isEmpty else { return notFound }
        let kind = kind(module)
        // Retractions and deprecation come from the go.mod of the highest version, as the go command reads them.
        let highest = versions.last.map(\.version)
        var goModText: String?
        var goMod: GoModFile?
        if let highest, let stored = try? await storage.readSmall(.artifact(module: module, version: highest, kind: .mod), limit: 1 << 20) {
            goModText = String(decoding: stored.bytes, as: UTF8.self)
            goMod = try? GoModParser.parse(goModText ?? "", fileName: "go.mod")
        }
        var content = "<h1 id=\"module\">\(HTMLText.escaped(module)) <span class=\"tag \(kind.css)\">\(kind.label)</span></h1>"
        content += ConsoleHTML.notice(notice) + ConsoleHTML.notice(error, error: true)
        if let deprecated = goMod?.deprecated {
            content += "<p class=\"notice error\" id=\"deprecated\">Deprecated: \(HTMLText.escaped(deprecated))</p>"
        }
        content += "<pre id=\"goget\">go get \(HTMLText.escaped(module))@latest</pre>"
        content += "<h2>Versions</h2><table id=\"versions\"><thead><tr><th>Version</th><th>Origin</th><th>Stored</th><th class=\"num\">Zip</th>"
            + "<th>Hashes</th><th class=\"num\">Downloads</th><th>Last download</th>\(isAdmin(caller) && kind.css != "hosted" ? "<th></th>" : "")</tr></thead><tbody>"
        for v in versions.reversed() {
            var flags = ""
            if let retraction = goMod?.retractions.first(where: { $0.contains(v.version) }) {
                flags += " <span class=\"tag bad\" title=\"\(HTMLText.escaped(retraction.rationale))\">retracted</span>"
            }
            if v.zipHash == nil { flags += " <span class=\"tag\">zip not cached</span>" }
            content += "<tr id=\"v-\(HTMLText.escaped(v.version))\"><td>\(HTMLText.escaped(v.version))\(flags)</td><td>\(HTMLText.escaped(v.origin ?? "–"))</td>"
                + "<td>\(ConsoleHTML.time(v.storedAt))</td><td class=\"num\">\(ConsoleHTML.bytes(v.zipSize))</td>"
                + "<td><div class=\"hash\">zip \(HTMLText.escaped(v.zipHash ?? "–"))</div><div class=\"hash\">go.mod \(HTMLText.escaped(v.modHash ?? "–"))</div></td>"
                + "<td class=\"num\">\(v.downloads)</td><td>\(ConsoleHTML.time(v.lastAccess))</td>"
            if isAdmin(caller), kind.css != "hosted" {
                content += "<td>"
                if v.zipHash != nil {
                    content += "<form class=\"inline\" method=\"post\" action=\"/-/admin/evict\">\(formFields(caller, back: ConsoleHTML.moduleHref(module)))"
                        + "<input type=\"hidden\" name=\"module\" value=\"\(HTMLText.escaped(module))\"><input type=\"hidden\" name=\"version\" value=\"\(HTMLText.escaped(v.version))\">"
                        + "<button type=\"submit\">Evict zip</button></form>"
                }
                content += "</td>"
            }
            content += "</tr>"
        }
        content += "</tbody></table>"
        if isAdmin(caller), kind.css != "hosted" {
            content += "<h2>Cache</h2><form class=\"inline\" method=\"post\" action=\"/-/admin/pin\">\(formFields(caller, back: ConsoleHTML.moduleHref(module)))"
                + "<input type=\"hidden\" name=\"pattern\" value=\"\(HTMLText.escaped(module))\"><button type=\"submit\" id=\"pin\">Pin (never evict)</button></form> "
                + "<form class=\"inline\" method=\"post\" action=\"/-/admin/evict\">\(formFields(caller, back: ConsoleHTML.moduleHref(module)))"
                + "<input type=\"hidden\" name=\"module\" value=\"\(HTMLText.escaped(module))\"><button type=\"submit\" id=\"evict-all\">Evict every cached zip</button></form>"
        }
        if let goModText, let highest {
            content += "<h2>go.mod of \(HTMLText.escaped(highest))</h2><pre id=\"gomod\">\(HTMLText.escaped(goModText))</pre>"
        }
        if kind.css == "hosted" {
            content += await publishHistory(module)
        }
        return page(caller, module, current: "modules", content: content)
    }

    /// Who published and deleted which version, from the audit log.
    func publishHistory(_ module: String) async -> String {
        guard let store = access?.audit?.store else { return "" }
        var out = "<h2>Publish history</h2>"
        do {
            await access?.audit?.flush()
            let events = try await store.latestAuditEvents(targetPrefix: module + "@", limit: 200)
                .filter { $0.action == "module.publish" || $0.action == "module.delete" }
            guard !events.isEmpty else { return out + "<p class=\"muted\">No publish recorded.</p>" }
            out += "<table id=\"history\"><thead><tr><th>When</th><th>What</th><th>Version</th><th>Who</th><th>Result</th></tr></thead><tbody>"
            for e in events.prefix(50) {
                let version = e.target.map { String($0.dropFirst(module.count + 1)) } ?? ""
                out += "<tr><td>\(ConsoleHTML.time(e.time))</td><td>\(e.action == "module.delete" ? "delete" : "publish")</td><td>\(HTMLText.escaped(version))</td>"
                    + "<td>\(HTMLText.escaped(e.user))</td><td>\(HTMLText.escaped(e.result))\(e.detail.map { " <span class=\"hash\">" + HTMLText.escaped($0) + "</span>" } ?? "")</td></tr>"
            }
            return out + "</tbody></table>"
        } catch {
            return out + ConsoleHTML.notice("the audit log is unavailable", error: true)
        }
    }
}
