import Foundation
import X509

/// The certificate authorities the go command trusts on Linux (crypto/x509's
/// root loading): `$SSL_CERT_FILE` instead of the distribution's bundle, and the PEM
/// files in `$SSL_CERT_DIR` directories when it is set.
public struct TrustRoots: Sendable {
    public let certificates: [Certificate]
    /// The files the certificates came from, for the report.
    public let sources: [String]

    static let bundleFiles = [
        "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem",
        "/etc/pki/tls/cacert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem",
    ]

    public init(environment: [String: String]) {
        var certificates: [Certificate] = []
        var sources: [String] = []
        let files = environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : [$0] } ?? Self.bundleFiles
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            certificates += Self.parsePEM(text)
            sources.append(file)
            break
        }
        if let dirs = environment["SSL_CERT_DIR"], !dirs.isEmpty {
            for dir in dirs.split(separator: ":") {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: String(dir))) ?? []
                for name in names.sorted() {
                    if let text = try? String(contentsOfFile: dir + "/" + name, encoding: .utf8) {
                        certificates += Self.parsePEM(text)
                    }
                }
                sources.append(String(dir))
            }
        }
        self.certificates = certificates
        self.sources = sources
    }

    /// Every parseable `CERTIFICATE` block of a PEM text.
    public static func parsePEM(_ text: String) -> [Certificate] {
        var out: [Certificate] = []
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        var rest = text[...]
        while let b = rest.range(of: begin), let e = rest.range(of: end, range: b.upperBound..<rest.endIndex) {
            if let cert = try? Certificate(pemEncoded: String(rest[b.lowerBound..<e.upperBound])) {
                out.append(cert)
            }
            rest = rest[e.upperBound...]
        }
        return out
    }
}
