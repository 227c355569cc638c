import Foundation
import Testing
@testable import GoModule

/// Random and mutated input for every parser that sees data from the network: each must
/// answer with a value or its typed error, never crash, and keep its invariants.
/// Deterministic (fixed seeds); WARREN_FUZZ_ITERATIONS raises the count for longer runs.
@Suite struct FuzzTests {
    static let iterations = Int(ProcessInfo.processInfo.environment["WARREN_FUZZ_ITERATIONS"] ?? "") ?? 3000

    /// SplitMix64: small, fast and reproducible.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    static let alphabet: [UInt8] = Array("abcXYZ019.-_~+!/@()[]{},\"'`\\ \t\n\r*?^:%#é☺".utf8) + [0, 0x7F, 0xFF, 0xC3]

    /// Mutates bytes: flips, inserts, deletes, duplicates a run, or truncates.
    static func mutate(_ input: [UInt8], _ r: inout Random) -> [UInt8] {
        var b = input
        for _ in 0..<(1 + r.below(4)) {
            switch r.below(5) {
            case 0 where !b.isEmpty: b[r.below(b.count)] ^= UInt8(truncatingIfNeeded: 1 << r.below(8))
            case 1: b.insert(r.pick(alphabet), at: r.below(b.count + 1))
            case 2 where !b.isEmpty: b.remove(at: r.below(b.count))
            case 3 where b.count > 2:
                let start = r.below(b.count - 1)
                let end = min(b.count, start + 1 + r.below(16))
                b.insert(contentsOf: b[start..<end], at: r.below(b.count + 1))
            case 4 where !b.isEmpty: b.removeLast(r.below(b.count))
            default: b.append(r.pick(alphabet))
            }
        }
        return b
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func pathsAndEscaping() {
        var r = Random(state: 1)
        let seeds = ["github.com/!azure/go-autorest", "gopkg.in/yaml.v3", "golang.org/x/tools/v2", "example.com/a~b/c_d"]
        for _ in 0..<Self.iterations {
            let input = Self.text(Self.mutate(Array(r.pick(seeds).utf8), &r))
            if let path = try? PathEscaping.unescapePath(input) {
                #expect((try? PathRules.checkModulePath(path)) != nil)
                #expect((try? PathEscaping.escapePath(path)) == input, "escape(unescape(\(input)))")
            }
            if let v = try? PathEscaping.unescapeVersion(input) {
                #expect((try? PathEscaping.escapeVersion(v)) == input || v.contains("!"))
            }
            _ = try? PathRules.checkImportPath(input)
            _ = try? PathRules.checkFilePath(bytes: Self.mutate(Array(input.utf8), &r))
            _ = ModulePathMajor.split(input)
        }
    }

    @Test func versions() {
        var r = Random(state: 2)
        let seeds = ["v1.2.3", "v1.2.3-pre.1+build", "v0.0.0-20200101000000-abcdefabcdef", "v2.0.1-0.20191109021931-daa7c04131f5+incompatible", "v1.8.2-rc.1.0.20230301100000-abcdef"]
        for _ in 0..<Self.iterations {
            let v = Self.text(Self.mutate(Array(r.pick(seeds).utf8), &r))
            let c = SemVer.canonical(v)
            if SemVer.isValid(v) {
                #expect(SemVer.isValid(c) && SemVer.canonical(c) == c, "canonical(\(v)) = \(c)")
                #expect(SemVer.compare(v, c) == 0)
            } else {
                #expect(c.isEmpty)
            }
            if PseudoVersion.isPseudoVersion(v) {
                #expect((try? PseudoVersion.revision(v)) != nil)
                _ = try? PseudoVersion.base(v)
                _ = try? PseudoVersion.time(v)
            } else {
                #expect(throws: InvalidVersionError.self) { try PseudoVersion.base(v) }
            }
            _ = try? ModuleVersion(path: "example.com/m/v2", version: v)
        }
    }

    @Test func goModText() {
        var r = Random(state: 3)
        let seed = Array("""
        // Deprecated: x
        module "example.com/m"

        go 1.21

        require (
        \tgolang.org/x/text v0.14.0 // indirect
        )

        retract [v1.0.0, v1.0.5] // oops
        """.utf8)
        for _ in 0..<Self.iterations {
            let text = Self.text(Self.mutate(seed, &r))
            do {
                let f = try GoModParser.parse(text)
                for retraction in f.retractions { #expect(SemVer.compare(retraction.low, retraction.high) <= 0) }
            } catch {
                #expect(error.line >= 1 && !error.message.isEmpty)
            }
        }
    }

    @Test func patternsAndProxyLists() {
        var r = Random(state: 4)
        for _ in 0..<Self.iterations {
            let p = Self.text(Self.mutate(Array("*.corp.example.com/[a-c]?".utf8), &r))
            _ = try? GlobPattern.match(p, "git.corp.example.com/ab")
            _ = ModulePathPatterns(p).matches("git.corp.example.com/b/x")
            _ = try? ProxyList(Self.text(Self.mutate(Array("https://a.example|file:///srv,direct".utf8), &r)))
        }
    }

    /// Mutated module zips through the full verification (directory, names, inflate, CRC).
    @Test func zipChecker() throws {
        var r = Random(state: 5)
        let tmp = TemporaryDirectory("fuzz-zip")
        let prefix = "example.com/m@v1.0.0/"
        try makeZip(at: tmp.file("seed.zip"), entries: [
            (Array((prefix + "go.mod").utf8), Array("module example.com/m\n".utf8)),
            (Array((prefix + "a.go").utf8), Array(String(repeating: "package m\n", count: 50).utf8)),
            (Array((prefix + "b/c.txt").utf8), Array("hello\n".utf8)),
        ])
        let seed = Array(try Data(contentsOf: URL(fileURLWithPath: tmp.file("seed.zip"))))
        var accepted = 0
        for i in 0..<max(200, Self.iterations / 6) {
            let path = tmp.file("m\(i % 8).zip")
            let mutated = Self.mutate(seed, &r)
            try Data(mutated).write(to: URL(fileURLWithPath: path))
            // The same bytes hashed while streaming must never change the verdict.
            let hasher = StreamingZipHasher(module: "example.com/m", version: "v1.0.0")
            var at = 0
            while at < mutated.count {
                let end = min(mutated.count, at + 1 + r.below(300))
                mutated[at..<end].withUnsafeBytes { hasher.consume($0) }
                at = end
            }
            let viaStream = Result { try ModuleZipChecker.verify(module: "example.com/m", version: "v1.0.0", zipPath: path, streamed: hasher.result) }
            do {
                let v = try ModuleZipChecker.verify(module: "example.com/m", version: "v1.0.0", zipPath: path)
                #expect(v.hash.hasPrefix("h1:"))
                #expect((try? viaStream.get())?.hash == v.hash, "streamed verdict differs for mutation \(i)")
                #expect((try? viaStream.get())?.goMod == v.goMod)
                accepted += 1
            } catch let e as ModuleZipError {
                #expect(throws: (any Error).self, "\(e)") { try viaStream.get() }
            } catch let e as ZipFormatError {
                #expect(throws: (any Error).self, "\(e)") { try viaStream.get() }
            } catch is Hash1.Error {
                #expect(throws: (any Error).self) { try viaStream.get() }
            } catch {
                Issue.record("unexpected error type \(type(of: error)): \(error)")
            }
        }
        // Some mutations (in unused bytes) must leave a valid zip: the checker is not just
        // refusing everything.
        #expect(accepted > 0)
    }
}
