import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real S3-compatible server for the tests: Ceph's radosgw on a single-node cluster
/// (scripts/s3-server.sh), started on loopback the first time a test asks for it and
/// shared by every test of the run; it is stopped when the test process exits.
///
/// Needs Debian's radosgw, ceph-mon, ceph-osd and ceph-common (scripts/install-deps.sh
/// test installs them). A missing server is a failure, never a skip.
public struct S3TestServer: Sendable {
    public let endpoint: String
    public let accessKeyID: String
    public let secretAccessKey: String
    public let region: String
    /// The cluster's state (its pid list, logs, configuration).
    let directory: String

    /// Stops radosgw alone, as an outage of the S3 service would: the cluster keeps every
    /// object, and `startGateway` brings the service back on the same endpoint.
    public func stopGateway() async throws {
        try await onThread { try RadosGateway.control("stop-rgw", directory: directory) }
    }

    /// Starts radosgw again and returns once it answers.
    public func startGateway() async throws {
        try await onThread { try RadosGateway.control("start-rgw", directory: directory) }
    }

    private func onThread(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}

public enum RadosGateway {
    /// The run's server, started on first use.
    public static func shared() async throws -> S3TestServer {
        try await starter.value
    }

    private static let starter = Task { () throws -> S3TestServer in
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try start() }) }.start()
        }
    }

    /// A cluster of the test's own, for a test that stops and starts its gateway (the
    /// shared one must stay up for the others).
    public static func dedicated() async throws -> S3TestServer {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try start(name: UUID().uuidString.prefix(8).lowercased()) }) }.start()
        }
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/s3-server.sh").path

    /// Every cluster's directory, for the exit handler.
    private static let started = Mutex<[String]>([])

    static func start(name: String = "shared") throws -> S3TestServer {
        let directory = FileManager.default.temporaryDirectory.path + "/warren-rgw-test-\(getpid())-\(name)"
        let rgwPort = try freePort(), monPort = try freePort()
        let output = directory + ".out", errors = directory + ".err"
        let first = started.withLock { dirs in
            dirs.append(directory)
            return dirs.count == 1
        }
        if first { atexit { RadosGateway.stopAtExit() } }
        // system(), not Foundation's Process: its waitUntilExit, off the main thread, was
        // seen never to reap the finished script.
        let command = "RGW_DIR=\(quoted(directory)) RGW_PORT=\(rgwPort) MON_PORT=\(monPort) /bin/bash \(quoted(script))"
            + " </dev/null >\(quoted(output)) 2>\(quoted(errors))"
        let status = system(command)
        // A killed or crashed test process runs no exit handler: a watchdog stops the
        // cluster once this process is gone (polling is all a shell can do for a
        // process that is not its child).
        _ = system("(while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; RGW_DIR=\(quoted(directory)) /bin/bash \(quoted(script)) stop;"
                   + " rm -rf \(quoted(directory)) \(quoted(output)) \(quoted(errors))) </dev/null >/dev/null 2>&1 &")
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let said = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            throw StartFailure(description: "scripts/s3-server.sh failed (\(status)): \(said.suffix(2000))")
        }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let value = line[line.index(after: eq)...].split(separator: " ").first.map(String.init) ?? ""
            values[String(line[..<eq])] = value
        }
        guard let endpoint = values["S3_ENDPOINT"], let key = values["AWS_ACCESS_KEY_ID"],
              let secret = values["AWS_SECRET_ACCESS_KEY"] else {
            throw StartFailure(description: "scripts/s3-server.sh printed no endpoint: \(text)")
        }
        return S3TestServer(endpoint: endpoint, accessKeyID: key, secretAccessKey: secret, region: values["AWS_REGION"] ?? "us-east-1",
                            directory: directory)
    }

    /// Runs one of the script's commands on this cluster (`stop-rgw`, `start-rgw`).
    static func control(_ command: String, directory: String) throws {
        let result = try TestProcess.run("/bin/bash", [script, command], environment: ["RGW_DIR": directory, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"])
        guard result.status == 0 else { throw StartFailure(description: "s3-server.sh \(command): \(result.stderr)") }
    }

    /// Kills exactly the daemons the script recorded (they are this process's own).
    static func stopAtExit() {
        for directory in started.withLock({ $0 }) {
            guard let pids = try? String(contentsOfFile: directory + "/pids", encoding: .utf8) else { continue }
            for pid in pids.split(separator: "\n").reversed().compactMap({ pid_t($0) }) { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: directory)
            unlink(directory + ".out")
            unlink(directory + ".err")
        }
    }

    static func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    struct StartFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// A loopback port that refuses connections for as long as the value lives: bound
    /// but never listening, so no other test's server can take it meanwhile (a port
    /// merely free now may be someone's a second later).
    public final class ClosedPort: Sendable {
        public let port: Int
        let fd: Int32

        public init() throws {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard s >= 0 else { throw StartFailure(description: "socket: errno \(errno)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, length) == 0 && getsockname(s, $0, &length) == 0 }
            }
            guard bound else {
                close(s)
                throw StartFailure(description: "bind: errno \(errno)")
            }
            fd = s
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(fd) }
    }

    /// A port nothing listens on now (the kernel's choice for an ephemeral bind).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartFailure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw StartFailure(description: "bind: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
