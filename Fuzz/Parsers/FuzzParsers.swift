import CFuzzerDriver
import Foundation
import FuzzSupport
import GoModule
import S3Client
@testable import WarrenCore
@testable import WarrenServer

/// Every parser that reads bytes from the network or from files Warren did not write:
/// the first input byte picks the parser, the rest is its input. Besides not trapping,
/// each checks what must hold of its answer (escaping round-trips, canonical versions are
/// fixed points, a zip hashed while streaming gets the verdict it gets when read whole).
///
/// Built with `-D FUZZING -sanitize=fuzzer` by scripts/fuzz.sh; otherwise it replays the
/// files named on its command line (FuzzCorpusTests).
enum ParserHarness {
    static let parsers = 15

    static func run(_ input: [UInt8]) {
        guard let selector = input.first else { return }
        let bytes = Array(input.dropFirst())
        let text = String(decoding: bytes, as: UTF8.self)
        switch Int(selector) % parsers {
        case 0:  // GOPROXY request paths
            if let request = try? ProxyRequest.parse(rawPath: text) {
                check((try? ProxyRequest.parse(rawPath: request.proxyPath)) == request, "proxyPath does not parse back: \(text)")
            }
        case 1:  // /sumdb/ paths
            _ = try? SumDBRequest.parse(rawPath: text)
            _ = LogTile(path: text)
        case 2:  // module paths and versions, case-escaped
            if let path = try? PathEscaping.unescapePath(text) {
                check((try? PathRules.checkModulePath(path)) != nil, "unescaped an invalid path: \(text)")
                check((try? PathEscaping.escapePath(path)) == text, "escape(unescape(\(text))) differs")
            }
            if let version = try? PathEscaping.unescapeVersion(text) {
                _ = try? PathEscaping.escapeVersion(version)
            }
            _ = try? PathRules.checkImportPath(text)
            _ = try? PathRules.checkFilePath(bytes: bytes)
            _ = ModulePathMajor.split(text)
        case 3:  // versions
            let canonical = SemVer.canonical(text)
            if !canonical.isEmpty {
                check(SemVer.canonical(canonical) == canonical, "canonical is not a fixed point: \(text)")
                check(SemVer.compare(canonical, canonical) == 0, "a version differs from itself: \(text)")
            }
            if PseudoVersion.isPseudoVersion(text) {
                _ = try? PseudoVersion.base(text)
                _ = try? PseudoVersion.time(text)
                _ = try? PseudoVersion.revision(text)
            }
            _ = try? ModuleVersion(path: "example.com/m/v2", version: text)
        case 4:  // go.mod
            if let file = try? GoModParser.parse(text) {
                for retraction in file.retractions {
                    check(SemVer.compare(retraction.low, retraction.high) <= 0, "a retraction runs backwards: \(text)")
                }
            }
            _ = GoModParser.modulePath(text)
        case 5:  // ?go-get=1 pages
            let imports = GoImportMeta.parse(bytes)
            _ = try? GoImportMeta.match(imports, importPath: "example.com/a/b")
        case 6:  // checksum database notes and tree heads
            _ = try? SignedNote.open(bytes, keys: [key])
            _ = try? TreeHead(text: text)
            _ = try? VerifierKey(text)
        case 7:  // Range and date headers
            _ = ByteRange.parse(text, size: 1000)
            _ = ByteRange.parse(text, size: 0)
            _ = HTTPDate.parse(text)
        case 8:  // .netrc and credential settings
            _ = NetrcFile.parse(text)
            _ = try? HostCredential.parse(text)
        case 9:  // GOPROXY, GOPRIVATE, GOVCS and GOSUMDB lists
            _ = try? ProxyList(text)
            _ = ModulePathPatterns(text).matches("git.corp.example.com/a/b")
            _ = try? GlobPattern.match(text, "git.corp.example.com/ab")
            _ = try? VCSRules(text)
            _ = try? SumDBSetting(text)
        case 10:  // module zips, from a file, whole and streamed
            zip(bytes)
        case 12:  // an S3-compatible endpoint's ListObjectsV2 answer
            if let page = try? ListObjectsResult.parse(bytes) {
                check(!page.isTruncated || page.nextContinuationToken?.isEmpty == false, "a truncated page without a token was accepted")
                check(page.objects.allSatisfy { !$0.key.isEmpty && $0.size >= 0 }, "an entry without key or size was accepted")
            }
        case 13:  // Authorization headers, access rules, scopes and tokens
            let outcome = authenticator.authenticate(authorization: text, address: "127.0.0.1")
            if case .principal(let principal) = outcome {
                check(principal == .anonymous, "credentials no store knows were accepted: \(text)")
            }
            if let token = AccessToken(text) {
                check(AccessToken(token.text) == token, "a token does not parse back: \(text)")
            }
            if let rule = try? AccessRule(text) {
                check((try? AccessRule(rule.description)) == rule, "a rule does not parse back: \(text)")
            }
            _ = try? AccessScope(text)
        case 14:  // sign-in: the attempt cookie, the return path, callback parameters
            check(login.unseal(text) == nil, "a cookie Warren did not sign was accepted: \(text)")
            if LoginFlow.isLocalPath(text) {
                check(text.hasPrefix("/") && !text.hasPrefix("//") && URLComponents(string: text)?.host == nil,
                      "a return path leaving Warren was accepted: \(text)")
            }
            _ = URLComponents(string: "https://w.example/callback?" + text)?.queryItems
            _ = Authenticator.presented(text)
        default:  // a checksum database's lookup answer and its records
            _ = try? SignedNote.open(bytes, keys: [key])
            _ = text.split(separator: "\n").map { $0.split(separator: " ") }
        }
    }

    /// A sign-in flow whose cookies are signed with a key no input knows.
    static let login = LoginFlow(provider: NoProvider(), publicURL: "https://w.example", cookieSecret: "fuzz-" + String(UInt64.random(in: 0...UInt64.max)),
                                 tokenLifetime: 60, tokens: TokenCache(store: NoTokens()), audit: nil)

    struct NoProvider: LoginProvider {
        var displayName: String { "none" }
        func authorizationURL(state: String, nonce: String, codeChallenge: String, redirectURI: String) async throws -> String { "" }
        func redeem(code: String, codeVerifier: String, redirectURI: String, nonce: String) async throws -> LoginIdentity {
            throw LoginFailure("none")
        }
    }

    struct NoTokens: TokenStore {
        func insertToken(_ record: TokenRecord) async throws {}
        func tokens() async throws -> [TokenRecord] { [] }
        func revokeToken(id: String, at time: Double) async throws -> Bool { false }
        func tokenGeneration() async throws -> Int64 { 0 }
        func recordTokenUse(_ uses: [String: Double]) async throws {}
    }

    /// No tokens at all: every credential must be refused (or throttled), never accepted.
    static let authenticator = Authenticator(tokens: nil, limiter: FailedAuthenticationLimiter(limit: 1 << 30))

    /// A fixed verifier key: notes signed by anyone else must be refused, not crash.
    static let key: VerifierKey = {
        guard let k = try? VerifierKey(SumDBSetting.sumGolangOrgKey) else {
            fatalError("the fuzz harness's verifier key does not parse")
        }
        return k
    }()

    static let scratch: String = {
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return dir + "/warren-fuzz-\(getpid()).zip"
    }()

    static func zip(_ bytes: [UInt8]) {
        guard (try? Data(bytes).write(to: URL(fileURLWithPath: scratch))) != nil else { return }
        let hasher = StreamingZipHasher(module: "example.com/m", version: "v1.0.0")
        var at = 0
        while at < bytes.count {
            let end = min(bytes.count, at + 1 + Int(bytes[at]) * 3)
            bytes[at..<end].withUnsafeBytes { hasher.consume($0) }
            at = end
        }
        let streamed = Result { try ModuleZipChecker.verify(module: "example.com/m", version: "v1.0.0", zipPath: scratch, streamed: hasher.result) }
        let whole = Result { try ModuleZipChecker.verify(module: "example.com/m", version: "v1.0.0", zipPath: scratch) }
        switch (whole, streamed) {
        case (.success(let a), .success(let b)):
            check(a.hash == b.hash && a.goMod == b.goMod, "streamed and whole verdicts differ")
        case (.failure, .failure):
            break
        default:
            check(false, "streamed and whole verdicts differ: \(whole) / \(streamed)")
        }
    }

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError(message()) }
    }
}

#if FUZZING
@_cdecl("FuzzParsers_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        ParserHarness.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }
}
#else
@main
struct ReplayParserInputs {
    static func main() throws {
        try CorpusReplay.main(ParserHarness.run)
        unlink(ParserHarness.scratch)
    }
}
#endif
