import Foundation
import X509

/// What a TLS server presented, and whether the go command would accept it — checked
/// with swift-certificates against the same roots Go uses, then explained in the terms
/// a developer can act on (self-signed, unknown authority, expired, wrong host name).
public struct TLSReport: Sendable, Codable, Equatable {
    public var version: String?
    public var cipher: String?
    public var chain: [CertificateSummary]
    public var verified: Bool
    /// `self-signed`, `unknown-authority`, `expired`, `not-yet-valid`, `hostname-mismatch`, `unparseable`.
    public var problem: String?
    /// The problem in one sentence.
    public var problemDetail: String?
}

public struct CertificateSummary: Sendable, Codable, Equatable {
    public var subject: String
    public var issuer: String
    public var notBefore: String
    public var notAfter: String
    public var daysLeft: Int
    public var dnsNames: [String]
}

public enum CertificateCheck {
    /// Verifies a presented chain (leaf first) for `host` at `now`.
    public static func check(chainDER: [[UInt8]], host: String, roots: TrustRoots, now: Date = Date()) async -> TLSReport {
        let chain = chainDER.compactMap { try? Certificate(derEncoded: $0) }
        var report = TLSReport(version: nil, cipher: nil, chain: chain.map { summarize($0, now: now) }, verified: false)
        guard let leaf = chain.first, chain.count == chainDER.count else {
            report.problem = "unparseable"
            report.problemDetail = "the server's certificate could not be parsed"
            return report
        }
        let isIP = host.contains(":") || host.split(separator: ".").allSatisfy { Int($0) != nil }
        var verifier = Verifier(rootCertificates: CertificateStore(roots.certificates)) {
            RFC5280Policy()
            ServerIdentityPolicy(serverHostname: isIP ? nil : host, serverIP: isIP ? host : nil)
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(chain.dropFirst()))
        if case .validCertificate = result {
            report.verified = true
            return report
        }
        (report.problem, report.problemDetail) = explain(chain: chain, host: host, isIP: isIP, roots: roots, now: now)
        return report
    }

    /// The most useful reason first: a wrong name or a date is fixable on the server,
    /// an unknown authority by giving Go the CA.
    static func explain(chain: [Certificate], host: String, isIP: Bool, roots: TrustRoots, now: Date) -> (String, String) {
        let leaf = chain[0]
        if let expired = chain.first(where: { $0.notValidAfter < now }) {
            return ("expired", "certificate \(commonName(expired.subject)) expired on \(day(expired.notValidAfter))")
        }
        if let early = chain.first(where: { $0.notValidBefore > now }) {
            return ("not-yet-valid", "certificate \(commonName(early.subject)) is not valid before \(day(early.notValidBefore))")
        }
        let names = dnsNames(leaf)
        if !isIP && !names.isEmpty && !names.contains(where: { matches(pattern: $0, host: host) }) {
            return ("hostname-mismatch", "certificate is valid for \(names.joined(separator: ", ")), not \(host)")
        }
        let last = chain[chain.count - 1]
        if chain.count == 1 && leaf.subject == leaf.issuer {
            return ("self-signed", "certificate is self-signed (\(commonName(leaf.subject))) and not in the trusted roots")
        }
        return ("unknown-authority", "certificate signed by unknown authority (\(commonName(last.issuer)))")
    }

    static func summarize(_ c: Certificate, now: Date) -> CertificateSummary {
        CertificateSummary(subject: c.subject.description, issuer: c.issuer.description,
                           notBefore: day(c.notValidBefore), notAfter: day(c.notValidAfter),
                           daysLeft: Int(c.notValidAfter.timeIntervalSince(now) / 86400), dnsNames: dnsNames(c))
    }

    static func dnsNames(_ c: Certificate) -> [String] {
        guard let san = try? c.extensions.subjectAlternativeNames else { return [] }
        return san.compactMap { if case .dnsName(let n) = $0 { return n } else { return nil } }
    }

    static func matches(pattern: String, host: String) -> Bool {
        let p = pattern.lowercased(), h = host.lowercased()
        if p == h { return true }
        if p.hasPrefix("*."), let dot = h.firstIndex(of: ".") { return h[dot...] == p.dropFirst() }
        return false
    }

    static func commonName(_ name: DistinguishedName) -> String {
        let text = name.description
        if let cn = text.split(separator: ",").first(where: { $0.hasPrefix("CN=") }) { return String(cn.dropFirst(3)) }
        return text
    }

    static func day(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: date)
    }
}
