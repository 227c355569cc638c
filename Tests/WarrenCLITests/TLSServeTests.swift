import Foundation
import TestServers
import Testing

/// `warren serve --tls-cert --tls-key`: HTTPS served by Warren itself, to the real go
/// command trusting a company CA through SSL_CERT_FILE; TLS 1.2 at least; and a renewed
/// certificate taken on SIGHUP or when the files change, without dropping a download in
/// progress.
@Suite struct TLSServeTests {
    let fixture = ModuleFixture.shared

    static func start(_ ca: TestCertificateAuthority, commonName: String, upstream: String) async throws -> (WarrenServerProcess, String, String) {
        let certificate = ca.directory + "/server.pem", key = ca.directory + "/server.key"
        try await offThread { try ca.issue(commonName: commonName, certificate: certificate, key: key) }
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", upstream, "--tls-cert", certificate, "--tls-key", key])
        return (warren, certificate, key)
    }

    @Test func theGoCommandDownloadsOverTLS() async throws {
        let ca = try await offThread { try TestCertificateAuthority() }
        let (warren, _, _) = try await Self.start(ca, commonName: "warren-test", upstream: "file://" + fixture.root)
        defer { warren.stop() }
        let url = "https://127.0.0.1:\(warren.port)"
        let modules = fixture.modules.map { "\($0.path)@\($0.version)" }
        // Twice, with empty module caches: cold, then from what Warren holds (the fast
        // path answers what it can through TLS; stored files take the ordinary path).
        for _ in 0..<2 {
            let go = GoClient(proxy: url, environment: ["SSL_CERT_FILE": ca.certificatePath])
            let r = try await go.run(["mod", "download", "-json"] + modules)
            #expect(r.status == 0, "\(r.stdout.suffix(2000)) \(r.stderr)")
        }
        // Without the CA the go command refuses the server, as it must.
        let untrusting = GoClient(proxy: url, environment: ["SSL_CERT_FILE": "/nonexistent"])
        let refused = try await untrusting.run(["mod", "download", modules[0]])
        #expect(refused.status != 0 && refused.stderr.contains("certificate"), "\(refused.stderr)")
        // TLS 1.1 is refused; 1.2 is served.
        let caPath = ca.certificatePath
        let curl = { (arguments: [String]) in
            try await offThread {
                try TestProcess.run("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", caPath] + arguments
                                    + [url + "/healthz"])
            }
        }
        #expect(try await curl(["--tlsv1.0", "--tls-max", "1.1"]).status != 0)
        #expect(try await curl(["--tlsv1.2", "--tls-max", "1.2"]).stdout == "200")
        // Plain HTTP to the TLS port is not answered as HTTP, and costs the server nothing.
        #expect((try? await HTTP.get("http://127.0.0.1:\(warren.port)/healthz", timeout: 5))?.status != 200)
        #expect(try await curl([]).stdout == "200")
    }

    @Test func aRenewedCertificateIsServedWithoutDroppingADownload() async throws {
        let ca = try await offThread { try TestCertificateAuthority() }
        let module = try #require(fixture.modules.max { $0.zipSize < $1.zipSize })
        let (warren, certificate, key) = try await Self.start(ca, commonName: "first", upstream: "file://" + fixture.root)
        defer { warren.stop() }
        let port = warren.port
        #expect(try await offThread { try TestCertificateAuthority.servedCommonName(port: port) } == "first")
        let zipURL = "https://127.0.0.1:\(warren.port)/" + ModuleFixture.artifactPath(module.path, module.version, "zip")
        let output = ca.directory + "/download.zip"
        // A download that takes about four seconds, under way across the renewal.
        let download = try TestProcess("/usr/bin/curl", ["-sS", "--fail", "--cacert", ca.certificatePath, "--limit-rate",
                                                         String(max(1024, module.zipSize / 4)), "-o", output, zipURL])
        let started = await offThreadWait {
            eventually(timeout: 20) { ((try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0) > 0 }
        }
        #expect(started)

        try await offThread { try ca.issue(commonName: "second", certificate: certificate, key: key) }
        warren.process.signal(SIGHUP)
        let renewed = await offThreadWait { eventually(timeout: 20) { (try? TestCertificateAuthority.servedCommonName(port: warren.port)) == "second" } }
        #expect(renewed, "still serving the old certificate after SIGHUP")
        let finished = await offThreadWait { download.wait() == 0 }
        #expect(finished, "the download in progress failed: \(download.stderr.text)")
        #expect((try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) == module.zipSize)

        // A renewal tool that only replaces the files: picked up without a signal.
        try await offThread { try ca.issue(commonName: "third", certificate: certificate, key: key) }
        let noticed = await offThreadWait { eventually(timeout: 20) { (try? TestCertificateAuthority.servedCommonName(port: warren.port)) == "third" } }
        #expect(noticed, "the changed files were not picked up")

        // A broken renewal is refused and the current certificate stays.
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: certificate))
        warren.process.signal(SIGHUP)
        let said = await offThreadWait {
            warren.process.stderr.waitFor(timeout: 20) { $0.contains("TLS certificate not reloaded") }.contains("TLS certificate not reloaded")
        }
        #expect(said)
        #expect(try await offThread { try TestCertificateAuthority.servedCommonName(port: port) } == "third")
        #expect(!warren.stderr.contains("BEGIN"), "key or certificate material in the log")
    }

    @Test func aMissingOrMismatchedKeyStopsTheStartWithAReason() async throws {
        let ca = try await offThread { try TestCertificateAuthority() }
        let certificate = ca.directory + "/a.pem", key = ca.directory + "/a.key"
        try await offThread {
            try ca.issue(commonName: "a", certificate: certificate, key: key)
            try ca.issue(commonName: "b", certificate: ca.directory + "/b.pem", key: ca.directory + "/b.key")
        }
        for (arguments, expected) in [
            (["--tls-cert", certificate], "tls-cert and tls-key go together"),
            (["--tls-cert", certificate, "--tls-key", ca.directory + "/missing.key"], "cannot read the private key"),
            (["--tls-cert", certificate, "--tls-key", ca.directory + "/b.key"], "does the key match the certificate"),
        ] {
            let r = try await offThread { try WarrenBinary.run(["serve", "--listen", "127.0.0.1:0", "--sumdb", "off", "--upstream", "off"] + arguments) }
            #expect(r.status == 2, "\(arguments): \(r.stderr)")
            #expect(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
            #expect(!r.stderr.contains("PRIVATE KEY"))
        }
    }
}
