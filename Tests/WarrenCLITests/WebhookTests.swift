import Crypto
import Foundation
import TestServers
import Testing

/// Webhooks from a running Warren to receivers on loopback: a version cached, a checksum
/// mismatch refused and an upstream going down each arrive as a signed JSON POST; after
/// the receiver's 500 the delivery is retried with the same id, and once answered 200 it
/// is never sent again; a target's patterns filter module events.
@Suite struct WebhookTests {
    let fixture = ModuleFixture.shared
    static let secret = "a-shared-secret-for-tests"

    @Test func eventsArriveSignedRetriedAndNeverDuplicated() async throws {
        let everything = WebhookReceiver(), krOnly = WebhookReceiver()
        try await everything.start()
        try await krOnly.start()
        defer { everything.stop(); krOnly.stop() }
        let sumdb = try await offThread { [fixture] in try SumDBServer(root: fixture.root) }
        defer { sumdb.stop() }
        let dead = FaultyUpstream(root: fixture.root), tampered = FaultyUpstream(root: fixture.root)
        try await dead.start()
        try await tampered.start()
        defer { dead.stop(); tampered.stop() }
        dead.setDefaultFault(.status(502, "bad gateway"))
        let toml = ModuleFixture.artifactPath("github.com/BurntSushi/toml", "v1.2.1", "zip")
        // A well-formed zip of toml@v1.2.1 with other content: only its hash gives it away.
        let scratch = ScratchDirectory()
        let evil = scratch.path + "/evil"
        try FileManager.default.createDirectory(atPath: evil, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture.root + "/" + ModuleFixture.artifactPath("github.com/BurntSushi/toml", "v1.2.1", "mod"),
                                         toPath: evil + "/go.mod")
        try Data("package toml\n\nvar Evil = true\n".utf8).write(to: URL(fileURLWithPath: evil + "/evil.go"))
        let zipped = try await offThread { try WarrenBinary.run(["mod", "zip", evil, "github.com/BurntSushi/toml@v1.2.1", evil + ".zip"]) }
        #expect(zipped.status == 0, "\(zipped.stderr)")
        tampered.setFault(toml, .replace(Array(try Data(contentsOf: URL(fileURLWithPath: evil + ".zip")))))

        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "\(dead.url)|\(tampered.url)", "--retries", "0", "--upstream-failures", "1", "--upstream-cooldown", "60s",
            "--sumdb", sumdb.verifierKey + " " + sumdb.url,
            "--webhooks", "\(everything.url); \(krOnly.url) github.com/kr/*",
        ], environment: ["WARREN_WEBHOOK_SECRET": Self.secret])
        defer { warren.stop() }
        // The dead upstream's first failure opens its circuit (upstream.down); kr/text and
        // yaml.v3 are cached; toml is refused for its hash.
        for path in ["github.com/kr/text/@v/v0.2.0.zip", "gopkg.in/yaml.v3/@v/v3.0.1.zip"] {
            #expect(try await HTTP.get(warren.url + "/" + path).status == 200)
        }
        #expect(try await HTTP.get(warren.url + "/" + toml).status == 403)

        let expected = ["upstream.down", "module.cached", "module.cached", "checksum.mismatch"]
        let delivered = { (r: WebhookReceiver) in r.all.filter { $0.status == 200 } }
        let deadline = ContinuousClock.now + .seconds(30)
        while delivered(everything).count < expected.count || delivered(krOnly).count < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let got = delivered(everything)
        #expect(got.map(\.event).sorted() == expected.sorted(), "\(got.map(\.event))")
        // The patterns: kr/text's event and the upstream's, not yaml's nor toml's.
        #expect(delivered(krOnly).map(\.event).sorted() == ["module.cached", "upstream.down"], "\(delivered(krOnly).map(\.event))")
        #expect(delivered(krOnly).contains { String(decoding: $0.body, as: UTF8.self).contains("github.com/kr/text") })

        let key = SymmetricKey(data: Array(Self.secret.utf8))
        for receiver in [everything, krOnly] {
            let attempts = receiver.all
            for attempt in attempts {
                // Signed over TIMESTAMP.BODY, with a timestamp of now.
                let mac = HMAC<SHA256>.authenticationCode(for: Array("\(attempt.timestamp).".utf8) + attempt.body, using: key)
                #expect(attempt.signature == "sha256=" + mac.map { String(format: "%02x", $0) }.joined(), "\(attempt.event)")
                let age = Date().timeIntervalSince1970 - (Double(attempt.timestamp) ?? 0)
                #expect(age >= 0 && age < 120)
                let json = try JSONSerialization.jsonObject(with: Data(attempt.body)) as? [String: String]
                #expect(json?["type"] == attempt.event && json?["id"] == attempt.delivery)
            }
            // Each delivery: one 500, one 200, never again.
            for id in Set(attempts.map(\.delivery)) {
                #expect(attempts.filter { $0.delivery == id }.map(\.status) == [500, 200], "\(id)")
            }
        }
        let mismatch = got.first { $0.event == "checksum.mismatch" }.map { String(decoding: $0.body, as: UTF8.self) } ?? ""
        #expect(mismatch.contains("github.com/BurntSushi/toml") && mismatch.contains("sum.test has h1:"), "\(mismatch)")
        // Warren counts a delivery once it has read the receiver's 200, a moment after the
        // receiver wrote it down: the metric is waited for, then the console must agree.
        let deliveredLine = "warren_webhook_deliveries_total{target=\"http://127.0.0.1:\(everything.port)/hook\",result=\"delivered\"} 4"
        var metrics = ""
        let counted = ContinuousClock.now + .seconds(10)
        repeat {
            metrics = try await HTTP.get(warren.url + "/metrics").text
            if metrics.contains(deliveredLine) { break }
            try await Task.sleep(for: .milliseconds(50))  // polling the counter the dispatcher updates
        } while ContinuousClock.now < counted
        #expect(metrics.contains(deliveredLine), "\(metrics.split(separator: "\n").filter { $0.contains("webhook") })")
        // The console's status page shows the deliveries too.
        let status = try await HTTP.get(warren.url + "/-/status").text
        #expect(status.contains("id=\"webhooks\"") && status.contains("http://127.0.0.1:\(everything.port)/hook</td><td class=\"num\">4</td>"),
                "\(status)")
    }

    @Test func webhooksWithoutASecretStopTheStart() async throws {
        let r = try await WarrenBinary.run(["serve", "--listen", "127.0.0.1:0", "--sumdb", "off", "--webhooks", "http://127.0.0.1:9/hook"],
                                           environment: ["PATH": "/usr/bin:/bin"])
        #expect(r.status != 0 && r.stderr.contains("webhook-secret"), "\(r.stderr)")
    }
}
