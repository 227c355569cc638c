import Foundation
import Testing

/// Attacks on a real `warren serve` under a lowered descriptor limit (`ulimit -n 256`):
/// one client must never be able to take the proxy offline, and every attack's
/// descriptors must be given back once it ends.
@Suite(.serialized) struct HostileClientTests {
    let fixture = ModuleFixture.shared
    /// Short client timeouts so that each attack ends within seconds.
    static let quick = ["--client-header-timeout", "1s", "--client-idle-timeout", "2s", "--client-send-timeout", "2s"]
    static let fileLimit = 256
    /// `(256 - 64) / 2`: the cap Warren derives from that limit.
    static let derivedCap = 96

    func start(_ extra: [String] = []) async throws -> (FaultyUpstream, WarrenServerProcess) {
        try await startProxyOnFixture(Self.quick + extra, fileLimit: Self.fileLimit)
    }

    /// Descriptors once the server has settled after answering one request.
    func baseline(_ warren: WarrenServerProcess) async throws -> Int {
        _ = try await HTTP.get(warren.url + "/healthz")
        return try await offThread {
            let socket = try TestSocket(port: warren.port)
            try socket.send("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            _ = socket.readToEnd(timeout: 5)
            var last = ProcessProbe.descriptors(warren.pid)
            // Settled: the same count twice in a row, 100 ms apart.
            _ = eventually(timeout: 3) {
                usleep(100_000)
                let now = ProcessProbe.descriptors(warren.pid)
                defer { last = now }
                return now == last
            }
            return last
        }
    }

    static func metric(_ warren: WarrenServerProcess, _ prefix: String) async throws -> Double {
        let text = try await HTTP.get(warren.url + "/metrics").text
        return text.split(separator: "\n").filter { $0.hasPrefix(prefix) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    @Test func idleFloodCannotLockOutOtherClients() async throws {
        // A header timeout longer than opening the flood takes, even on a loaded machine:
        // the flood must reach the cap, so that reclaiming (not the timeout) makes room.
        let (upstream, warren) = try await startProxyOnFixture(
            ["--client-header-timeout", "5s", "--client-idle-timeout", "2s", "--client-send-timeout", "2s"], fileLimit: Self.fileLimit)
        defer { warren.stop(); upstream.stop() }
        #expect(warren.stderr.contains("max-connections=\(Self.derivedCap)"), "the cap is logged at start: \(warren.stderr)")
        let base = try await baseline(warren)

        let outcome = try await offThread { () -> (health: Int, closed: Int, peak: Int, settled: Bool) in
            // Twice the cap of connections that never send a byte.
            let idle = try (0..<(2 * Self.derivedCap)).map { _ in try TestSocket(port: warren.port) }
            let peak = ProcessProbe.descriptors(warren.pid)
            // A health check on a new connection is still answered.
            let probe = try TestSocket(port: warren.port)
            try probe.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            let health = probe.readResponse(timeout: 5)?.status ?? 0
            // Every idle connection is closed by the server (reclaimed, or after the
            // header timeout of 5 s).
            var closed = 0
            for socket in idle where socket.readToEnd(timeout: 6).ended { closed += 1 }
            let settled = eventually(timeout: 5) { ProcessProbe.descriptors(warren.pid) <= base + 3 }
            return (health, closed, peak, settled)
        }
        #expect(outcome.health == 200)
        #expect(outcome.closed == 2 * Self.derivedCap, "idle connections left open by the server")
        #expect(outcome.peak <= base + Self.derivedCap + 8, "more connections held than the cap: \(outcome.peak) (baseline \(base))")
        #expect(outcome.settled, "descriptors did not return to the baseline of \(base): \(ProcessProbe.descriptors(warren.pid))")
        #expect(try await Self.metric(warren, "warren_client_connections_closed_total{reason=\"reclaimed\"}") >= 1)
        #expect(try await Self.metric(warren, "warren_client_connections_closed_total{reason=\"header_timeout\"}") >= 1)
    }

    @Test func slowHeaderGets408AndIdleKeepAliveIsClosed() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        try await offThread {
            // Slowloris: half a header, then a byte now and then.
            let slow = try TestSocket(port: warren.port)
            let started = Date()
            try slow.send("GET /healthz HTTP/1.1\r\nHo")
            var answer: [UInt8] = []
            var ended = false
            var trickle = Array("st: t\r\nX-A: b".utf8)[...]
            while !ended, Date().timeIntervalSince(started) < 6 {
                if let byte = trickle.popFirst() { try? slow.send([byte]) }
                let read = slow.readToEnd(timeout: 0.2)  // also the trickle's pace
                answer += read.bytes
                ended = read.ended
            }
            let elapsed = Date().timeIntervalSince(started)
            let text = String(decoding: answer, as: UTF8.self)
            #expect(ended, "slowloris connection left open")
            #expect(text.hasPrefix("HTTP/1.1 408 "), "\(text)")
            #expect(text.contains("Content-Type: text/plain; charset=utf-8"))
            #expect(text.hasSuffix("request header not complete within 1s\n"))
            #expect(elapsed >= 0.9 && elapsed < 4, "408 after \(elapsed) s")

            // A kept-alive connection is answered, then closed after the idle timeout (2 s).
            let kept = try TestSocket(port: warren.port)
            try kept.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(kept.readResponse(timeout: 5)?.status == 200)
            let idleSince = Date()
            let closed = kept.readToEnd(timeout: 8).ended
            let idle = Date().timeIntervalSince(idleSince)
            #expect(closed, "idle keep-alive connection left open")
            #expect(idle >= 1.8 && idle < 6, "closed after \(idle) s of idleness")
        }
    }

    @Test func busyConnectionsAtTheCapRefuseNewOnesWith503() async throws {
        let (upstream, warren) = try await start(["--max-connections", "3"])
        defer { warren.stop(); upstream.stop() }
        let slowPath = "github.com/kr/text/@v/list"
        // The upstream holds its answer until the test has seen the refusal.
        let gate = FaultyUpstream.Gate()
        upstream.setFault(slowPath, .gated(gate))
        let statuses = try await offThread { () -> ([Int], Int, String, Int) in
            let busy = try (0..<3).map { _ in try TestSocket(port: warren.port) }
            for socket in busy { try socket.send("GET /\(slowPath) HTTP/1.1\r\nHost: t\r\n\r\n") }
            // Wait until the three are being answered (the upstream has been asked).
            _ = eventually(timeout: 10) { upstream.count(slowPath) >= 1 }
            let extra = try TestSocket(port: warren.port)
            try? extra.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            let refused = extra.readToEnd(timeout: 5)
            let text = String(decoding: refused.bytes, as: UTF8.self)
            gate.fire()
            let answers = busy.map { $0.readResponse(timeout: 10)?.status ?? 0 }
            // With the busy ones answered (and so idle), a new connection gets in.
            let after = try TestSocket(port: warren.port)
            try after.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            return (answers, refused.ended ? 1 : 0, text, after.readResponse(timeout: 5)?.status ?? 0)
        }
        #expect(statuses.0 == [200, 200, 200])
        #expect(statuses.1 == 1)
        #expect(statuses.2.hasPrefix("HTTP/1.1 503 "), "\(statuses.2)")
        #expect(statuses.2.hasSuffix("too many connections: try again shortly\n"))
        #expect(statuses.3 == 200)
        #expect(try await Self.metric(warren, "warren_client_connections_refused_total") == 1)
        #expect(try await Self.metric(warren, "warren_client_connections_accepted_total") >= 5)
        #expect(try await HTTP.get(warren.url + "/metrics").text.contains("\nwarren_client_connections "), "no open-connections gauge")
    }

    @Test func pipelinedZipRequestsHoldOneFileAndAStalledReaderIsDropped() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let zip = "/" + ModuleFixture.artifactPath("golang.org/x/text", "v0.7.0", "zip")
        // Stored, then answered by the fast path (with sendfile).
        for _ in 0..<3 { #expect(try await RawHTTP.get(port: warren.port, rawPath: zip).status == 200) }
        let base = try await baseline(warren)

        let result = try await offThread { () -> (sent: Int, peak: Int, healthy: Bool, dropped: Bool, settled: Bool) in
            let attacker = try TestSocket(port: warren.port, receiveBuffer: 4096)
            let request = Array("GET \(zip) HTTP/1.1\r\nHost: t\r\n\r\n".utf8)
            let sent = attacker.sendWithoutBlocking(Array(repeating: request, count: 3000).flatMap { $0 })
            // While the attacker reads nothing, the server holds one file for it, and
            // other clients are served.
            var peak = 0
            let sampleUntil = Date().addingTimeInterval(1)
            while Date() < sampleUntil {
                peak = max(peak, ProcessProbe.descriptors(warren.pid))
                usleep(10_000)
            }
            let probe = try TestSocket(port: warren.port)
            try probe.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            let healthy = probe.readResponse(timeout: 5)?.status == 200
            // The stalled reader is dropped after the send timeout (2 s).
            let dropped = eventually(timeout: 10) {
                var info = tcp_info()
                var size = socklen_t(MemoryLayout<tcp_info>.size)
                getsockopt(attacker.fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &size)
                return info.tcpi_state != UInt8(TCP_ESTABLISHED)
            }
            let settled = eventually(timeout: 5) { ProcessProbe.descriptors(warren.pid) <= base + 3 }
            return (sent, peak, healthy, dropped, settled)
        }
        #expect(result.sent > 100 * 40, "the attack did not get its requests out: \(result.sent) bytes")
        #expect(result.peak <= base + 4, "pipelined requests opened files: \(result.peak) descriptors, baseline \(base)")
        #expect(result.healthy)
        #expect(result.dropped, "a client that reads nothing was never dropped")
        #expect(result.settled, "descriptors: \(ProcessProbe.descriptors(warren.pid)), baseline \(base)")
        #expect(try await Self.metric(warren, "warren_client_connections_closed_total{reason=\"slow_reader\"}") >= 1)
    }

    @Test func aSlowButLiveReaderIsNeverCut() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let zip = "/" + ModuleFixture.artifactPath("golang.org/x/text", "v0.7.0", "zip")
        let size = try #require(fixture.module("golang.org/x/text", "v0.7.0")?.zipSize)
        // Warmed through a reader on its own thread: this suite drops readers that stall
        // for 2 s, and a loaded test process can stall the runtime's threads that long.
        let warm = try await RawHTTP.get(port: warren.port, rawPath: zip)
        #expect(warm.status == 200)
        let received = try await offThread { () -> Int in
            let reader = try TestSocket(port: warren.port, receiveBuffer: 4096)
            try reader.send("GET \(zip) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            // About 64 KiB/s, far below the link, far above the 1 KiB/s minimum, for
            // three times the send timeout.
            var total = 0
            let until = Date().addingTimeInterval(6)
            while Date() < until {
                var budget = 8192
                while budget > 0, case .data(let d) = reader.receive(timeout: 0.5) {
                    total += d.count
                    budget -= d.count
                }
                usleep(125_000)
            }
            return total
        }
        #expect(received > 200_000, "the reader got \(received) bytes")
        #expect(received < size + 1000)
        #expect(try await Self.metric(warren, "warren_client_connections_closed_total{reason=\"slow_reader\"}") == 0)
    }

    @Test func garbageFollowedByMegabytesStillFreesTheDescriptor() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let base = try await baseline(warren)
        let (answer, settled) = try await offThread { () -> (String, Bool) in
            // The client reads the answer to garbage...
            let polite = try TestSocket(port: warren.port)
            try polite.send("GARBAGE\r\n\r\n")
            let answer = String(decoding: polite.readToEnd(timeout: 8).bytes, as: UTF8.self)
            // ...and another one queues 8 MB behind the garbage and closes without reading.
            for _ in 0..<5 {
                let rude = try TestSocket(port: warren.port)
                _ = rude.sendWithoutBlocking(Array("GARBAGE\r\n\r\n".utf8) + [UInt8](repeating: 0x78, count: 8 << 20))
            }
            // The server lingers at most 5 s after its answer, then lets go.
            return (answer, eventually(timeout: 12) { ProcessProbe.descriptors(warren.pid) <= base + 3 })
        }
        #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(answer)")
        #expect(answer.contains("Content-Type: text/plain; charset=utf-8\r\n"))
        #expect(answer.contains("Connection: close\r\n"))
        #expect(answer.hasSuffix("\r\n\r\nmalformed HTTP request (invalid method)\n"))
        #expect(settled, "descriptors: \(ProcessProbe.descriptors(warren.pid)), baseline \(base)")
    }

    @Test func acceptFailuresAtTheDescriptorLimitDoNotSpin() async throws {
        // A cap above what the limit allows: accepts fail with EMFILE.
        let (upstream, warren) = try await start(["--max-connections", "5000"])
        defer { warren.stop(); upstream.stop() }
        let (cpu, health) = try await offThread { () -> (Double, Int) in
            var flood: [TestSocket] = []
            for _ in 0..<400 {
                guard let s = try? TestSocket(port: warren.port, connectTimeout: 0.5) else { break }
                flood.append(s)
            }
            let before = ProcessProbe.cpuSeconds(warren.pid)
            usleep(2_000_000)  // the measurement window, not a wait for an event
            let used = ProcessProbe.cpuSeconds(warren.pid) - before
            flood.removeAll()
            var status = 0
            _ = eventually(timeout: 10) {
                guard let probe = try? TestSocket(port: warren.port, connectTimeout: 1) else { return false }
                try? probe.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                status = probe.readResponse(timeout: 2)?.status ?? 0
                return status == 200
            }
            return (used, status)
        }
        #expect(cpu < 1.0, "the server spun: \(cpu) s of CPU in 2 s")
        #expect(health == 200)
        #expect(warren.process.isRunning)
    }
}
