import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TestServers
import Testing

/// Tokens and permission rules with the real go command over TLS (it sends `.netrc`
/// credentials only over HTTPS): what each caller may download, the answers it prints
/// when it may not, scopes, revocation and expiry, the fast path, throttling, metrics
/// and feeds, and no secret anywhere afterwards.
@Suite struct AccessControlTests {
    let fixture = ModuleFixture.shared

    /// A token made with `warren token create` on the server's own database.
    static func token(_ warren: WarrenServerProcess, _ arguments: [String]) async throws -> (text: String, id: String) {
        let dataDir = warren.dataDir
        let r = try await offThread { try WarrenBinary.run(["token", "create", "--data-dir", dataDir] + arguments) }
        #expect(r.status == 0, "\(r.stderr)")
        let text = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let id = String(text.dropFirst(4).prefix(16))
        return (text, id)
    }

    /// The go command with `.netrc` naming the token for 127.0.0.1.
    static func client(_ url: String, ca: TestCertificateAuthority, token: String?) throws -> GoClient {
        let go = GoClient(proxy: url, environment: ["SSL_CERT_FILE": ca.certificatePath])
        if let token {
            try Data("machine 127.0.0.1 login someone password \(token)\n".utf8).write(to: URL(fileURLWithPath: go.home + "/.netrc"))
        }
        return go
    }

    static func get(_ url: String, token: String?, ca: TestCertificateAuthority) async throws -> (status: String, body: String) {
        let caPath = ca.certificatePath
        return try await offThread { try getNow(url, token: token, caPath: caPath) }
    }

    static func getNow(_ url: String, token: String?, caPath: String) throws -> (status: String, body: String) {
        var arguments = ["-sS", "--cacert", caPath, "-w", "\n%{http_code}"]
        if let token { arguments += ["-u", "someone:" + token] }
        let r = try TestProcess.run("/usr/bin/curl", arguments + [url])
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
    }

    @Test func theGoCommandGetsWhatItsTokenAllows() async throws {
        let ca = try await offThread { try TestCertificateAuthority() }
        let certificate = ca.directory + "/server.pem", key = ca.directory + "/server.key"
        try await offThread { try ca.issue(commonName: "warren", certificate: certificate, key: key) }
        let caPath = ca.certificatePath
        let audit = ca.directory + "/audit.log"
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "file://" + fixture.root, "--tls-cert", certificate, "--tls-key", key, "--audit-log", audit,
            "--permissions", "group:corp read,fetch github.com/kr/*; user:carol read github.com/google/*; user:root admin *",
        ])
        defer { warren.stop() }
        let url = "https://127.0.0.1:\(warren.port)"
        let alice = try await Self.token(warren, ["--user", "alice", "--group", "corp"])
        let narrowed = try await Self.token(warren, ["--user", "alice", "--group", "corp", "--scope", "read:github.com/kr/*"])
        let carol = try await Self.token(warren, ["--user", "carol"])
        let dave = try await Self.token(warren, ["--user", "dave"])
        let root = try await Self.token(warren, ["--user", "root"])
        let shortLived = try await Self.token(warren, ["--user", "erin", "--group", "corp", "--expires", "3s"])
        let secrets = [alice, narrowed, carol, dave, root, shortLived].map(\.text)

        // No token: the protected module is refused with Warren's reason; public ones are not.
        let anonymous = try Self.client(url, ca: ca, token: nil)
        let refused = try await anonymous.run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(refused.status != 0 && refused.stderr.contains("401 Unauthorized") && refused.stderr.contains("needs a Warren token"),
                "\(refused.stderr)")
        #expect(try await anonymous.run(["mod", "download", "gopkg.in/yaml.v3@v3.0.1"]).status == 0)

        // alice (group corp): the protected module and a public one.
        let a = try await Self.client(url, ca: ca, token: alice.text).run(["mod", "download", "github.com/kr/text@v0.2.0", "gopkg.in/yaml.v3@v3.0.1"])
        #expect(a.status == 0, "\(a.stderr)")
        // dave has a good token and no right: 403 with the reason.
        let d = try await Self.client(url, ca: ca, token: dave.text).run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(d.status != 0 && d.stderr.contains("403 Forbidden") && d.stderr.contains("dave may not read github.com/kr/text"), "\(d.stderr)")
        // carol may read google/* but not fetch: refused until root has fetched it.
        let carolGo = try Self.client(url, ca: ca, token: carol.text)
        let c1 = try await carolGo.run(["mod", "download", "github.com/google/go-cmp@v0.5.9"])
        #expect(c1.status != 0 && c1.stderr.contains("may read what is cached") && c1.stderr.contains("not fetch"), "\(c1.stderr)")
        #expect(try await Self.client(url, ca: ca, token: root.text).run(["mod", "download", "github.com/google/go-cmp@v0.5.9"]).status == 0)
        let c2 = try await carolGo.run(["mod", "download", "github.com/google/go-cmp@v0.5.9"])
        #expect(c2.status == 0, "\(c2.stderr)")
        // A scope narrows alice's token to reading: cached kr/text yes, fetching kr/pretty no.
        let n = try Self.client(url, ca: ca, token: narrowed.text)
        #expect(try await n.run(["mod", "download", "github.com/kr/text@v0.2.0"]).status == 0)
        let n2 = try await n.run(["mod", "download", "github.com/kr/pretty@v0.3.1"])
        #expect(n2.status != 0 && n2.stderr.contains("not fetch"), "\(n2.stderr)")

        // The feeds show each caller only what it may read.
        let feedAnonymous = try await Self.get(url + "/index", token: nil, ca: ca)
        let feedAlice = try await Self.get(url + "/index", token: alice.text, ca: ca)
        #expect(feedAnonymous.status == "200" && !feedAnonymous.body.contains("github.com/kr/") && feedAnonymous.body.contains("gopkg.in/yaml.v3"))
        #expect(feedAlice.body.contains("github.com/kr/text"))
        // Answers for protected modules are not for shared caches.
        let aliceToken = alice.text
        let headers = try await offThread {
            try TestProcess.run("/usr/bin/curl", ["-sS", "-D", "-", "-o", "/dev/null", "--cacert", caPath,
                                                  "-u", "x:" + aliceToken, url + "/github.com/kr/text/@v/v0.2.0.mod"]).stdout
        }
        #expect(headers.lowercased().contains("cache-control: private"), "\(headers)")

        // Revoked: refused within about a second, without a restart.
        #expect(try await Self.get(url + "/github.com/kr/text/@v/list", token: alice.text, ca: ca).status == "200")
        let (aliceID, dataDir) = (alice.id, warren.dataDir)
        let revoke = try await offThread { try WarrenBinary.run(["token", "revoke", aliceID, "--data-dir", dataDir]) }
        #expect(revoke.status == 0, "\(revoke.stderr)")
        let gone = await offThreadWait { eventually(timeout: 10) { (try? Self.getNow(url + "/github.com/kr/text/@v/list", token: alice.text, caPath: caPath).status) == "401" } }
        #expect(gone, "a revoked token still works")
        let afterRevoke = try await Self.client(url, ca: ca, token: alice.text).run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(afterRevoke.status != 0 && afterRevoke.stderr.contains("401"), "\(afterRevoke.stderr)")
        // Expired: refused once its time is up.
        let expired = await offThreadWait { eventually(timeout: 15) { (try? Self.getNow(url + "/github.com/kr/text/@v/list", token: shortLived.text, caPath: caPath).status) == "401" } }
        #expect(expired, "an expired token still works")
        let list = try await offThread { try WarrenBinary.run(["token", "list", "--data-dir", dataDir]) }
        #expect(list.stdout.contains("\(alice.id) alice revoked") && list.stdout.contains("\(shortLived.id) erin expired"), "\(list.stdout)")

        // Refusals and protected downloads are in the audit log; no secret is anywhere.
        let auditText = (try? String(contentsOfFile: audit, encoding: .utf8)) ?? ""
        #expect(auditText.contains("\"action\":\"zip\"") || auditText.contains("\"result\":\"denied\""), "\(auditText.prefix(500))")
        #expect(auditText.contains("\"action\":\"download\",\"user\":\"alice\""), "\(auditText.prefix(2000))")
        let metrics = try await Self.get(url + "/metrics", token: nil, ca: ca).body
        let everything = [warren.stderr, warren.process.stdout.text, auditText, metrics, list.stdout, list.stderr,
                          refused.stderr, d.stderr, c1.stderr, n2.stderr, afterRevoke.stderr]
        for secret in secrets {
            let hidden = String(secret.dropFirst("wrn_".count + 16 + 1))  // the secret may itself hold "_"
            #expect(!everything.contains { $0.contains(hidden) }, "a token secret was written out")
        }
    }

    @Test func theFastPathRefusesWhatTheOrdinaryPathRefuses() async throws {
        let module = try #require(fixture.module("github.com/kr/text", "v0.2.0"))
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "file://" + fixture.root, "--permissions", "group:corp read,fetch github.com/kr/*",
        ])
        defer { warren.stop() }
        let alice = try await Self.token(warren, ["--user", "alice", "--group", "corp"])
        let dave = try await Self.token(warren, ["--user", "dave"])
        func get(_ path: String, _ token: String?) async throws -> HTTPExchange {
            let headers = token.map { [("Authorization", "Bearer " + $0)] } ?? []
            return try await HTTP.get(warren.url + "/" + path, headers: headers)
        }
        func hotAnswers() async throws -> Int {
            let text = try await HTTP.get(warren.url + "/metrics").text
            let line = text.split(separator: "\n").first { $0.hasPrefix("warren_hot_path_answers_total") }
            return Int(line?.split(separator: " ").last ?? "") ?? 0
        }
        let paths = ["mod", "zip", "info"].map { ModuleFixture.artifactPath(module.path, module.version, $0) }
        // alice's requests put the protected answers in the fast path's table, and then
        // are answered from it.
        for _ in 0..<2 { for path in paths { #expect(try await get(path, alice.text).status == 200) } }
        let before = try await hotAnswers()
        for path in paths { #expect(try await get(path, alice.text).status == 200) }
        #expect(try await hotAnswers() >= before + paths.count, "the fast path did not answer alice")
        // The same paths, now hot, stay closed to the others.
        for path in paths {
            let anonymous = try await get(path, nil)
            #expect(anonymous.status == 401 && anonymous.headers["WWW-Authenticate"].first == "Basic realm=\"warren\"", "\(anonymous.text)")
            #expect(try await get(path, dave.text).status == 403)
            #expect(try await get(path, "wrn_0000000000000000_notatokenatallnotatokenatall").status == 401)
        }
        // Revoked: refused on the connections that already answered alice from memory.
        let (aliceID, dataDir) = (alice.id, warren.dataDir)
        let revoke = try await offThread { try WarrenBinary.run(["token", "revoke", aliceID, "--data-dir", dataDir]) }
        #expect(revoke.status == 0, "\(revoke.stderr)")
        var refusedAfterRevoke = false
        for _ in 0..<100 where !refusedAfterRevoke {
            refusedAfterRevoke = try await get(paths[0], alice.text).status == 401
            if !refusedAfterRevoke { try await Task.sleep(for: .milliseconds(100)) }  // polling for the reload
        }
        #expect(refusedAfterRevoke, "a revoked token still served from the fast path")
        // A public module stays on the fast path for everyone.
        let yaml = try #require(fixture.module("gopkg.in/yaml.v3", "v3.0.1"))
        let publicPath = ModuleFixture.artifactPath(yaml.path, yaml.version, "mod")
        for _ in 0..<3 { #expect(try await get(publicPath, nil).status == 200) }
    }

    @Test func refusalsCanBeHiddenAndMetricsRestricted() async throws {
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "file://" + fixture.root, "--permissions", "group:corp read,fetch github.com/kr/*; user:root admin *",
            "--hide-forbidden", "on", "--metrics-access", "admin", "--anonymous", "read",
        ])
        defer { warren.stop() }
        let dave = try await Self.token(warren, ["--user", "dave"])
        let root = try await Self.token(warren, ["--user", "root"])
        let bearer = { (t: String) in [("Authorization", "Bearer " + t)] }
        let hidden = try await HTTP.get(warren.url + "/github.com/kr/text/@v/list", headers: bearer(dave.text))
        #expect(hidden.status == 404 && !hidden.text.contains("dave"), "\(hidden.status) \(hidden.text)")
        // --anonymous read: what is not cached cannot be fetched without a token.
        let notCached = try await HTTP.get(warren.url + "/gopkg.in/yaml.v3/@v/v3.0.1.mod")
        #expect(notCached.status == 401 && notCached.text.contains("fetching it needs a Warren token"), "\(notCached.text)")
        #expect(try await HTTP.get(warren.url + "/gopkg.in/yaml.v3/@v/v3.0.1.mod", headers: bearer(root.text)).status == 200)
        #expect(try await HTTP.get(warren.url + "/gopkg.in/yaml.v3/@v/v3.0.1.mod").status == 200)
        // Probes are never restricted; metrics are, here to admins.
        #expect(try await HTTP.get(warren.url + "/healthz").status == 200)
        #expect(try await HTTP.get(warren.url + "/readyz").status == 200)
        #expect(try await HTTP.get(warren.url + "/metrics").status == 401)
        #expect(try await HTTP.get(warren.url + "/metrics", headers: bearer(dave.text)).status == 403)
        #expect(try await HTTP.get(warren.url + "/metrics", headers: bearer(root.text)).status == 200)
    }

    @Test func guessingTokensIsThrottled() async throws {
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "file://" + fixture.root, "--permissions", "group:corp read,fetch github.com/kr/*",
        ])
        defer { warren.stop() }
        var statuses: [Int] = []
        for i in 0..<12 {
            let guess = "wrn_00000000000000\(String(format: "%02d", i))_guessguessguessguessguessguessguess"
            statuses.append(try await HTTP.get(warren.url + "/github.com/kr/text/@v/list", headers: [("Authorization", "Bearer " + guess)]).status)
        }
        #expect(Array(statuses.prefix(10)) == Array(repeating: 401, count: 10))
        let last = try await HTTP.get(warren.url + "/github.com/kr/text/@v/list", headers: [("Authorization", "Bearer wrn_0000000000000099_guessguessguessguessguess")])
        #expect(last.status == 429 && Int(last.headers["Retry-After"].first ?? "") != nil, "\(last.status) \(last.text)")
        #expect(statuses.suffix(2) == [429, 429])
    }

    /// CI jobs and developers with GitLab's own tokens: a job token (`gitlab-ci-token`)
    /// admits the job's project groups, a personal access token its owner's groups;
    /// GitLab is asked once a minute per token, and when it cannot be asked a token it
    /// has not vouched for yet gets a 503, not a 401.
    @Test func gitLabJobAndPersonalTokensAreAskedOfGitLab() async throws {
        let ca = try await offThread { try TestCertificateAuthority() }
        let certificate = ca.directory + "/server.pem", key = ca.directory + "/server.key"
        try await offThread { try ca.issue(commonName: "warren", certificate: certificate, key: key) }
        let jobToken = "glcbt-" + UUID().uuidString, personal = "glpat-" + UUID().uuidString
        let gitlab = try await offThread { try OIDCTestProvider(redirectURI: "", script: "gitlab_api.py", arguments: [jobToken, personal]) }
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "file://" + fixture.root, "--tls-cert", certificate, "--tls-key", key,
            "--permissions", "group:corp/backend read,fetch github.com/kr/*", "--gitlab-tokens", gitlab.issuer,
        ])
        defer { warren.stop() }
        let url = "https://127.0.0.1:\(warren.port)"
        func client(_ login: String, _ password: String) throws -> GoClient {
            let go = GoClient(proxy: url, environment: ["SSL_CERT_FILE": ca.certificatePath])
            try Data("machine 127.0.0.1 login \(login) password \(password)\n".utf8).write(to: URL(fileURLWithPath: go.home + "/.netrc"))
            return go
        }
        let job = try await client("gitlab-ci-token", jobToken).run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(job.status == 0, "\(job.stderr)")
        #expect(gitlab.requests("/api/v4/job") == 1, "GitLab was asked \(gitlab.requests("/api/v4/job")) times")
        let mine = try await client("erin", personal).run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(mine.status == 0, "\(mine.stderr)")
        #expect(gitlab.requests("/api/v4/user") == 1 && gitlab.requests("/api/v4/groups") == 1)
        let wrong = try await client("gitlab-ci-token", "glcbt-not-a-job").run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(wrong.status != 0 && wrong.stderr.contains("neither a Warren token nor a token GitLab knows"), "\(wrong.stderr)")
        // GitLab down: a token it vouched for a moment ago still works; a new one is a 503.
        _ = gitlab.process.kill9()
        let caPath = ca.certificatePath
        let status = { (token: String) async throws -> String in
            try await offThread {
                try TestProcess.run("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", caPath,
                                                      "-u", "gitlab-ci-token:" + token, url + "/github.com/kr/text/@v/list"]).stdout
            }
        }
        #expect(try await status(jobToken) == "200")
        #expect(try await status("glcbt-never-seen") == "503")
        for text in [warren.stderr, warren.process.stdout.text] {
            #expect(!text.contains(jobToken) && !text.contains(personal))
        }
    }

    /// `/-/api/tokens`: an admin makes a token for a user and group, the user sees only
    /// their own tokens, cannot act for others or take groups they lack, and a token
    /// revoked through the API stops working at once.
    @Test func theTokenAPIMakesListsAndRevokesTokens() async throws {
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "file://" + fixture.root, "--permissions", "group:corp read,fetch github.com/kr/*; user:root admin *",
        ])
        defer { warren.stop() }
        let root = try await Self.token(warren, ["--user", "root"])
        let api = warren.url + "/-/api/tokens"
        func call(_ method: HTTPMethod, _ url: String, _ token: String?, body: String? = nil) async throws -> HTTPExchange {
            var request = HTTPClientRequest(url: url)
            request.method = method
            if let token { request.headers.add(name: "Authorization", value: "Bearer " + token) }
            if let body { request.body = .bytes(ByteBuffer(string: body)) }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return HTTPExchange(status: Int(response.status.code), headers: response.headers, body: Array(bytes.readableBytesView))
        }
        func object(_ e: HTTPExchange) -> [String: Any] { (try? JSONSerialization.jsonObject(with: Data(e.body))) as? [String: Any] ?? [:] }

        #expect(try await call(.GET, api, nil).status == 401)
        let made = try await call(.POST, api, root.text, body: #"{"user":"bob","groups":["corp"],"expires":"1d"}"#)
        #expect(made.status == 201, "\(made.text)")
        let bob = try #require(object(made)["token"] as? String)
        let bobID = try #require(object(made)["id"] as? String)
        #expect(try await HTTP.get(warren.url + "/github.com/kr/text/@v/list", headers: [("Authorization", "Bearer " + bob)]).status == 200)

        // bob sees his own tokens only, and may not act for others.
        let listed = try await call(.GET, api, bob)
        let entries = (try? JSONSerialization.jsonObject(with: Data(listed.body))) as? [[String: Any]] ?? []
        #expect(listed.status == 200 && entries.map { $0["user"] as? String } == ["bob"], "\(listed.text)")
        #expect(try await call(.POST, api, bob, body: #"{"user":"root"}"#).status == 403)
        #expect(try await call(.POST, api, bob, body: #"{"groups":["corp","admins"]}"#).status == 403)
        #expect(try await call(.DELETE, api + "/" + root.id, bob).status == 403)
        let own = try await call(.POST, api, bob, body: #"{"scopes":["read:github.com/kr/*"]}"#)
        #expect(own.status == 201, "\(own.text)")
        #expect(try await call(.POST, api, bob, body: "not json").status == 400)
        #expect(try await call(.POST, api, bob, body: #"{"scopes":["write:x"]}"#).status == 400)

        // Revoked through the API: refused at once.
        #expect(try await call(.DELETE, api + "/" + bobID, root.text).status == 204)
        #expect(try await HTTP.get(warren.url + "/github.com/kr/text/@v/list", headers: [("Authorization", "Bearer " + bob)]).status == 401)
        #expect(try await call(.DELETE, api + "/" + bobID, root.text).status == 404)
        #expect(!warren.stderr.contains(String(bob.dropFirst("wrn_".count + 16 + 1))))

        // Every replica's security events, in the database, for admins only.
        #expect(try await call(.GET, warren.url + "/-/api/audit", bob).status == 401)  // revoked by now
        var audit = ""
        for _ in 0..<50 where !(audit.contains("\"action\":\"token.revoke\"")) {
            audit = try await call(.GET, warren.url + "/-/api/audit", root.text).text
            if !audit.contains("\"action\":\"token.revoke\"") { try await Task.sleep(for: .milliseconds(200)) }  // written each second
        }
        #expect(audit.contains("\"action\":\"token.create\"") && audit.contains("\"target\":\"token \(bobID) for bob\""), "\(audit.prefix(2000))")
        #expect(audit.contains("\"action\":\"token.revoke\""), "\(audit.prefix(2000))")
        #expect(audit.contains("\"result\":\"denied\""), "\(audit.prefix(2000))")
        let other = try await call(.POST, api, root.text, body: #"{"user":"carl"}"#)
        let carl = try #require(object(other)["token"] as? String)
        #expect(try await call(.GET, warren.url + "/-/api/audit", carl).status == 403)
    }

    /// Two replicas on one PostgreSQL database: a token made on one works on the other at
    /// once, and revoked through one it is refused by the other within about a second.
    @Test func aTokenRevokedOnOneReplicaIsRefusedByTheOther() async throws {
        let postgres = try await PostgresServer.shared()
        let database = try await postgres.createDatabase()
        let arguments = ["--upstream", "file://" + fixture.root, "--database", postgres.url(database),
                         "--permissions", "group:corp read,fetch github.com/kr/*; user:root admin *"]
        let a = try await WarrenServerProcess.start(arguments: arguments)
        defer { a.stop() }
        let b = try await WarrenServerProcess.start(arguments: arguments)
        defer { b.stop() }
        let url = postgres.url(database)
        let root = try await offThread { try WarrenBinary.run(["token", "create", "--user", "root", "--database", url]) }
        let rootToken = root.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Made through replica a…
        var request = HTTPClientRequest(url: a.url + "/-/api/tokens")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer " + rootToken)
        request.body = .bytes(ByteBuffer(string: #"{"user":"bob","groups":["corp"]}"#))
        let made = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await made.body.collect(upTo: 1 << 16)
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        let bob = try #require(object["token"] as? String), bobID = try #require(object["id"] as? String)
        let list = "/github.com/kr/text/@v/list"
        // …works on replica b at once (an unknown token is looked up), on a kept-alive connection.
        #expect(try await HTTP.get(b.url + list, headers: [("Authorization", "Bearer " + bob)]).status == 200)
        // Revoked through replica a…
        var revoke = HTTPClientRequest(url: a.url + "/-/api/tokens/" + bobID)
        revoke.method = .DELETE
        revoke.headers.add(name: "Authorization", value: "Bearer " + rootToken)
        #expect(try await HTTPClient.shared.execute(revoke, timeout: .seconds(30)).status == .noContent)
        #expect(try await HTTP.get(a.url + list, headers: [("Authorization", "Bearer " + bob)]).status == 401)
        // …and refused by replica b once it has reloaded (it looks every second).
        let started = ContinuousClock.now
        var refused = false
        while !refused, ContinuousClock.now - started < .seconds(10) {
            refused = try await HTTP.get(b.url + list, headers: [("Authorization", "Bearer " + bob)]).status == 401
            if !refused { try await Task.sleep(for: .milliseconds(50)) }  // polling replica b
        }
        #expect(refused, "replica b still took a revoked token after 10 s")
    }
}
