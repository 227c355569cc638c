import Foundation
import Synchronization
import TestServers
import Testing

/// Live reconfiguration of a running `warren serve`: SIGHUP (or the config file
/// changing) puts a new upstream chain, policy and log level in force while clients keep
/// downloading on kept-alive connections; a bad config is refused with a line naming its
/// key and the running one stays; a key only a restart can change is named and kept.
@Suite struct ReloadTests {
    let fixture = ModuleFixture.shared

    /// A GOPROXY file tree with one module the fixture does not have.
    static func secondUpstream(_ root: String) throws -> String {
        let source = root + "/src"
        try PublishTests.writeModule(source, module: "example.org/fresh", greeting: "fresh")
        let dir = root + "/tree/example.org/fresh/@v"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let zipped = try WarrenBinary.run(["mod", "zip", source, "example.org/fresh@v1.0.0", dir + "/v1.0.0.zip"])
        #expect(zipped.status == 0, "\(zipped.stderr)")
        try FileManager.default.copyItem(atPath: source + "/go.mod", toPath: dir + "/v1.0.0.mod")
        try Data(#"{"Version":"v1.0.0","Time":"2026-01-01T00:00:00Z"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/v1.0.0.info"))
        try Data("v1.0.0\n".utf8).write(to: URL(fileURLWithPath: dir + "/list"))
        return root + "/tree"
    }

    static func write(_ path: String, _ text: String) throws {
        // Into place at once, as a configuration tool would, so a reload never reads half a file.
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    @Test func sighupReloadsUpstreamsPolicyAndLogLevelUnderLoadAndRefusesABadConfig() async throws {
        let scratch = ScratchDirectory()
        let second = try await offThread { try Self.secondUpstream(scratch.path + "/second") }
        let config = scratch.path + "/warren.yaml"
        try Self.write(config, """
            upstream: file://\(fixture.root)
            log-level: warning
            policy: 'deny github.com/kr/text "kr/text is denied here"'

            """)
        let warren = try await WarrenServerProcess.start(arguments: ["--config", config])
        defer { warren.stop() }
        let toml = "/" + ModuleFixture.artifactPath("github.com/BurntSushi/toml", "v1.2.1", "zip")
        let cmp = "/" + ModuleFixture.artifactPath("github.com/google/go-cmp", "v0.5.9", "mod")
        let krText = "/" + ModuleFixture.artifactPath("github.com/kr/text", "v0.2.0", "info")
        let yaml = "/" + ModuleFixture.artifactPath("gopkg.in/yaml.v3", "v3.0.1", "info")
        let fresh = "/example.org/fresh/@v/v1.0.0.info"
        #expect(try await HTTP.get(warren.url + toml).status == 200)
        #expect(try await HTTP.get(warren.url + cmp).status == 200)
        let denied = try await HTTP.get(warren.url + krText)
        #expect(denied.status == 403 && denied.text.contains("kr/text is denied here"), "\(denied.status) \(denied.text)")
        #expect(try await HTTP.get(warren.url + fresh).status == 404)
        #expect(try await HTTP.get(warren.url + yaml).status == 200)
        // At log level warning, no request line is written.
        let before = "/" + ModuleFixture.artifactPath("github.com/google/go-cmp", "v0.5.9", "info")
        #expect(try await HTTP.get(warren.url + before).status == 200)

        // A connection kept alive across the reload.
        let port = warren.port
        let socket = try await offThread { try TestSocket(port: port) }
        let request = "GET \(toml) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        let first = try await offThread { try socket.send(request); return socket.readResponse(timeout: 10) }
        #expect(first?.status == 200)

        // Load: four clients downloading until the reloads are done.
        let stats = LoadStats()
        let url = warren.url
        let load = Task { [stats] in
            await withTaskGroup(of: Void.self) { group in
                for n in 0..<4 {
                    group.addTask {
                        while !stats.stop.load(ordering: .relaxed) {
                            let path = n % 2 == 0 ? toml : cmp
                            do {
                                let r = try await HTTP.get(url + path)
                                if r.status == 200 { stats.served.add(1, ordering: .relaxed) } else { stats.failures.withLock { $0.append("\(path): \(r.status)") } }
                            } catch {
                                stats.failures.withLock { $0.append("\(path): \(error)") }
                            }
                        }
                    }
                }
            }
        }

        // The new configuration: a second upstream first, another rule, info logging.
        try Self.write(config, """
            upstream: file://\(second),file://\(fixture.root)
            log-level: info
            policy: 'deny gopkg.in/yaml.v3 "yaml.v3 is denied now"'

            """)
        let stderr = warren.process.stderr
        let reloads: @Sendable (String) -> Int = { text in text.components(separatedBy: "configuration reloaded").count - 1 }
        let pid = warren.pid
        try await offThread { _ = try TestProcess.run("/bin/kill", ["-HUP", String(pid)]) }
        let reloaded = try await offThread { stderr.waitFor(timeout: 20) { reloads($0) >= 1 } }
        #expect(reloads(reloaded) >= 1, "\(reloaded)")
        #expect(reloaded.contains("changed=log-level,policy,upstream"), "\(reloaded)")

        let freshInfo = try await HTTP.get(warren.url + fresh)
        #expect(freshInfo.status == 200 && freshInfo.text.contains("v1.0.0"), "the new upstream is not used: \(freshInfo.status)")
        #expect(try await HTTP.get(warren.url + krText).status == 200, "the old rule still refuses")
        let yamlDenied = try await HTTP.get(warren.url + yaml)
        #expect(yamlDenied.status == 403 && yamlDenied.text.contains("yaml.v3 is denied now"), "\(yamlDenied.status) \(yamlDenied.text)")
        let again = try await offThread { try socket.send(request); return socket.readResponse(timeout: 10) }
        #expect(again?.status == 200, "the kept-alive connection did not survive the reload")
        // At info, request lines are written again: this one appears, the one made at
        // warning never did (the access log keeps the order of requests).
        let after = "/" + ModuleFixture.artifactPath("github.com/BurntSushi/toml", "v1.2.1", "mod")
        #expect(try await HTTP.get(warren.url + after).status == 200)
        let logged = try await offThread { stderr.waitFor(timeout: 20) { $0.contains("path=\(after)") } }
        #expect(logged.contains("path=\(after)") && !logged.contains("path=\(before)"))

        // A bad value: refused, naming the key; the configuration in force stays.
        try Self.write(config, """
            upstream: file://\(fixture.root)
            retries: many

            """)
        try await offThread { _ = try TestProcess.run("/bin/kill", ["-HUP", String(pid)]) }
        let refused = try await offThread { stderr.waitFor(timeout: 20) { $0.contains("configuration not reloaded") } }
        let refusal = refused.split(separator: "\n").first { $0.contains("configuration not reloaded") } ?? ""
        #expect(refusal.contains("invalid retries") && refusal.contains("many"), "\(refusal)")
        #expect(try await HTTP.get(warren.url + fresh).status == 200)
        #expect(try await HTTP.get(warren.url + yaml).status == 403)

        // The file changing is enough (no signal); a restart-only key is named and kept.
        // (The earlier change may have been reloaded twice: once for the file, once for
        // the signal. Count from here.)
        let reloadsSoFar = reloads(stderr.text)
        try Self.write(config, """
            upstream: file://\(fixture.root)
            path-prefix: /elsewhere

            """)
        let restartOnly = try await offThread { stderr.waitFor(timeout: 20) { reloads($0) > reloadsSoFar } }
        #expect(restartOnly.contains("reason=\"the config file changed\"") || restartOnly.contains("reason=SIGHUP"), "\(restartOnly)")
        #expect(restartOnly.contains("change only with a restart") && restartOnly.contains("keys=path-prefix"), "\(restartOnly)")
        #expect(try await HTTP.get(warren.url + yaml).status == 200, "the policy of the last config is not in force")
        #expect(try await HTTP.get(warren.url + toml).status == 200, "the path prefix moved while running")

        stats.stop.store(true, ordering: .relaxed)
        await load.value
        let problems = stats.failures.withLock { $0 }
        #expect(problems.isEmpty, "requests failed during reloads: \(problems.prefix(5))")
        #expect(stats.served.load(ordering: .relaxed) > 20)
    }

    /// Access rules reload too: a module a rule opened to anonymous readers is closed by
    /// the next config, for the fast path's remembered answers as well.
    @Test func permissionsChangeWithoutARestart() async throws {
        let scratch = ScratchDirectory()
        let config = scratch.path + "/warren.yaml"
        try Self.write(config, """
            upstream: file://\(fixture.root)
            anonymous: fetch
            permissions: 'user:ci read,fetch gopkg.in/*; anonymous read,fetch gopkg.in/*'

            """)
        let warren = try await WarrenServerProcess.start(arguments: ["--config", config])
        defer { warren.stop() }
        let yaml = warren.url + "/" + ModuleFixture.artifactPath("gopkg.in/yaml.v3", "v3.0.1", "zip")
        #expect(try await HTTP.get(yaml).status == 200)
        #expect(try await HTTP.get(yaml).status == 200)  // now from the fast path's table
        try Self.write(config, """
            upstream: file://\(fixture.root)
            anonymous: fetch
            permissions: 'user:ci read,fetch gopkg.in/*'

            """)
        let pid = warren.pid
        try await offThread { _ = try TestProcess.run("/bin/kill", ["-HUP", String(pid)]) }
        let stderr = warren.process.stderr
        let reloaded = try await offThread { stderr.waitFor(timeout: 20) { $0.contains("configuration reloaded") } }
        #expect(reloaded.contains("changed=permissions"), "\(reloaded)")
        let refused = try await HTTP.get(yaml)
        #expect(refused.status == 401, "anonymous still reads gopkg.in after the rule was removed: \(refused.status)")
        #expect(try await HTTP.get(warren.url + "/" + ModuleFixture.artifactPath("github.com/kr/text", "v0.2.0", "info")).status == 200)
    }
}

/// What the load's clients saw.
final class LoadStats: Sendable {
    let stop = Atomic<Bool>(false)
    let failures = Mutex<[String]>([])
    let served = Atomic<Int>(0)
}
