import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The pages of the login flow: plain HTML that needs no script and loads nothing from
/// elsewhere, everything from the provider or the user escaped.
enum LoginPage {
    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: message + "\n")))
    }

    /// The token, once, with the lines to paste.
    static func token(user: String, groups: [String], token: String, publicURL: String, expires: Double, back: String?) -> Response {
        let host = URLComponents(string: publicURL)?.host ?? publicURL
        let expiry = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: expires))
        let html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Warren: signed in</title>
            <meta name="referrer" content="no-referrer"><style>\(style)</style></head>
            <body>
            <h1>Signed in as <span id="user">\(HTMLText.escaped(user))</span></h1>
            <p>Groups: <span id="groups">\(HTMLText.escaped(groups.joined(separator: ", ")))</span></p>
            <p>Your Warren token, shown only now (it expires \(HTMLText.escaped(expiry))):</p>
            <pre id="token">\(HTMLText.escaped(token))</pre>
            <p>Put this line in <code>~/.netrc</code> (the go command sends it over HTTPS):</p>
            <pre id="netrc">machine \(HTMLText.escaped(host)) login \(HTMLText.escaped(user)) password \(HTMLText.escaped(token))</pre>
            <p>Then point the go command at Warren:</p>
            <pre id="goproxy">go env -w GOPROXY=\(HTMLText.escaped(publicURL))</pre>
            \(back.map { "<p><a id=\"continue\" href=\"\(HTMLText.escaped($0))\">Continue</a></p>" } ?? "")
            </body></html>

            """
        return HTMLPageResponse.make(html, contentSecurityPolicy: "default-src 'none'; style-src '\(styleHash)'; form-action 'none'; frame-ancestors 'none'")
    }

    /// The page's only style, allowed by its hash (no inline style from anywhere else).
    static let style = "body{font-family:sans-serif;margin:2em;max-width:60em}pre{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;padding:.5em}"
    static let styleHash = "sha256-" + Data(SHA256.hash(data: Array(style.utf8))).base64EncodedString()
}
