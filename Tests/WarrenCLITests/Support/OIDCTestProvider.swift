import Foundation
import TestServers

/// The OpenID Connect provider of Support/oidc_provider.py (Flask and authlib, from the
/// virtual environment scripts/install-deps.sh test makes), on loopback; or, with
/// `script: "github_api.py"`, the GitHub-Enterprise-shaped server.
final class OIDCTestProvider: @unchecked Sendable {
    let process: TestProcess
    let port: Int
    let clientID = "warren"
    let clientSecret = "provider-secret-" + UUID().uuidString.prefix(8)
    var issuer: String { "http://127.0.0.1:\(port)" }

    struct Failure: Error, CustomStringConvertible { let description: String }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    init(redirectURI: String, script name: String = "oidc_provider.py", arguments: [String]? = nil) throws {
        let python = Self.root.appendingPathComponent(".build/test-python/bin/python3").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Failure(description: "no \(python): run scripts/install-deps.sh test")
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(name).path
        process = try TestProcess(python, ["-u", script] + (arguments ?? [clientID, clientSecret, redirectURI]))
        let text = process.stdout.waitFor(timeout: 30) { $0.contains("listening ") && $0.hasSuffix("\n") }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening ") }), let p = Int(line.dropFirst(10)) else {
            _ = process.kill9()
            throw Failure(description: "the OpenID Connect provider did not start: \(text) \(process.stderr.text.suffix(2000))")
        }
        port = p
    }

    /// Requests a script logged as `GET PATH`.
    func requests(_ path: String) -> Int {
        process.stdout.text.split(separator: "\n").filter { $0 == "GET " + path }.count
    }

    /// What the next ID tokens get wrong: good, other-key, expired, wrong-audience.
    func setMode(_ mode: String) throws {
        let r = try TestProcess.run("/usr/bin/curl", ["-sS", "--fail", "-d", "id_token=" + mode, issuer + "/mode"])
        guard r.status == 0 else { throw Failure(description: "mode: \(r.stderr)") }
    }

    deinit { _ = process.kill9() }
}

/// A browser's part of the login, done with curl and a cookie jar: start at Warren's
/// /login, sign in at the provider's form, and come back to Warren's /callback.
struct LoginBrowser {
    let warren: String
    let ca: String
    let jar: String

    struct Step {
        var status: Int
        var location: String?
        var body: String
    }

    func get(_ url: String, cookies: String? = nil) throws -> Step {
        try curl([url], cookies: cookies)
    }

    func curl(_ arguments: [String], cookies: String? = nil) throws -> Step {
        let jarIn = cookies ?? jar
        let r = try TestProcess.run("/usr/bin/curl", ["-sS", "-D", "-", "--cacert", ca, "-b", jarIn, "-c", jar] + arguments)
        let parts = r.stdout.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        let location = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") }
            .map { $0.dropFirst("location:".count).trimmingCharacters(in: .whitespaces) }
        return Step(status: status, location: location, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// Warren's /login → the provider's form, submitted → the callback URL it sends back.
    func signIn(user: String, password: String, loginPath: String = "/login") throws -> String {
        let start = try get(warren + loginPath)
        guard start.status == 302, let authorize = start.location, let components = URLComponents(string: authorize) else {
            throw OIDCTestProvider.Failure(description: "/login: \(start.status) \(start.body)")
        }
        var form = (components.queryItems ?? []).flatMap { ["--data-urlencode", "\($0.name)=\($0.value ?? "")"] }
        form += ["--data-urlencode", "username=\(user)", "--data-urlencode", "password=\(password)"]
        var action = components
        action.query = nil
        let submitted = try curl(form + [action.string ?? ""])
        guard submitted.status == 302, let callback = submitted.location else {
            throw OIDCTestProvider.Failure(description: "provider: \(submitted.status) \(submitted.body)")
        }
        return callback
    }

    /// The token on Warren's page.
    static func token(in page: String) -> String? {
        guard let start = page.range(of: "<pre id=\"token\">"), let end = page.range(of: "</pre>", range: start.upperBound..<page.endIndex) else {
            return nil
        }
        return String(page[start.upperBound..<end.lowerBound])
    }
}
