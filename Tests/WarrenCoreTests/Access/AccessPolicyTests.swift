import Testing
@testable import WarrenCore

@Suite struct AccessPolicyTests {
    static func policy(_ rules: [String], anonymous: AccessRight? = .fetch, hide: Bool = false) throws -> AccessPolicy {
        AccessPolicy(anonymous: anonymous, rules: try rules.map { try AccessRule($0) }, hideForbidden: hide, metrics: .anonymous)
    }

    static let alice = Principal.user(UserIdentity(name: "alice", groups: ["corp/backend"]))
    static let dave = Principal.user(UserIdentity(name: "dave"))

    @Test func rulesCloseTheModulesTheyNameAndLeaveTheRestToTheAnonymousLevel() throws {
        let p = try Self.policy(["group:corp/backend read,fetch git.corp.example.com/backend/*", "user:root admin *"])
        #expect(p.decide(.anonymous, module: "github.com/pkg/errors") == .allowed(fetch: true))
        #expect(p.decide(.anonymous, module: "git.corp.example.com/backend/api") == .unauthenticated(
            "git.corp.example.com/backend/api needs a Warren token: put one in .netrc (machine HOST login USER password TOKEN)"))
        #expect(p.decide(Self.alice, module: "git.corp.example.com/backend/api") == .allowed(fetch: true))
        #expect(p.decide(Self.dave, module: "git.corp.example.com/backend/api") == .forbidden("dave may not read git.corp.example.com/backend/api"))
        // `*` grants root everything and closes nothing.
        #expect(p.rights(of: .user(UserIdentity(name: "root")), on: "git.corp.example.com/backend/api") == Set(AccessRight.allCases))
        #expect(p.isAdministrator(.user(UserIdentity(name: "root"))))
        #expect(!p.isAdministrator(Self.alice))
        #expect(try Self.policy([], hide: true).isOpen)
    }

    @Test func aStarRuleGrantsOnlyWhereNoOtherRuleNamesTheModuleExceptForAdmins() throws {
        let p = try Self.policy(["authenticated read,fetch *", "group:corp read git.corp.example.com/*", "user:root admin *"], anonymous: .read)
        #expect(p.decide(Self.dave, module: "github.com/pkg/errors") == .allowed(fetch: true))
        #expect(p.decide(.anonymous, module: "github.com/pkg/errors") == .allowed(fetch: false))
        #expect(p.decide(Self.dave, module: "git.corp.example.com/lib") == .forbidden("dave may not read git.corp.example.com/lib"))
        let corp = Principal.user(UserIdentity(name: "erin", groups: ["corp"]))
        #expect(p.decide(corp, module: "git.corp.example.com/lib") == .allowed(fetch: false))
        #expect(p.decide(.user(UserIdentity(name: "root")), module: "git.corp.example.com/lib") == .allowed(fetch: true))
    }

    @Test func anonymousLevelsAndHiddenRefusals() throws {
        let readOnly = try Self.policy(["user:bob read example.com/private/*"], anonymous: .read, hide: true)
        #expect(readOnly.decide(.anonymous, module: "github.com/x/y") == .allowed(fetch: false))
        #expect(readOnly.decide(Self.dave, module: "example.com/private/z") == .hidden)
        let closed = try Self.policy(["authenticated read,fetch *"], anonymous: nil)
        #expect(closed.decide(Self.dave, module: "github.com/x/y") == .allowed(fetch: true))
        if case .unauthenticated = closed.decide(.anonymous, module: "github.com/x/y") {} else { Issue.record("anonymous let in") }
    }

    @Test func scopesNarrowButNeverBelowAnonymous() throws {
        let p = try Self.policy(["group:corp/backend read,fetch git.corp.example.com/*"])
        let scoped = Principal.user(UserIdentity(name: "alice", groups: ["corp/backend"], scopes: [try AccessScope("read:git.corp.example.com/lib")]))
        #expect(p.decide(scoped, module: "git.corp.example.com/lib") == .allowed(fetch: false))
        if case .forbidden = p.decide(scoped, module: "git.corp.example.com/app") {} else { Issue.record("the scope did not narrow") }
        // Public modules: what anyone may do.
        #expect(p.decide(scoped, module: "github.com/pkg/errors") == .allowed(fetch: true))
        // A scope cannot give what the owner lacks.
        let overreaching = Principal.user(UserIdentity(name: "dave", scopes: [try AccessScope("admin:git.corp.example.com/*")]))
        if case .forbidden = p.decide(overreaching, module: "git.corp.example.com/lib") {} else { Issue.record("a scope widened rights") }
    }

    @Test(arguments: ["group:x read", "who read x/*", "user: read x/*", "user:a write x/*", "user:a read,,fetch"])
    func badRulesSayWhy(_ line: String) {
        #expect(throws: AccessRuleError.self) { _ = try AccessRule(line) }
    }

    @Test func tokensParseAndMatchOnlyTheirOwnHash() throws {
        let token = AccessToken.generate()
        let parsed = try #require(AccessToken(token.text))
        #expect(parsed == token)
        #expect(token.matches(storedHash: token.secretHash))
        #expect(!AccessToken.generate().matches(storedHash: token.secretHash))
        for bad in ["", "wrn_", "wrn_abc_def", "ghp_0123456789abcdef_xxxxxxxxxxxxxxxxxxxxxxxxx", "wrn_0123456789abcdeg_xxxxxxxxxxxxxxxxxxxxxxxx"] {
            #expect(AccessToken(bad) == nil, "\(bad)")
        }
        #expect(token.text.count >= 4 + 16 + 1 + 43)
    }

    @Test func theLimiterBlocksAfterTheLimitAndForgetsAfterTheWindow() {
        let limiter = FailedAuthenticationLimiter(limit: 3, window: 60)
        for _ in 0..<3 { limiter.failed(["address:10.0.0.1"], now: 1000) }
        #expect(limiter.retryAfter(["address:10.0.0.1"], now: 1010) == 50)
        #expect(limiter.retryAfter(["address:10.0.0.2"], now: 1010) == nil)
        #expect(limiter.retryAfter(["address:10.0.0.1"], now: 1061) == nil)
    }
}
