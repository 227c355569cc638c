import Foundation
import GoModule
import Testing

@Suite struct CrashRecoveryTests {
    /// kill -9 during concurrent cold downloads, restart on the same data directory:
    /// everything served afterwards hashes right, and no partial file survives.
    @Test func killDuringDownloadsThenRestart() async throws {
        let fixture = ModuleFixture.shared
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let zipModules = fixture.modules.filter { $0.zipSize > 0 }
        for m in zipModules {
            upstream.setFault(ModuleFixture.artifactPath(m.path, m.version, "zip"), .slowBody(afterBytes: min(4096, m.zipSize / 2), pause: 5))
        }
        let dataDir = FileManager.default.temporaryDirectory.path + "/warren-crash-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }

        let first = try WarrenServerProcess(arguments: ["--upstream", upstream.url], dataDir: dataDir)
        // Start every download, let them get going, then pull the plug.
        let inFlight = Task {
            await withTaskGroup(of: Void.self) { group in
                for m in zipModules {
                    group.addTask { _ = try? await HTTP.get(first.url + "/" + ModuleFixture.artifactPath(m.path, m.version, "zip"), timeout: 30) }
                }
            }
        }
        // Wait until the upstream is sending the zips (bodies paused midway), then kill.
        for _ in 0..<200 {
            if zipModules.allSatisfy({ upstream.count(ModuleFixture.artifactPath($0.path, $0.version, "zip")) > 0 }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(300))
        first.kill()
        _ = await inFlight.value
        let leftovers = (FileManager.default.enumerator(atPath: dataDir)?.allObjects as? [String] ?? []).filter { $0.contains(".tmp-") }
        #expect(!leftovers.isEmpty, "the kill should have interrupted downloads")

        upstream.clearFaults()
        let second = try WarrenServerProcess(arguments: ["--upstream", upstream.url], dataDir: dataDir)
        defer { second.stop() }
        let swept = (FileManager.default.enumerator(atPath: dataDir)?.allObjects as? [String] ?? []).filter { $0.contains(".tmp-") }
        #expect(swept.isEmpty, "leftovers not removed at start: \(swept)")
        let scratch = FileManager.default.temporaryDirectory.path + "/warren-crash-check-\(UUID().uuidString).zip"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for m in zipModules {
            let r = try await HTTP.get(second.url + "/" + ModuleFixture.artifactPath(m.path, m.version, "zip"))
            #expect(r.status == 200)
            try Data(r.body).write(to: URL(fileURLWithPath: scratch))
            #expect(try Hash1.hashZip(path: scratch) == m.zipHash, "\(m.path)@\(m.version)")
        }
    }
}
