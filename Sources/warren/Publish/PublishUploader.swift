import AsyncHTTPClient
import Foundation
import GoModule
import NIOCore
import WarrenCore

/// Sends a built module zip to `PUT <base>/api/v1/modules/<module>/@v/<version>.zip`,
/// streamed from the file, with the caller's credentials.
struct PublishUploader {
    let base: String
    let caFile: String?
    let netrc: String?

    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    /// The line to print: what the server did.
    func upload(zipPath: String, module: String, version: String, time: Date?) async throws -> String {
        var root = base
        while root.hasSuffix("/") { root.removeLast() }
        guard let url = URL(string: root), let host = url.host else { throw Refused(description: "--to: \(base) is not a URL") }
        // The API lives at the server's root, whatever the proxy's path prefix.
        let origin = "\(url.scheme ?? "https")://\(host.contains(":") ? "[\(host)]" : host)\(url.port.map { ":\($0)" } ?? "")"
        var target = origin + "/api/v1/modules/" + (try PathEscaping.escapePath(module)) + "/@v/" + (try PathEscaping.escapeVersion(version)) + ".zip"
        if let time {
            let formatter = ISO8601DateFormatter()
            formatter.timeZone = TimeZone(identifier: "UTC")
            target += "?time=" + formatter.string(from: time)
        }
        var request = HTTPClientRequest(url: target)
        request.method = .PUT
        request.headers.add(name: "Content-Type", value: "application/zip")
        if let authorization = authorization(for: url.port.map { "\(host):\($0)" } ?? host) {
            request.headers.add(name: "Authorization", value: authorization)
        }
        let file = try ReadableFile(path: zipPath)
        request.body = .stream(FileChunks(file: file), length: .known(file.size))

        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = try OutgoingHTTP(caFile: caFile).tlsConfiguration(forUpstreams: false)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let response = try await client.execute(request, timeout: .seconds(600))
            let body = String(buffer: try await response.body.collect(upTo: 64 * 1024))
            try await client.shutdown()
            switch response.status.code {
            case 201: return "published \(module)@\(version)"
            case 200: return "\(module)@\(version) was already published with these exact contents"
            default:
                let line = body.split(separator: "\n").first.map(String.init) ?? ""
                throw Refused(description: line.hasPrefix(String(response.status.code)) ? line : "\(response.status.code) \(line)")
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Basic credentials from .netrc for the host (as the go command sends them), else a
    /// bearer token from WARREN_TOKEN.
    func authorization(for host: String) -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let path = netrc ?? NetrcFile.defaultPath(environment: environment),
           let credential = NetrcFile.read(path).first(where: { $0.applies(to: host) }) {
            return "Basic " + Data("\(credential.username):\(credential.password)".utf8).base64EncodedString()
        }
        return environment["WARREN_TOKEN"].map { "Bearer " + $0 }
    }
}

/// A file read in 256 KiB chunks, as a request body.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let file: ReadableFile

    struct AsyncIterator: AsyncIteratorProtocol {
        let file: ReadableFile
        var offset: Int64 = 0

        mutating func next() async throws -> ByteBuffer? {
            guard offset < file.size else { return nil }
            let size = Int(Swift.min(256 * 1024, file.size - offset))
            var buffer = ByteBufferAllocator().buffer(capacity: size)
            let at = offset
            let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { pointer in
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: pointer[..<size]), at: at)
            }
            guard n > 0 else { throw FileIOError("read", file.path) }
            offset += Int64(n)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(file: file) }
}
