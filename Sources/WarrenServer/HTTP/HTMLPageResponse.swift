import HTTPTypes
import Hummingbird
import NIOCore

/// A page Warren renders, with the headers every one of them carries: never cached, never
/// framed, never sniffed as another type, and a content security policy that says what
/// the page may load (nothing from another origin).
enum HTMLPageResponse {
    static func make(_ html: String, status: HTTPResponse.Status = .ok, contentSecurityPolicy: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Security-Policy")!] = contentSecurityPolicy
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}
