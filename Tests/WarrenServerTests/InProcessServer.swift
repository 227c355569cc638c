import Foundation
import GoModule
import Hummingbird
import HummingbirdTesting
import Logging
@testable import WarrenCore
@testable import WarrenServer

/// Warren's HTTP layer in this process, on loopback, in front of a `file://` tree with one
/// module (built here with GoModule), so that HTTP behaviour is tested without starting a
/// `warren serve` process.
struct InProcessServer {
    static let module = "example.com/m"
    static let version = "v1.0.0"

    let root: String
    let zipHash: String
    let zipSize: Int

    init() throws {
        root = FileManager.default.temporaryDirectory.path + "/warren-inproc-\(UUID().uuidString)"
        let source = root + "/src", tree = root + "/tree/example.com/m/@v"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        try Data("module example.com/m\n\ngo 1.21\n".utf8).write(to: URL(fileURLWithPath: source + "/go.mod"))
        // Incompressible, so the zip is large enough for ranges.
        var generator = SystemRandomNumberGenerator()
        let data = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(data).write(to: URL(fileURLWithPath: source + "/data.bin"))
        let result = try ModuleZipWriter.create(module: Self.module, version: Self.version, directory: source,
                                                to: try WritableFile(creating: tree + "/v1.0.0.zip", exclusive: false))
        zipHash = result.hash
        zipSize = Int(result.zipSize)
        try Data("module example.com/m\n\ngo 1.21\n".utf8).write(to: URL(fileURLWithPath: tree + "/v1.0.0.mod"))
        try Data(#"{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}"#.utf8).write(to: URL(fileURLWithPath: tree + "/v1.0.0.info"))
        try Data("v1.0.0\n".utf8).write(to: URL(fileURLWithPath: tree + "/list"))
    }

    /// Runs `test` against a fresh server (empty storage) on a loopback port.
    func run<T: Sendable>(_ test: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let data = root + "/data-\(UUID().uuidString)"
        let storage = try LocalDiskStorage(root: data + "/modules")
        let url = "file://" + root + "/tree"
        let configuration = ProxyConfiguration(upstreams: try ProxyList(url), dataDirectory: data)
        let chain = UpstreamChain(entries: [.init(upstream: FileTreeUpstream(url: url), fallBackOnError: false)], logger: logger)
        let proxy = ModuleProxy(configuration: configuration, storage: storage, chain: chain, logger: logger)
        let app = WarrenHTTPServer.makeApplication(
            settings: .init(host: "127.0.0.1", port: 0, pathPrefix: ""), proxy: proxy, storage: storage,
            metrics: nil, logger: logger) { _ in }
        return try await app.test(.live, test)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}
