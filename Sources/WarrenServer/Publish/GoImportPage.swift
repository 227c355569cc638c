import HTTPTypes
import Hummingbird
import NIOCore
import WarrenCore

/// `?go-get=1` for hosted modules: a `go-import` meta tag whose VCS is `mod` and whose
/// URL is Warren itself, so `go get go.corp.example.com/lib` works for a developer whose
/// GOPROXY does not list Warren (the go command then fetches the module from Warren with
/// the GOPROXY protocol, when the name's host points at Warren).
extension ProxyResponder {
    func goImportPage(_ rawPath: String, request: Request, context: Context) async -> Response {
        guard let path = rawPath.removingPercentEncoding else { return Self.text(.badRequest, "malformed path") }
        var candidates: [String] = []
        if let authority = request.head.authority {
            let host = authority.hasPrefix("[") ? authority : String(authority.split(separator: ":").first ?? "")
            candidates.append(host.lowercased() + (path == "/" ? "" : path))
        }
        let inPrefix = pathPrefix.isEmpty ? path : path.hasPrefix(pathPrefix + "/") ? String(path.dropFirst(pathPrefix.count)) : nil
        if let inPrefix { candidates.append(String(inPrefix.dropFirst())) }
        var found: String?
        for candidate in candidates where !candidate.isEmpty {
            if let root = await proxy.hostedModuleRoot(containing: candidate) {
                found = root
                break
            }
        }
        guard let root = found else { return Self.text(.notFound, "no hosted module here") }
        if let access {
            if case .failure(let refused) = await checkAccess(access, request: request, context: context, module: root, action: "go-get") {
                return refused.response
            }
        }
        let base = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            ?? (secure ? "https://" : "http://") + (request.head.authority ?? "localhost") + pathPrefix
        let content = HTMLText.escaped("\(root) mod \(base)")
        let html = """
            <!DOCTYPE html>
            <html><head><meta name="go-import" content="\(content)"></head>
            <body>go get \(HTMLText.escaped(root))</body></html>

            """
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}
