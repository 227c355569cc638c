import Foundation
import Testing
import WarrenClientTools

/// `warren doctor probe` against loopback servers that behave well and badly.
@Suite("warren doctor probe", .serialized)
struct ProbeTests {
    func probe(_ arguments: [String], _ env: [String: String] = [:]) async throws -> (WarrenBinary.Output, [EndpointProbe]) {
        let home = ScratchDirectory()
        let out = try await WarrenBinary.run(["doctor", "probe", "--json"] + arguments,
                                             environment: toolEnvironment(home: home.path, ["GOSUMDB": "off"].merging(env) { _, n in n }))
        return (out, try decodeJSON([EndpointProbe].self, out.stdout))
    }

    @Test func goodProxyAndChecksumDatabasePass() async throws {
        let fixture = ModuleFixture.shared
        let sumdb = try SumDBServer(root: fixture.root)
        defer { sumdb.stop() }
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root])
        defer { warren.stop() }
        let (out, probes) = try await probe(["--module", "gopkg.in/yaml.v3"], ["GOPROXY": warren.url + ",direct", "GOSUMDB": "\(sumdb.verifierKey) \(sumdb.url)"])
        #expect(out.status == 0, "\(out.stdout)")
        #expect(probes.map(\.kind) == ["proxy", "checksum database"])
        let proxy = probes[0]
        #expect(proxy.failure == nil)
        #expect(proxy.connection.dnsMs != nil && proxy.connection.connectMs != nil && proxy.connection.firstByteMs != nil)
        #expect(proxy.tls == nil)
        let checks = Dictionary(uniqueKeysWithValues: proxy.checks.map { ($0.name, $0) })
        #expect(checks["list"]?.ok == true && checks["list"]?.note == "1 version")
        #expect(checks["@latest"]?.ok == true)
        #expect(checks[".info"]?.ok == true && checks[".mod"]?.note == "module gopkg.in/yaml.v3")
        #expect(checks["missing module"]?.status == 404 || checks["missing module"]?.status == 410)
        #expect(checks["sumdb supported"] != nil)
        #expect(proxy.problems.isEmpty, "\(proxy.problems)")
        #expect(probes[1].checks.first?.ok == true, "\(probes[1])")
        #expect(probes[1].checks.first?.note.hasPrefix("signed by sum.test") == true)
    }

    @Test func selfSignedCertificateIsNamedAndSSLCertFileFixesIt() async throws {
        let tls = try TLSFileServer(root: ModuleFixture.shared.root)
        let (out, probes) = try await probe(["--proxy", tls.url, "--module", "gopkg.in/yaml.v3"])
        #expect(out.status == 1)
        let p = try #require(probes.first)
        #expect(p.failure?.kind == .tls)
        #expect(p.tls?.problem == "self-signed")
        #expect(p.tls?.chain.first?.subject.contains("warren-test-proxy") == true)
        #expect(p.tls?.version == "TLS 1.3")
        #expect(p.tls?.cipher?.hasPrefix("TLS_") == true)
        #expect(p.connection.tlsMs != nil)
        #expect(p.checks.isEmpty, "nothing is sent to an untrusted server")
        let finding = try #require(p.problems.first)
        #expect(finding.code == "tls-self-signed" && finding.fix?.contains("SSL_CERT_FILE") == true)

        // Trusting the certificate (as the go command would with SSL_CERT_FILE) makes it verify.
        let (_, trusted) = try await probe(["--proxy", tls.url, "--module", "gopkg.in/yaml.v3"], ["SSL_CERT_FILE": tls.certificatePath])
        let t = try #require(trusted.first)
        #expect(t.tls?.verified == true, "\(String(describing: t.tls))")
        #expect(t.checks.first { $0.name == "list" }?.status == 200)
        // Python's file server sends its 404s as HTML pages: named as a problem.
        #expect(t.problems.contains { $0.code == "error-not-plain-text" })
    }

    @Test func proxyAnswering500ForMissingModulesAndPollutedListsIsCaught() async throws {
        let upstream = FaultyUpstream(root: ModuleFixture.shared.root)
        try await upstream.start()
        defer { upstream.stop() }
        upstream.setFault("warren-doctor.invalid/no-such-module/@v/list", .status(500, "internal error"))
        let (out, probes) = try await probe(["--proxy", upstream.url, "--module", "github.com/kr/text"])
        #expect(out.status == 1)
        let codes = Set(probes.first?.problems.map(\.code) ?? [])
        #expect(codes.isSuperset(of: ["missing-gives-5xx", "list-pseudo-versions", "list-invalid-lines"]), "\(codes)")
        let text = try await WarrenBinary.run(["doctor", "probe", "--proxy", upstream.url, "--module", "github.com/kr/text"],
                                              environment: toolEnvironment(home: ScratchDirectory().path, ["GOSUMDB": "off"]))
        #expect(text.stdout.contains("answers 500 for a module that does not exist"))
    }

    @Test func slowProxyTimesOutInsteadOfHanging() async throws {
        let upstream = FaultyUpstream(root: ModuleFixture.shared.root)
        try await upstream.start()
        defer { upstream.stop() }
        upstream.setFault("gopkg.in/yaml.v3/@v/list", .delay(30))
        let start = Date()
        let (out, probes) = try await probe(["--proxy", upstream.url, "--module", "gopkg.in/yaml.v3", "--timeout", "1"])
        #expect(Date().timeIntervalSince(start) < 15)
        #expect(out.status == 1)
        #expect(probes.first?.failure?.kind == .timeout)
        #expect(probes.first?.failure?.message == "waiting for the first byte: timed out after 1 s")
        #expect(probes.first?.problems.first?.code == "timeout")
    }

    @Test func refusedConnectionIsReported() async throws {
        let url = "http://127.0.0.1:\(closedLoopbackPort())"
        let (out, probes) = try await probe(["--proxy", url])
        #expect(out.status == 1)
        #expect(probes.first?.failure?.kind == .refused)
        #expect(probes.first?.problems.first?.code == "refused")
    }
}
