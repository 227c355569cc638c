import Foundation
import Testing
@testable import WarrenCore

@Suite struct OutgoingHTTPUnitTests {
    @Test func proxiesFollowTheGoCommandsRules() throws {
        let env = ProxyEnvironment(environment: ["HTTPS_PROXY": "http://proxy.corp:3128", "http_proxy": "proxy.corp:8080",
                                                 "NO_PROXY": "git.corp.example.com, .internal"])
        let url = { (s: String) in try #require(URL(string: s)) }
        #expect(env.proxy(for: try url("https://proxy.golang.org/x")) == .init(host: "proxy.corp", port: 3128))
        #expect(env.proxy(for: try url("http://sum.example/x")) == .init(host: "proxy.corp", port: 8080))
        #expect(env.proxy(for: try url("https://git.corp.example.com/a")) == nil)
        #expect(env.proxy(for: try url("https://sub.git.corp.example.com/a")) == nil)
        #expect(env.proxy(for: try url("https://db.internal/a")) == nil)
        #expect(env.proxy(for: try url("https://127.0.0.1:3000/a")) == nil)
        #expect(env.proxy(for: try url("https://localhost/a")) == nil)
        #expect(ProxyEnvironment(environment: ["HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"]).proxy(for: try url("https://x.y/z")) == nil)
    }

    @Test func gitGetsTheSystemBundleWithTheExtraCAsAfterIt() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/warren-ca-bundle-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let extra = "-----BEGIN CERTIFICATE-----\nMIIBcorpca\n-----END CERTIFICATE-----\n"
        try Data(extra.utf8).write(to: URL(fileURLWithPath: dir + "/corp.pem"))
        let bundle = try #require(try OutgoingHTTP(caFile: dir + "/corp.pem").gitCABundle(in: dir + "/data"))
        let text = try String(contentsOfFile: bundle, encoding: .utf8)
        #expect(text.hasSuffix(extra))
        let system = (try? String(contentsOfFile: "/etc/ssl/certs/ca-certificates.crt", encoding: .utf8)) ?? ""
        #expect(text.hasPrefix(system))
        #expect(try OutgoingHTTP(caFile: nil).gitCABundle(in: dir) == nil)
    }
}
