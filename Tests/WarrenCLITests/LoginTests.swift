import Foundation
import TestServers
import Testing

/// Sign-in with an OpenID Connect provider (authlib on loopback, as GitLab would be):
/// the browser's round trip through /login, the provider's form and /callback leaves a
/// Warren token that the go command then uses over TLS; and every attack on the flow is
/// refused: a replayed code, a forged state, a callback without this browser's cookie,
/// ID tokens signed by another key, expired, or for another application, and a return
/// URL pointing at another site.
@Suite struct LoginTests {
    let fixture = ModuleFixture.shared

    /// Warren over TLS with a test CA, signing in through a provider on loopback (the
    /// OpenID Connect one, or the GitHub-shaped one), under rules that give group corp
    /// (or `rule`) github.com/kr/*.
    struct SignIn {
        let ca: TestCertificateAuthority
        let certificate: String
        let publicURL: String
        let provider: OIDCTestProvider
        let warren: WarrenServerProcess
    }

    func signInSetUp(github: Bool = false, rule: String = "group:corp read,fetch github.com/kr/*", extra: [String] = []) async throws -> SignIn {
        let ca = try await offThread { try TestCertificateAuthority() }
        let certificate = ca.directory + "/server.pem", key = ca.directory + "/server.key"
        try await offThread { try ca.issue(commonName: "warren", certificate: certificate, key: key) }
        // The public URL (and so the provider's redirect URI) names the port before Warren
        // binds it; if another process takes the port meanwhile, start again on another.
        var attempt = 0
        while true {
            attempt += 1
            let port = try RadosGateway.freePort()
            let publicURL = "https://127.0.0.1:\(port)"
            let provider = try await offThread {
                try OIDCTestProvider(redirectURI: publicURL + "/callback", script: github ? "github_api.py" : "oidc_provider.py")
            }
            let login = github ? ["--github-url", provider.issuer, "--github-client-id", provider.clientID]
                : ["--oidc-issuer", provider.issuer, "--oidc-client-id", provider.clientID]
            do {
                let warren = try await WarrenServerProcess.start(arguments: [
                    "--listen", "127.0.0.1:\(port)", "--upstream", "file://" + fixture.root, "--tls-cert", certificate, "--tls-key", key,
                    "--permissions", rule, "--public-url", publicURL,
                ] + login + extra, environment: [github ? "WARREN_GITHUB_CLIENT_SECRET" : "WARREN_OIDC_CLIENT_SECRET": provider.clientSecret])
                return SignIn(ca: ca, certificate: certificate, publicURL: publicURL, provider: provider, warren: warren)
            } catch let failure as WarrenServerProcess.StartFailure where failure.description.contains("Address already in use") && attempt < 3 {
                continue
            }
        }
    }

    @Test func signingInGivesATokenTheGoCommandUsesAndAttacksAreRefused() async throws {
        let audit = FileManager.default.temporaryDirectory.path + "/warren-login-audit-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: audit) }
        let setUp = try await signInSetUp(extra: ["--audit-log", audit])
        let (ca, publicURL, provider, warren) = (setUp.ca, setUp.publicURL, setUp.provider, setUp.warren)
        defer { warren.stop() }
        let browser = LoginBrowser(warren: publicURL, ca: ca.certificatePath, jar: ca.directory + "/jar")
        // curl runs on threads of its own (the runtime's few threads serve in-process servers).
        func signIn() async throws -> String { try await offThread { try browser.signIn(user: "alice", password: "alice-password") } }
        func get(_ url: String, cookies: String? = nil) async throws -> LoginBrowser.Step {
            try await offThread { try browser.get(url, cookies: cookies) }
        }

        // The round trip, and the page with the token and the lines to paste.
        let callback = try await signIn()
        try? FileManager.default.copyItem(atPath: browser.jar, toPath: ca.directory + "/jar-before")
        let page = try await get(callback)
        #expect(page.status == 200, "\(page.status) \(page.body)")
        let token = try #require(LoginBrowser.token(in: page.body), "\(page.body)")
        #expect(page.body.contains("machine 127.0.0.1 login alice password \(token)"))
        #expect(page.body.contains("go env -w GOPROXY=\(publicURL)"))
        #expect(page.body.contains("corp/backend"))

        // The go command with that token in .netrc gets what group corp may read.
        let go = GoClient(proxy: publicURL, environment: ["SSL_CERT_FILE": ca.certificatePath])
        try Data("machine 127.0.0.1 login alice password \(token)\n".utf8).write(to: URL(fileURLWithPath: go.home + "/.netrc"))
        let download = try await go.run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(download.status == 0, "\(download.stderr)")

        // The browser's session: its cookie reads (the token API lists alice's tokens), it
        // cannot change anything, and signing out ends it while the .netrc token lives on.
        let listed = try await get(publicURL + "/-/api/tokens")
        #expect(listed.status == 200 && listed.body.contains("\"user\":\"alice\""), "\(listed.status) \(listed.body)")
        let posted = try await offThread { try browser.curl(["-X", "POST", "-d", "{}", publicURL + "/-/api/tokens"]) }
        #expect(posted.status == 401, "a session cookie changed something: \(posted.status) \(posted.body)")
        #expect(try await get(publicURL + "/logout").status == 200)
        #expect(try await get(publicURL + "/-/api/tokens").status == 401)
        let afterLogout = GoClient(proxy: publicURL, environment: ["SSL_CERT_FILE": ca.certificatePath])
        try Data("machine 127.0.0.1 login alice password \(token)\n".utf8).write(to: URL(fileURLWithPath: afterLogout.home + "/.netrc"))
        let still = try await afterLogout.run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(still.status == 0, "\(still.stderr)")

        // A replayed callback (the same code, the cookie as it was): refused.
        let replay = try await get(callback, cookies: ca.directory + "/jar-before")
        #expect(replay.status == 400 && replay.body.contains("login failed"), "\(replay.status) \(replay.body)")
        // A forged state: refused.
        let second = try await signIn()
        let forged = second.replacingOccurrences(of: "state=", with: "state=forged")
        let forgedAnswer = try await get(forged)
        #expect(forgedAnswer.status == 400 && forgedAnswer.body.contains("state does not match"), "\(forgedAnswer.body)")
        // The callback in a browser that did not start the login: refused.
        try Data().write(to: URL(fileURLWithPath: ca.directory + "/empty-jar"))
        let stranger = try await get(try await signIn(), cookies: ca.directory + "/empty-jar")
        #expect(stranger.status == 400 && stranger.body.contains("not started here"), "\(stranger.body)")

        // ID tokens that must not be believed.
        for (mode, reason) in [("other-key", "signature"), ("expired", "expired"), ("wrong-audience", "not for this client")] {
            try await offThread { try provider.setMode(mode) }
            let answer = try await get(try await signIn())
            #expect(answer.status == 400 && answer.body.contains(reason), "\(mode): \(answer.status) \(answer.body)")
            #expect(LoginBrowser.token(in: answer.body) == nil)
        }
        try await offThread { try provider.setMode("good") }

        // The return URL may only be a path here.
        for evil in ["https://evil.example/", "//evil.example/x", "/\\evil.example"] {
            let encoded = evil.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            #expect(try await get(publicURL + "/login?return=" + encoded).status == 400, "\(evil)")
        }
        let back = try await get(publicURL + "/login?return=%2Fgithub.com%2Fkr%2Ftext%2F%40v%2Flist")
        #expect(back.status == 302)

        // The audit log has the login and the refusals; no secret is anywhere.
        let auditText = (try? String(contentsOfFile: audit, encoding: .utf8)) ?? ""
        #expect(auditText.contains("\"action\":\"login\",\"user\":\"alice\""), "\(auditText.prefix(1500))")
        #expect(auditText.contains("\"result\":\"denied\",\"detail\":\"the state does not match"), "\(auditText.prefix(3000))")
        let secret = String(token.dropFirst("wrn_".count + 16 + 1))  // the secret may itself hold "_"
        for text in [warren.stderr, warren.process.stdout.text, auditText] {
            #expect(!text.contains(secret) && !text.contains(provider.clientSecret))
        }
    }

    /// The whole sign-in in a real browser (headless Chromium over the DevTools
    /// protocol): Warren's /login, the provider's form filled in and submitted, Warren's
    /// token page (its screenshot kept under .build/test-artifacts), and the token then
    /// used by the go command.
    @Test func aRealBrowserSignsInAndTheGoCommandUsesTheToken() async throws {
        let chromium = try #require(["/usr/bin/chromium-headless-shell", "/usr/bin/chromium"].first(where: FileManager.default.isExecutableFile(atPath:)),
                                    "chromium-headless-shell is not installed (scripts/install-deps.sh test)")
        let setUp = try await signInSetUp()
        let (ca, certificate, publicURL, warren) = (setUp.ca, setUp.certificate, setUp.publicURL, setUp.warren)
        defer { warren.stop() }
        // The browser trusts Warren's key alone, by its SPKI hash.
        let spki = try await offThread { () -> String in
            let r = try TestProcess.run("/bin/sh", ["-c", "openssl x509 -in '\(certificate)' -pubkey -noout | openssl pkey -pubin -outform der"
                                                    + " | openssl dgst -sha256 -binary | base64"])
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        let artifacts = OIDCTestProvider.root.appendingPathComponent(".build/test-artifacts").path
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        let screenshot = artifacts + "/login-token-page.png"
        let python = OIDCTestProvider.root.appendingPathComponent(".build/test-python/bin/python3").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/browser_login.py").path
        let run = try await offThread {
            try TestProcess.run(python, [script, chromium, publicURL + "/login", "alice", "alice-password", screenshot, spki])
        }
        #expect(run.status == 0, "\(run.stderr)")
        let token = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("wrn_"), "\(run.stdout) \(run.stderr)")
        #expect(run.stderr.contains(publicURL + "/callback?code="), "the browser did not end on Warren's callback: \(run.stderr)")
        let size = (try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0
        #expect(size > 1000, "no screenshot of the token page")

        let go = GoClient(proxy: publicURL, environment: ["SSL_CERT_FILE": ca.certificatePath])
        try Data("machine 127.0.0.1 login alice password \(token)\n".utf8).write(to: URL(fileURLWithPath: go.home + "/.netrc"))
        let download = try await go.run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(download.status == 0, "\(download.stderr)")
    }

    /// GitHub Enterprise through an OAuth app: the user's organizations and teams become
    /// groups (`corp`, `corp/backend`), so a team's rule lets its token download.
    @Test func gitHubEnterpriseSignInMapsOrganizationsAndTeamsToGroups() async throws {
        let setUp = try await signInSetUp(github: true, rule: "group:corp/backend read,fetch github.com/kr/*")
        let (ca, publicURL, github, warren) = (setUp.ca, setUp.publicURL, setUp.provider, setUp.warren)
        defer { warren.stop() }
        let browser = LoginBrowser(warren: publicURL, ca: ca.certificatePath, jar: ca.directory + "/jar")
        let callback = try await offThread { try browser.signIn(user: "carol", password: "carol-password") }
        try? FileManager.default.copyItem(atPath: browser.jar, toPath: ca.directory + "/jar-before")
        let page = try await offThread { try browser.get(callback) }
        #expect(page.status == 200, "\(page.status) \(page.body)")
        #expect(page.body.contains("<span id=\"groups\">corp, corp/backend</span>"), "\(page.body)")
        let token = try #require(LoginBrowser.token(in: page.body))

        let go = GoClient(proxy: publicURL, environment: ["SSL_CERT_FILE": ca.certificatePath])
        try Data("machine 127.0.0.1 login carol password \(token)\n".utf8).write(to: URL(fileURLWithPath: go.home + "/.netrc"))
        let download = try await go.run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(download.status == 0, "\(download.stderr)")

        // dan is in no team: signed in, and refused the team's module.
        let danCallback = try await offThread { try browser.signIn(user: "dan", password: "dan-password") }
        let danPage = try await offThread { try browser.get(danCallback) }
        let danToken = try #require(LoginBrowser.token(in: danPage.body), "\(danPage.body)")
        let danGo = GoClient(proxy: publicURL, environment: ["SSL_CERT_FILE": ca.certificatePath])
        try Data("machine 127.0.0.1 login dan password \(danToken)\n".utf8).write(to: URL(fileURLWithPath: danGo.home + "/.netrc"))
        let danDownload = try await danGo.run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(danDownload.status != 0 && danDownload.stderr.contains("dan may not read github.com/kr/text"), "\(danDownload.stderr)")
        // A replayed code: GitHub refuses it the second time.
        let replay = try await offThread { try browser.get(callback, cookies: ca.directory + "/jar-before") }
        #expect(replay.status == 400 && replay.body.contains("refused the code"), "\(replay.body)")
        #expect(!warren.stderr.contains(github.clientSecret))
    }

    /// `warren login URL`: the command prints the URL, the browser signs in, Warren sends
    /// the token sealed to the command's key to its loopback port, and the command writes
    /// the .netrc entry the go command then uses.
    @Test func warrenLoginWritesTheNetrcEntry() async throws {
        let setUp = try await signInSetUp()
        let (ca, publicURL, warren) = (setUp.ca, setUp.publicURL, setUp.warren)
        defer { warren.stop() }
        let netrc = ca.directory + "/netrc"
        try Data("machine 127.0.0.1 login old password stale\nmachine other.example login x password y\n".utf8)
            .write(to: URL(fileURLWithPath: netrc))
        let login = try TestProcess(WarrenBinary.path, ["login", publicURL, "--no-browser", "--netrc", netrc, "--timeout", "60"])
        let printed = await offThreadWait { login.stdout.waitFor(timeout: 20) { $0.contains("Sign in at: ") && $0.hasSuffix("\n") }.contains("Sign in at: ") }
        #expect(printed, "\(login.stdout.text) \(login.stderr.text)")
        let line = login.stdout.text.split(separator: "\n").first { $0.hasPrefix("Sign in at: ") } ?? ""
        let loginURL = String(line.dropFirst("Sign in at: ".count))
        let path = String(loginURL.dropFirst(publicURL.count))

        // The browser's part: /login → the provider → Warren's callback → the command.
        let browser = LoginBrowser(warren: publicURL, ca: ca.certificatePath, jar: ca.directory + "/jar")
        let callback = try await offThread { try browser.signIn(user: "alice", password: "alice-password", loginPath: path) }
        let back = try await offThread { try browser.get(callback) }
        #expect(back.status == 302 && back.location?.hasPrefix("http://127.0.0.1:") == true, "\(back.status) \(back.body)")
        #expect(back.location?.contains("wrn_") == false, "the token travelled unsealed")
        let handed = try await offThread { try browser.get(back.location ?? "") }
        #expect(handed.status == 200 && handed.body.contains("Signed in"), "\(handed.status) \(handed.body)")
        let status = await offThreadWait { login.wait() == 0 }
        #expect(status, "\(login.stdout.text) \(login.stderr.text)")

        let written = try String(contentsOfFile: netrc, encoding: .utf8)
        #expect(written.contains("machine other.example login x password y"))
        #expect(!written.contains("stale"))
        let entry = try #require(written.split(separator: "\n").first { $0.hasPrefix("machine 127.0.0.1 login alice password wrn_") })
        let mode = (try FileManager.default.attributesOfItem(atPath: netrc)[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600)
        let go = GoClient(proxy: publicURL, environment: ["SSL_CERT_FILE": ca.certificatePath, "NETRC": netrc])
        let download = try await go.run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(download.status == 0, "\(download.stderr) \(entry.prefix(40))")
        // Bad cli parameters are refused at /login.
        let refused = try await offThread { try browser.get(publicURL + "/login?cli_port=80&cli_key=x&cli_state=y") }
        #expect(refused.status == 400)
    }
}
