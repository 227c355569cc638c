import Foundation
import Testing

@Suite struct GracefulShutdownTests {
    /// SIGTERM while a zip is streaming: the download finishes, then Warren exits 0.
    @Test func sigtermFinishesDownloadsInFlight() async throws {
        let fixture = ModuleFixture.shared
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let zipPath = "golang.org/x/text/@v/v0.7.0.zip"
        let text = try #require(fixture.module("golang.org/x/text", "v0.7.0"))
        upstream.setFault(zipPath, .slowBody(afterBytes: 1 << 20, pause: 2))
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", upstream.url])
        let download = Task { try await HTTP.get(warren.url + "/" + zipPath, timeout: 60) }
        try await Task.sleep(for: .seconds(1))
        warren.process.signal(SIGTERM)
        let r: HTTPExchange
        do {
            r = try await download.value
        } catch {
            warren.process.wait()
            Issue.record("the download failed: \(error); warren's log: \(warren.stderr.suffix(3000))")
            return
        }
        #expect(r.status == 200)
        #expect(r.body.count == text.zipSize)
        #expect(warren.process.wait() == 0)
        #expect(warren.stderr.contains("stopped"))
    }
}
