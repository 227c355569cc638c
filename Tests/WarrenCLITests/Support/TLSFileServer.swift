import Foundation
import TestServers

/// An HTTPS file server on loopback with a certificate made for the test: Python's
/// http.server behind a self-signed certificate from openssl, valid for 127.0.0.1.
final class TLSFileServer: @unchecked Sendable {
    private(set) var process: TestProcess?
    let scratch = FileManager.default.temporaryDirectory.path + "/warren-tls-\(UUID().uuidString)"
    private(set) var port = 0
    let certificatePath: String
    let keyPath: String
    var url: String { "https://127.0.0.1:\(port)" }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// - Parameter certificate: a certificate and key to serve (default: a self-signed one
    ///   made here for 127.0.0.1).
    /// - Parameter clientCA: when given, clients must present a certificate this CA signed.
    init(root: String, commonName: String = "warren-test-proxy", certificate: (path: String, key: String)? = nil,
         clientCA: String? = nil) throws {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        certificatePath = certificate?.path ?? scratch + "/cert.pem"
        keyPath = certificate?.key ?? scratch + "/key.pem"
        if certificate == nil {
            let openssl = try TestProcess.run("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", keyPath, "-out", certificatePath, "-days", "30",
                "-subj", "/CN=\(commonName)", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
            guard openssl.status == 0 else { throw Failure(description: "openssl could not make a certificate") }
        }
        let script = """
        import http.server, ssl, sys
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
        if len(sys.argv) > 3:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(sys.argv[3])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        print(srv.server_address[1], flush=True)
        srv.serve_forever()
        """
        let server = try TestProcess("/usr/bin/python3", ["-c", script, certificatePath, keyPath] + (clientCA.map { [$0] } ?? []),
                                     directory: root)
        process = server
        let line = server.stdout.waitFor(timeout: 20) { $0.contains("\n") }
        guard let p = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            server.kill9()
            throw Failure(description: "the TLS file server did not start: \(line)")
        }
        port = p
    }

    deinit {
        // SIGKILL: a server that ignores SIGTERM still goes.
        process?.kill9()
        try? FileManager.default.removeItem(atPath: scratch)
    }
}

/// A loopback port nothing listens on (bound, then released).
func closedLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// The environment the doctor and bench run with in tests: nothing of the developer's.
func toolEnvironment(home: String, _ extra: [String: String] = [:]) -> [String: String] {
    ["HOME": home, "PATH": "/usr/bin:/bin", "GOENV": home + "/go-env", "NO_COLOR": "1"].merging(extra) { _, new in new }
}

func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(text.utf8))
}
