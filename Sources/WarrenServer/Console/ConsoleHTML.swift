import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The console's page frame and formatting: server-rendered HTML that needs no script and
/// loads nothing but its own stylesheet (air-gapped sites have no CDN), with every value
/// from a request, a module or a token escaped by `HTMLText`.
enum ConsoleHTML {
    /// One stylesheet, served at `/-/console.css` from this file.
    static let stylesheet = """
        :root{--fg:#1d2329;--muted:#5c6670;--line:#d8dee4;--accent:#1f6f5c;--bg:#ffffff;--soft:#f5f7f8;--warn:#9a3412}
        *{box-sizing:border-box}
        body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        header{display:flex;align-items:center;gap:1.5em;padding:.7em 1.5em;background:var(--accent);color:#fff}
        header a{color:#fff;text-decoration:none}
        header .brand{font-weight:700;font-size:1.15em;letter-spacing:.02em}
        header nav{display:flex;gap:1.1em;flex:1}
        header .who{font-size:.9em;opacity:.9}
        main{max-width:72rem;margin:0 auto;padding:1.2rem 1.5rem 3rem}
        h1{font-size:1.5em;margin:.3em 0 .6em;word-break:break-all}
        h2{font-size:1.15em;margin:1.6em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}
        table{border-collapse:collapse;width:100%;font-size:.92em}
        th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid var(--line);vertical-align:top}
        th{background:var(--soft);font-weight:600}
        td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        code,pre,.hash{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.88em}
        .hash{word-break:break-all;color:var(--muted)}
        pre{background:var(--soft);padding:.7em;overflow-x:auto;border:1px solid var(--line)}
        a{color:var(--accent)}
        form.search{display:flex;gap:.5em;margin:.5em 0 1em}
        form.search input[type=search]{flex:1;padding:.45em;font-size:1em;border:1px solid var(--line)}
        button,input[type=submit]{padding:.4em .9em;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
        form.inline{display:inline}
        form.inline button{padding:.15em .6em;font-size:.85em}
        .tag{display:inline-block;padding:0 .45em;border-radius:.6em;font-size:.8em;background:var(--soft);border:1px solid var(--line)}
        .tag.hosted,.tag.ok{background:#e3f2ec;border-color:#9fd0bd}
        .tag.private{background:#eef0fb;border-color:#b8bfe8}
        .tag.bad{background:#fdeee6;border-color:#f0b595;color:var(--warn)}
        .muted{color:var(--muted)}
        .notice{padding:.6em .9em;background:#e3f2ec;border:1px solid #9fd0bd;margin:.5em 0 1em}
        .notice.error{background:#fdeee6;border-color:#f0b595}
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(12em,1fr));gap:.8em;margin:.5em 0}
        .card{border:1px solid var(--line);padding:.6em .8em;background:var(--soft)}
        .card .value{font-size:1.4em;font-weight:600}
        .card .label{font-size:.85em;color:var(--muted)}
        .pager{display:flex;gap:1em;margin:1em 0}
        meter{width:100%;height:1em}
        footer{max-width:72rem;margin:0 auto;padding:1rem 1.5rem;color:var(--muted);font-size:.85em}
        time{white-space:nowrap}
        """

    /// For the stylesheet's ETag: it changes only with Warren.
    static let stylesheetTag = "\"" + SHA256.hash(data: Array(stylesheet.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined() + "\""

    /// Who is looking, for the header.
    struct Viewer: Sendable {
        var name: String?
        var isAdmin: Bool
        var signInURL: String?
        var signedInWithSession: Bool
    }

    /// A full page: header with navigation, the content, a footer.
    static func page(title: String, viewer: Viewer, current: String, content: String, status: HTTPResponse.Status = .ok) -> Response {
        func nav(_ href: String, _ label: String, _ key: String) -> String {
            "<a href=\"\(href)\"\(key == current ? " aria-current=\"page\"" : "")>\(label)</a>"
        }
        var who = ""
        if let name = viewer.name {
            who = "<span class=\"who\">Signed in as <strong id=\"viewer\">\(HTMLText.escaped(name))</strong>"
            if viewer.signedInWithSession { who += " · <a href=\"/logout\">Sign out</a>" }
            who += "</span>"
        } else if let signIn = viewer.signInURL {
            who = "<span class=\"who\"><a href=\"\(HTMLText.escaped(signIn))\">Sign in</a></span>"
        }
        let html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTMLText.escaped(title)) · Warren</title>
            <link rel="stylesheet" href="/-/console.css"><meta name="referrer" content="same-origin"></head>
            <body>
            <header><a class="brand" href="/-/">Warren</a>
            <nav>\(nav("/-/modules", "Modules", "modules"))\(nav("/-/status", "Status", "status"))\(viewer.isAdmin ? nav("/-/admin", "Admin", "admin") : "")</nav>
            \(who)</header>
            <main>
            \(content)
            </main>
            <footer>Warren Go module proxy · <a href="/metrics">metrics</a> · <a href="/readyz">readiness</a></footer>
            </body></html>

            """
        return HTMLPageResponse.make(html, status: status, contentSecurityPolicy:
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    }

    static func css(_ request: Request) -> Response {
        var headers = HTTPFields()
        headers[.eTag] = stylesheetTag
        headers[.cacheControl] = "public, max-age=3600"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        if request.headers[.ifNoneMatch] == stylesheetTag { return Response(status: .notModified, headers: headers) }
        headers[.contentType] = "text/css; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: stylesheet)))
    }

    // MARK: - Formatting

    static func bytes(_ n: Int64?) -> String {
        guard let n else { return "–" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: value >= 100 ? "%.0f %@" : "%.1f %@", value, units[unit])
    }

    static func time(_ seconds: Double?) -> String {
        guard let seconds, seconds > 0 else { return "–" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return "<time datetime=\"\(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: seconds)))\">"
            + f.string(from: Date(timeIntervalSince1970: seconds)) + " UTC</time>"
    }

    static func number(_ value: Double, digits: Int = 1) -> String {
        String(format: "%.\(digits)f", value)
    }

    /// A link into the console keeping only characters a module path may have.
    static func moduleHref(_ module: String) -> String {
        "/-/modules/" + HTMLText.escaped(module)
    }

    /// A query parameter value, percent-encoded.
    static func query(_ value: String) -> String {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/@")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func notice(_ text: String?, error: Bool = false) -> String {
        guard let text, !text.isEmpty else { return "" }
        return "<p class=\"notice\(error ? " error" : "")\" id=\"notice\">\(HTMLText.escaped(text))</p>"
    }

    static func card(_ label: String, _ value: String, id: String) -> String {
        "<div class=\"card\"><div class=\"value\" id=\"\(id)\">\(value)</div><div class=\"label\">\(label)</div></div>"
    }
}
