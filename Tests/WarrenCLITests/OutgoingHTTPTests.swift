import Foundation
import TestServers
import Testing

/// Warren behind a company's egress proxy, with an upstream whose certificate comes from
/// the company's CA: every outgoing request (the upstream, the checksum database) goes
/// through `HTTPS_PROXY`/`HTTP_PROXY` unless `NO_PROXY` says otherwise, and the upstream
/// is trusted only with `--ca-file`, never by turning verification off.
@Suite struct OutgoingHTTPTests {
    let fixture = ModuleFixture.shared

    @Test func upstreamsAndChecksumDatabasesGoThroughTheProxyTrustingTheCompanyCA() async throws {
        let ca = try await offThread { try TestCertificateAuthority() }
        let certificate = ca.directory + "/upstream.pem", key = ca.directory + "/upstream.key"
        try await offThread { try ca.issue(commonName: "upstream.test", certificate: certificate, key: key, names: ["upstream.test"]) }
        let root = fixture.root
        let upstream = try await offThread { try TLSFileServer(root: root, certificate: (certificate, key)) }
        let proxy = try await offThread { try ForwardProxy() }
        let sumdb = try await offThread { try SumDBServer(root: root) }
        defer { sumdb.stop() }
        let sumdbPort = try #require(URL(string: sumdb.url)?.port)
        // Names only the proxy can resolve: a request that skips it fails.
        let upstreamURL = "https://upstream.test:\(upstream.port)"
        let arguments = ["--upstream", upstreamURL, "--sumdb", "\(sumdb.verifierKey) http://sumdb.test:\(sumdbPort)", "--retries", "0"]
        let network = ["HTTPS_PROXY": proxy.url, "HTTP_PROXY": proxy.url, "NO_PROXY": ""]
        let module = try #require(fixture.module("github.com/kr/text", "v0.2.0"))
        let modPath = "/" + ModuleFixture.artifactPath(module.path, module.version, "mod")

        // Without the CA: the upstream's certificate is refused, through the proxy.
        let untrusting = try await WarrenServerProcess.start(arguments: arguments, environment: network)
        let refused = try await HTTP.get(untrusting.url + modPath)
        #expect(refused.status == 502, "\(refused.status) \(refused.text)")
        untrusting.stop()
        #expect(proxy.requests.contains("CONNECT upstream.test:\(upstream.port)"), "\(proxy.requests)")

        // With --ca-file: the go command gets the module, verified against the checksum
        // database, both reached through the proxy.
        let trusting = try await WarrenServerProcess.start(arguments: arguments + ["--ca-file", ca.certificatePath], environment: network)
        let go = GoClient(proxy: trusting.url)
        let download = try await go.run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(download.status == 0, "\(download.stderr) \(trusting.stderr.suffix(1500))")
        // (AsyncHTTPClient tunnels plain HTTP through the proxy too.)
        #expect(proxy.requests.contains { $0 == "CONNECT sumdb.test:\(sumdbPort)" || $0.hasPrefix("GET http://sumdb.test:\(sumdbPort)/") },
                "\(proxy.requests)")
        #expect(sumdb.requests.contains { $0.hasPrefix("/lookup/github.com/kr/text@v0.2.0") }, "\(sumdb.requests)")
        trusting.stop()

        // NO_PROXY: straight to a name nobody resolves, and the proxy hears nothing.
        let asked = proxy.requests.count
        let bypassing = try await WarrenServerProcess.start(
            arguments: arguments + ["--ca-file", ca.certificatePath],
            environment: network.merging(["NO_PROXY": "upstream.test,sumdb.test"]) { _, new in new })
        defer { bypassing.stop() }
        let other = try #require(fixture.module("gopkg.in/yaml.v3", "v3.0.1"))
        let direct = try await HTTP.get(bypassing.url + "/" + ModuleFixture.artifactPath(other.path, other.version, "mod"))
        #expect(direct.status == 502, "\(direct.status) \(direct.text)")
        #expect(proxy.requests.count == asked, "\(proxy.requests.dropFirst(asked))")
    }

    @Test func aCAFileThatDoesNotLoadStopsTheStart() async throws {
        let scratch = ScratchDirectory()
        try scratch.write("not-a-ca.pem", "hello\n")
        for (arguments, expected) in [
            (["--ca-file", scratch.path + "/missing.pem"], "cannot read the CA file"),
            (["--ca-file", scratch.path + "/not-a-ca.pem"], "the CA file"),
            (["--upstream-client-cert", scratch.path + "/not-a-ca.pem"], "upstream-client-cert and upstream-client-key go together"),
        ] {
            let path = scratch.path
            let r = try await offThread { try WarrenBinary.run(["serve", "--listen", "127.0.0.1:0", "--sumdb", "off", "--data-dir", path + "/data"] + arguments) }
            #expect(r.status == 2 && r.stderr.contains(expected), "\(arguments): \(r.status) \(r.stderr)")
        }
    }

    /// An upstream that asks for a client certificate: refused without one, served with
    /// `--upstream-client-cert` and `--upstream-client-key`.
    @Test func anUpstreamThatWantsAClientCertificateGetsOne() async throws {
        let ca = try await offThread { try TestCertificateAuthority() }
        let server = (ca.directory + "/upstream.pem", ca.directory + "/upstream.key")
        let client = (ca.directory + "/client.pem", ca.directory + "/client.key")
        try await offThread {
            try ca.issue(commonName: "upstream", certificate: server.0, key: server.1)
            try ca.issue(commonName: "warren", certificate: client.0, key: client.1, usage: "clientAuth")
        }
        let root = fixture.root, caPath = ca.certificatePath
        let upstream = try await offThread { try TLSFileServer(root: root, certificate: server, clientCA: caPath) }
        let module = try #require(fixture.module("github.com/kr/text", "v0.2.0"))
        let modPath = "/" + ModuleFixture.artifactPath(module.path, module.version, "mod")
        let arguments = ["--upstream", upstream.url, "--ca-file", caPath, "--retries", "0"]
        let without = try await WarrenServerProcess.start(arguments: arguments)
        let refused = try await HTTP.get(without.url + modPath)
        without.stop()
        #expect(refused.status == 502, "\(refused.status) \(refused.text)")
        let with = try await WarrenServerProcess.start(arguments: arguments + ["--upstream-client-cert", client.0, "--upstream-client-key", client.1])
        defer { with.stop() }
        let served = try await HTTP.get(with.url + modPath)
        #expect(served.status == 200, "\(served.status) \(served.text)")
    }
}
