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

    /// SIGTERM while a slow reader is behind: the answer's last bytes wait in Warren's
    /// buffers when the server, shutting down, closes the connection after the answer.
    /// They must still reach the reader, not be dropped with the close.
    @Test func aReaderThatFellBehindStillGetsTheWholeZipAfterSigterm() async throws {
        let fixture = ModuleFixture.shared
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let zipPath = "golang.org/x/text/@v/v0.7.0.zip"
        let text = try #require(fixture.module("golang.org/x/text", "v0.7.0"))
        let gate = FaultyUpstream.Gate()
        upstream.setFault(zipPath, .gatedBody(afterBytes: 1 << 20, gate: gate))
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", upstream.url])
        let result = try await offThread { () -> (bytes: [UInt8], ended: Bool) in
            // A small receive buffer: most of the answer waits on Warren's side.
            let socket = try TestSocket(port: warren.port, receiveBuffer: 16 * 1024)
            try socket.send("GET /\(zipPath) HTTP/1.1\r\nHost: t\r\n\r\n")
            // The download is under way; the reader takes nothing yet.
            _ = eventually(timeout: 30) { upstream.count(zipPath) == 1 }
            warren.process.signal(SIGTERM)
            gate.fire()
            // The rest arrives upstream and is answered into buffers the reader has not
            // emptied; only then does the reader read, to the end.
            let reply = socket.readToEnd(timeout: 60)
            return reply
        }
        let text0 = String(decoding: result.bytes.prefix(12), as: UTF8.self)
        #expect(text0.hasPrefix("HTTP/1.1 200"), "\(text0)")
        let headerEnd = result.bytes.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound ?? 0
        #expect(result.bytes.count - headerEnd == text.zipSize, "got \(result.bytes.count - headerEnd) of \(text.zipSize) bytes")
        #expect(result.ended)
        #expect(warren.process.wait() == 0)
    }
}
