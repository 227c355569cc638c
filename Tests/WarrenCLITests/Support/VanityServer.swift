import Foundation
import TestServers
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A loopback server standing in for a company's web and git hosts:
/// - as the HTTP proxy of the go command and of Warren (HTTP_PROXY), it answers
///   `http://vanity.test/...?go-get=1` with go-import pages, redirects, or errors,
///   and refuses CONNECT (so `https://vanity.test` fails fast and GOINSECURE applies);
/// - on `/git/NAME.git/...` it serves bare repositories over git's "dumb" HTTP
///   protocol, behind Basic authentication when a password is set.
final class VanityServer: @unchecked Sendable {
    enum Page: Sendable {
        /// go-import tags: (prefix, vcs, repo).
        case meta([(String, String, String)])
        case redirect(String)
        case status(Int)
    }

    let gitRoot: String
    private let pages = Mutex<[String: Page]>([:])
    private let log = Mutex<[(agent: String, target: String)]>([])
    private var task: Task<Void, any Error>?
    private(set) var port = 0
    /// user:password required for /git/, when set.
    let gitAuth: String?

    init(gitRoot: String, gitAuth: String? = nil) {
        self.gitRoot = gitRoot
        self.gitAuth = gitAuth
    }

    var proxyURL: String { "http://127.0.0.1:\(port)" }
    var gitURL: String { "http://127.0.0.1:\(port)/git" }

    /// The page for `vanity.test/PATH` (PATH without the leading slash).
    func setPage(_ path: String, _ page: Page) { pages.withLock { $0[path] = page } }

    /// Requests seen, as (User-Agent, target).
    var requests: [(agent: String, target: String)] { log.withLock { $0 } }

    func start() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: Responder(owner: self),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "vanity"),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }
        )
        task = Task { try await app.run() }
        for await p in stream {
            port = p
            break
        }
    }

    func stop() { task?.cancel() }

    /// Copies a bare repository under /git/NAME.git and prepares it for dumb HTTP.
    func publish(bare: String, as name: String) throws {
        let target = gitRoot + "/" + name + ".git"
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.createDirectory(atPath: gitRoot, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: bare, toPath: target)
        try TestProcess.run("/usr/bin/git", ["update-server-info"], environment: ["PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"], directory: target)
    }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let owner: VanityServer

        func text(_ status: HTTPResponse.Status, _ body: String, headers: HTTPFields = [:]) -> Response {
            var h = headers
            h[.contentType] = "text/plain"
            return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: body)))
        }

        func respond(to request: Request, context: Context) async throws -> Response {
            let agent = request.headers[.userAgent] ?? ""
            let target = request.head.authority.map { "\($0)\(request.uri.path)?\(request.uri.query ?? "")" } ?? request.uri.description
            owner.log.withLock { $0.append((agent, request.method == .connect ? "CONNECT " + target : target)) }
            if request.method == .connect {
                return text(.badGateway, "no TLS here")
            }
            let path = request.uri.path
            if path.hasPrefix("/git/") {
                return try serveGit(String(path.dropFirst(5)), request)
            }
            let host = request.head.authority ?? ""
            guard host.hasPrefix("vanity.test"), request.uri.query?.contains("go-get=1") == true else {
                return text(.notFound, "not found")
            }
            switch owner.pages.withLock({ $0[String(path.dropFirst())] }) {
            case .meta(let tags)?:
                let metas = tags.map { "<meta name=\"go-import\" content=\"\($0.0) \($0.1) \($0.2)\">" }.joined(separator: "\n")
                let html = "<!DOCTYPE html>\n<html><head>\n\(metas)\n</head><body>go get vanity.test\(path)</body></html>\n"
                return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
            case .redirect(let location)?:
                return text(.found, "moved", headers: [.location: location])
            case .status(let code)?:
                return text(.init(code: code), "status \(code)")
            case nil:
                return text(.notFound, "no such page")
            }
        }

        /// Dumb HTTP: files of the bare repository, read-only.
        func serveGit(_ rest: String, _ request: Request) throws -> Response {
            if let auth = owner.gitAuth {
                let expected = "Basic " + Data(auth.utf8).base64EncodedString()
                guard request.headers[.authorization] == expected else {
                    return text(.unauthorized, "authentication required", headers: [.wwwAuthenticate: "Basic realm=\"git\""])
                }
            }
            guard !rest.contains(".."), let data = FileManager.default.contents(atPath: owner.gitRoot + "/" + rest) else {
                return text(.notFound, "no such file")
            }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: Array(data))))
        }
    }
}
