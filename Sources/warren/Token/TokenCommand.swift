import ArgumentParser
import Foundation
import Logging
import WarrenCore

/// `warren token create|list|revoke`: tokens in the database `warren serve` uses (same
/// `--config`, `--data-dir`, `--database`), so a running server, and every replica,
/// takes a change within about a second.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke access tokens.",
        subcommands: [CreateTokenCommand.self, ListTokensCommand.self, RevokeTokenCommand.self]
    )
}

/// The operator, for audit lines of the commands.
private let operatorPrincipal = Principal.user(UserIdentity(name: "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "root")))

struct CreateTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a token and print it (once: only its hash is kept).",
        discussion: "Use it as the password of a .netrc entry for the Warren host (machine HOST login USER password TOKEN), or as Authorization: Bearer."
    )

    @Option(help: ArgumentHelp("The user the token acts for (permission rules name users as user:NAME).", valueName: "name"))
    var user: String
    @Option(help: ArgumentHelp("A group the token's user belongs to (rules name groups as group:NAME); repeatable.", valueName: "name"))
    var group: [String] = []
    @Option(help: ArgumentHelp("Narrow the token to RIGHT:PATTERNS, such as read:git.corp.example.com/*; repeatable. (default: the user's full rights)", valueName: "scope"))
    var scope: [String] = []
    @Option(help: ArgumentHelp("How long the token lasts: 90d, 12h, 30m, or never. (default: 90d)", valueName: "duration"))
    var expires = "90d"
    @OptionGroup var store: DatabaseOptions

    func run() async throws {
        let lifetime: Double?
        do {
            for s in scope { _ = try AccessScope(s) }
            guard !user.isEmpty, !user.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                throw ServeSettings.Problem(description: "--user must be a name without spaces")
            }
            guard let parsed = TokenLifetime.parse(expires) else {
                throw ServeSettings.Problem(description: "--expires \(expires): want a number of d, h, m or s (90d), or never")
            }
            lifetime = parsed
        } catch {
            printError("warren token create: \(error)")
            throw ExitCode(2)
        }
        let token = AccessToken.generate()
        let now = Date().timeIntervalSince1970
        let record = TokenRecord(id: token.id, user: user, groups: group, scopes: scope, secretHash: token.secretHash,
                                 createdAt: now, expiresAt: lifetime.map { now + $0 })
        try await store.withStore("create") { tokens, audit in
            try await tokens.insertToken(record)
            audit?.record(.init(action: "token.create", principal: operatorPrincipal, target: "token \(token.id) for \(user)", result: "done"))
        }
        print(token.text)
        FileHandle.standardError.write(Data("token \(token.id) for \(user)\(lifetime == nil ? ", never expires" : ", expires " + ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: now + (lifetime ?? 0))))\n".utf8))
    }

}

struct ListTokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List tokens, one a line, ID first (never the secret)."
    )

    @OptionGroup var store: DatabaseOptions

    func run() async throws {
        let records = try await store.withStore("list") { tokens, _ in try await tokens.tokens() }
        let now = Date().timeIntervalSince1970
        let time = { (t: Double?) in t.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0)) } ?? "-" }
        for r in records {
            let status = r.revokedAt != nil ? "revoked" : r.isActive(at: now) ? "active" : "expired"
            let groups = r.groups.isEmpty ? "-" : r.groups.joined(separator: ",")
            let scopes = r.scopes.isEmpty ? "-" : r.scopes.joined(separator: ",")
            print("\(r.id) \(r.user) \(status) groups=\(groups) scopes=\(scopes) created=\(time(r.createdAt)) expires=\(time(r.expiresAt)) last-used=\(time(r.lastUsed))")
        }
    }
}

struct RevokeTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a token: it stops working on every replica within about a second."
    )

    @Argument(help: "The token's ID (the first column of warren token list).")
    var id: String
    @OptionGroup var store: DatabaseOptions

    func run() async throws {
        let revoked = try await store.withStore("revoke") { tokens, audit in
            let done = try await tokens.revokeToken(id: id, at: Date().timeIntervalSince1970)
            audit?.record(.init(action: "token.revoke", principal: operatorPrincipal, target: "token \(id)", result: done ? "done" : "no such token"))
            return done
        }
        guard revoked else {
            printError("warren token revoke: no active token \(id)")
            throw ExitCode(1)
        }
        print("revoked \(id)")
    }
}
