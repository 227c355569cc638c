import Foundation
import TestServers

/// A certificate authority made for one test with openssl, issuing server certificates
/// for 127.0.0.1: clients trust it through `SSL_CERT_FILE` (the go command) or
/// `--cacert` (curl), as a company trusts its own CA.
final class TestCertificateAuthority: @unchecked Sendable {
    let directory = FileManager.default.temporaryDirectory.path + "/warren-ca-\(UUID().uuidString.prefix(8))"
    var certificatePath: String { directory + "/ca.pem" }
    private var issued = 0

    struct Failure: Error, CustomStringConvertible { let description: String }

    init() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", directory + "/ca.key", "-out", certificatePath, "-days", "30", "-subj", "/CN=Warren Test CA",
                          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"])
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A server certificate for 127.0.0.1 named `commonName`, written (atomically, by
    /// rename, as renewal tools do) to `certificate` and `key`.
    func issue(commonName: String, certificate: String, key: String, names: [String] = [], usage: String = "serverAuth") throws {
        issued += 1
        let base = directory + "/leaf\(issued)"
        let alternatives = (["IP:127.0.0.1", "DNS:localhost"] + names.map { "DNS:" + $0 }).joined(separator: ",")
        try Data("subjectAltName=\(alternatives)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=\(usage)\n".utf8)
            .write(to: URL(fileURLWithPath: base + ".ext"))
        try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", base + ".key",
                          "-out", base + ".csr", "-subj", "/CN=\(commonName)"])
        try Self.openssl(["x509", "-req", "-in", base + ".csr", "-CA", certificatePath, "-CAkey", directory + "/ca.key",
                          "-CAcreateserial", "-out", base + ".pem", "-days", "30", "-extfile", base + ".ext"])
        try FileManager.default.copyItem(atPath: base + ".key", toPath: key + ".new")
        _ = rename(key + ".new", key)
        try FileManager.default.copyItem(atPath: base + ".pem", toPath: certificate + ".new")
        _ = rename(certificate + ".new", certificate)
    }

    /// The subject's common name a new TLS connection to `port` is shown.
    static func servedCommonName(port: Int) throws -> String {
        let result = try TestProcess.run("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost"])
        let subject = result.stdout.split(separator: "\n").first { $0.hasPrefix("subject=") } ?? ""
        return subject.components(separatedBy: "CN").last?.trimmingCharacters(in: CharacterSet(charactersIn: " =")) ?? ""
    }

    static func openssl(_ arguments: [String]) throws {
        let result = try TestProcess.run("/usr/bin/openssl", arguments)
        guard result.status == 0 else { throw Failure(description: "openssl \(arguments.first ?? ""): \(result.stderr)") }
    }
}
