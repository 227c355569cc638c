import Foundation
import TestServers
import Testing

/// The web console under /-/: walked in a real browser by an admin (every page loaded,
/// every link followed and checked, HTML validated, nothing loaded from elsewhere, a
/// search, a pin and an eviction done with the pages' own forms, screenshots kept), and
/// its refusals: no token, a reader's view of what they may read only, admin pages and
/// forms for admins only, and forms that only work from a page rendered for the caller.
@Suite struct ConsoleTests {
    let fixture = ModuleFixture.shared
    static let namespace = "go.corp.example.com"

    struct Site {
        let warren: WarrenServerProcess
        let sumdb: SumDBServer
        let root: String, dev: String, ci: String
        let scratch: ScratchDirectory

        func get(_ path: String, token: String?) async throws -> HTTPExchange {
            try await HTTP.get(warren.url + path, headers: token.map { [("Authorization", "Bearer " + $0)] } ?? [])
        }

        /// A form post with curl (which does not follow the redirect): the status and Location.
        func post(_ path: String, token: String, _ body: String) async throws -> (status: Int, location: String) {
            let r = try await ExternalCommand.run("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}\n%{redirect_url}",
                                                                    "-H", "Authorization: Bearer " + token, "--data-raw", body, warren.url + path],
                                                  environment: ["PATH": "/usr/bin:/bin"])
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            return (Int(lines.first ?? "") ?? 0, lines.count > 1 ? String(lines[1]) : "")
        }

        func stop() {
            warren.stop()
            sumdb.stop()
        }
    }

    static func token(_ warren: WarrenServerProcess, _ user: String) async throws -> String {
        let dataDir = warren.dataDir
        let r = try await offThread { try WarrenBinary.run(["token", "create", "--data-dir", dataDir, "--user", user]) }
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Warren verifying against a local checksum database, with a hosted namespace, three
    /// users, six public module versions fetched and one published.
    func startSite() async throws -> Site {
        let sumdb = try await offThread { [fixture] in try SumDBServer(root: fixture.root) }
        let scratch = ScratchDirectory()
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "file://" + fixture.root, "--sumdb", sumdb.verifierKey + " " + sumdb.url,
            "--hosted", "\(Self.namespace)/*", "--cache-max-size", "1GiB", "--anonymous", "off",
            "--permissions", "user:root admin *; user:dev read,fetch github.com/*; user:ci publish \(Self.namespace)/*",
        ])
        let site = Site(warren: warren, sumdb: sumdb, root: try await Self.token(warren, "root"), dev: try await Self.token(warren, "dev"),
                        ci: try await Self.token(warren, "ci"), scratch: scratch)
        // Fetched as the go command would (.info, .mod, .zip), with the admin's token.
        for (module, version) in [("github.com/kr/text", "v0.2.0"), ("github.com/kr/text", "v0.1.0"), ("gopkg.in/yaml.v3", "v3.0.1"),
                                  ("github.com/BurntSushi/toml", "v1.2.1"), ("github.com/google/go-cmp", "v0.5.9"), ("golang.org/x/text", "v0.7.0")] {
            for ext in ["info", "mod", "zip"] {
                let answer = try await site.get("/" + ModuleFixture.artifactPath(module, version, ext), token: site.root)
                #expect(answer.status == 200, "\(module)@\(version).\(ext): \(answer.status) \(answer.text.prefix(200))")
            }
        }
        let lib = scratch.path + "/lib"
        try PublishTests.writeModule(lib, module: Self.namespace + "/lib", greeting: "hosted")
        let zip = scratch.path + "/lib.zip"
        let zipped = try await offThread { try WarrenBinary.run(["mod", "zip", lib, "\(Self.namespace)/lib@v1.0.0", zip]) }
        #expect(zipped.status == 0, "\(zipped.stderr)")
        let put = try await ExternalCommand.run("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(site.ci)",
                                                                  "-T", zip, warren.url + "/api/v1/modules/\(Self.namespace)/lib/@v/v1.0.0.zip"],
                                                environment: ["PATH": "/usr/bin:/bin"])
        #expect(put.stdout == "201", "\(put.stdout) \(put.stderr)")
        return site
    }

    @Test func anAdminWalksEveryPageInARealBrowser() async throws {
        let chromium = try #require(["/usr/bin/chromium-headless-shell", "/usr/bin/chromium"].first(where: FileManager.default.isExecutableFile(atPath:)),
                                    "chromium-headless-shell is not installed (scripts/install-deps.sh test)")
        let site = try await startSite()
        defer { site.stop() }
        let artifacts = OIDCTestProvider.root.appendingPathComponent(".build/test-artifacts/console").path
        try? FileManager.default.removeItem(atPath: artifacts)
        let python = OIDCTestProvider.root.appendingPathComponent(".build/test-python/bin/python3").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/console_browser.py").path
        let url = site.warren.url
        let run = try await offThread {
            try TestProcess.run(python, [script, chromium, url, site.root, artifacts, "text", "github.com/kr/text", "gopkg.in/yaml.v3",
                                         "github.com/google/*", "github.com/kr/text", "v0.1.0", "/-/modules?per=3"])
        }
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout) \(run.stderr)")
        let pages = summary["pages"] as? [String] ?? []
        for page in ["/-/", "/-/modules", "/-/status", "/-/admin", "/-/modules/github.com/kr/text", "/-/modules/\(Self.namespace)/lib",
                     "/-/modules/golang.org/x/text"] {
            #expect(pages.contains(page), "the walk missed \(page): \(pages)")
        }
        // Paging: three modules a page, and the next-page links lead through all of them.
        #expect(pages.contains { $0.hasPrefix("/-/modules?per=3&after=") }, "\(pages)")
        #expect((summary["links"] as? Int ?? 0) >= 10, "\(summary)")
        #expect((summary["stylesheets"] as? Int ?? 0) >= 1, "the stylesheet was never requested: \(summary)")
        let shots = summary["screenshots"] as? [String] ?? []
        #expect(shots.count == pages.count && shots.allSatisfy { ((try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0) > 5000 })

        // What the forms did is real: the pin is in the database, and the evicted zip is
        // fetched again, byte for byte, when asked for.
        let pins = try await offThread { try WarrenBinary.run(["cache", "pins", "--data-dir", site.warren.dataDir]) }
        #expect(pins.stdout.contains("github.com/google/*"), "\(pins.stdout) \(pins.stderr)")
        let zip = try await site.get("/github.com/kr/text/@v/v0.1.0.zip", token: site.root)
        let expected = try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/github.com/kr/text/@v/v0.1.0.zip"))
        #expect(zip.status == 200 && Data(zip.body) == expected)
        let audit = try await site.get("/-/admin", token: site.root)
        #expect(audit.text.contains("cache.pin") && audit.text.contains("cache.evict"), "the admin actions are not in the audit log")
    }

    @Test func readersSeeWhatTheyMayReadAndOnlyAdminsChangeAnything() async throws {
        let site = try await startSite()
        defer { site.stop() }
        // No token: the Basic challenge, on an HTML page.
        let anonymous = try await site.get("/-/modules", token: nil)
        #expect(anonymous.status == 401 && anonymous.headers["WWW-Authenticate"].first == "Basic realm=\"warren\"")

        // A reader sees only github.com/* modules, and an unreadable module is not there.
        let listed = try await site.get("/-/modules", token: site.dev)
        #expect(listed.status == 200 && listed.text.contains("github.com/kr/text") && !listed.text.contains("gopkg.in/yaml.v3")
                && !listed.text.contains(Self.namespace), "\(listed.text)")
        #expect(try await site.get("/-/modules/gopkg.in/yaml.v3", token: site.dev).status == 404)
        #expect(try await site.get("/-/modules/github.com/kr/text", token: site.dev).text.contains("h1:"))
        #expect(try await site.get("/-/admin", token: site.dev).status == 403)
        #expect(!(try await site.get("/-/", token: site.dev).text.contains("href=\"/-/admin\"")))

        // The admin sees everything, including the publish history and the verified tree head.
        let hosted = try await site.get("/-/modules/\(Self.namespace)/lib", token: site.root)
        #expect(hosted.status == 200 && hosted.text.contains("id=\"history\"") && hosted.text.contains("<td>ci</td>")
                && hosted.text.contains("<span class=\"tag hosted\">hosted</span>"), "\(hosted.text)")
        #expect(!hosted.text.contains("Evict"), "a hosted module offers eviction")
        let status = try await site.get("/-/status", token: site.root)
        #expect(status.status == 200 && status.text.contains("tree size ") && status.text.contains("of a 1.0 GiB quota"), "\(status.text)")

        // Forms: without the page's token, or from a reader, nothing changes.
        let forged = try await site.post("/-/admin/pin", token: site.root, "pattern=github.com/*&back=/-/admin")
        #expect(forged.status == 403, "\(forged)")
        let readerForm = Self.formToken(in: try await site.get("/-/modules/github.com/kr/text", token: site.dev).text)
        #expect(readerForm == nil, "a reader's page carries admin forms")
        let adminPage = try await site.get("/-/admin", token: site.root).text
        let adminForm = try #require(Self.formToken(in: adminPage))
        let stolen = try await site.post("/-/admin/pin", token: site.dev, "form=\(adminForm)&pattern=github.com/*")
        #expect(stolen.status == 403, "another user's form token was accepted: \(stolen)")
        // A good form redirects back into the console only, never to another site.
        let pinned = try await site.post("/-/admin/pin", token: site.root, "form=\(adminForm)&pattern=gopkg.in/*&back=https://evil.example/")
        #expect(pinned.status == 303 && pinned.location == site.warren.url + "/-/admin?done=pinned%20gopkg.in/%2A", "\(pinned)")
        let hostedEviction = try await site.post("/-/admin/evict", token: site.root, "form=\(adminForm)&module=\(Self.namespace)/lib&back=/-/admin")
        #expect(hostedEviction.status == 303 && hostedEviction.location.contains("error=go.corp.example.com/lib%20is%20hosted"), "\(hostedEviction)")
        #expect(try await site.get("/\(Self.namespace)/lib/@v/v1.0.0.zip", token: site.root).status == 200)
    }

    static func formToken(in html: String) -> String? {
        guard let range = html.range(of: "name=\"form\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix(while: { $0 != "\"" }))
    }
}
