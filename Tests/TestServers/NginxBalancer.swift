import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// nginx from Debian as the load balancer in front of several replicas, configured the
/// way the README's "Running several replicas" section says (deploy/nginx/warren-proxy.conf):
/// answers stream through, and a replica that refuses, resets or times out before
/// answering is skipped for the next one and left alone for two seconds.
///
/// Runs in the foreground as a child of the test process (stopped by `stop()` or when
/// the value goes away); its error log says what it saw of the replicas.
public final class NginxBalancer: Sendable {
    public let port: Int
    public let directory: String
    let process: TestProcess

    public var url: String { "http://127.0.0.1:\(port)" }

    /// What nginx logged (a replica's failures show here as `upstream …` lines).
    public var errorLog: String { (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? "" }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The directives the README gives for a location in front of Warren.
    static let proxyDirectives = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/nginx/warren-proxy.conf").path

    public static func start(replicaPorts: [Int]) async throws -> NginxBalancer {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try NginxBalancer(replicaPorts: replicaPorts) }) }.start()
        }
    }

    private init(replicaPorts: [Int]) throws {
        guard let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw Failure(description: "nginx is not installed (scripts/install-deps.sh test)")
        }
        port = try RadosGateway.freePort()
        directory = FileManager.default.temporaryDirectory.path + "/warren-nginx-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/tmp", withIntermediateDirectories: true)
        // Workers run as an unprivileged user when nginx starts as root.
        chmod(directory, 0o777)
        chmod(directory + "/tmp", 0o777)
        let servers = replicaPorts.map { "    server 127.0.0.1:\($0) max_fails=1 fail_timeout=2s;" }.joined(separator: "\n")
        let configuration = """
            daemon off;
            worker_processes 2;
            pid \(directory)/nginx.pid;
            error_log \(directory)/error.log warn;
            events { worker_connections 4096; }
            http {
              access_log off;
              client_body_temp_path \(directory)/tmp;
              proxy_temp_path \(directory)/tmp;
              fastcgi_temp_path \(directory)/tmp;
              uwsgi_temp_path \(directory)/tmp;
              scgi_temp_path \(directory)/tmp;
              upstream warren {
            \(servers)
                keepalive 32;
              }
              server {
                listen 127.0.0.1:\(port);
                location / {
                  include \(Self.proxyDirectives);
                }
              }
            }

            """
        try Data(configuration.utf8).write(to: URL(fileURLWithPath: directory + "/nginx.conf"))
        process = try TestProcess(nginx, ["-c", directory + "/nginx.conf", "-p", directory, "-e", directory + "/error.log"])
        // Listening once a connection is accepted.
        let until = Date().addingTimeInterval(20)
        while !Self.accepts(port: port) {
            guard process.isRunning else { throw Failure(description: "nginx exited: \(process.stderr.text) \(errorLog)") }
            guard Date() < until else {
                _ = process.kill9()
                throw Failure(description: "nginx is not listening after 20 s: \(errorLog)")
            }
            usleep(20_000)
        }
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    public func stop() {
        _ = process.terminate()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit {
        if process.isRunning { _ = process.kill9() }
    }
}
