import AsyncHTTPClient
import Crypto
import Foundation
import Synchronization
import WarrenCore

/// Asks GitLab who a token belongs to, so `go` in a GitLab CI job can use
/// `machine goproxy… login gitlab-ci-token password $CI_JOB_TOKEN`, and a developer a
/// personal access token (scope `read_api`):
///
/// - a job token (user name `gitlab-ci-token`): `GET /api/v4/job` with `JOB-TOKEN`; the
///   user is whoever runs the job, and the groups are the namespaces of the job's
///   project (`corp`, `corp/backend` for `corp/backend/api`), so a group's rule admits
///   that group's pipelines;
/// - any other: `GET /api/v4/user` and `/api/v4/groups` with `PRIVATE-TOKEN`.
///
/// Answers are kept for a minute (unknown tokens for ten seconds), keyed by a hash of
/// the token, never the token itself.
public final class GitLabTokenChecker: ExternalCredentials {
    public let base: String
    let http: HTTPClient
    let goodFor: Double
    let badFor: Double
    private let cache = Mutex<[String: (identity: UserIdentity?, until: Double)]>([:])

    public init(base: String, http: HTTPClient, goodFor: Double = 60, badFor: Double = 10) {
        var trimmed = base
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.base = trimmed
        self.http = http
        self.goodFor = goodFor
        self.badFor = badFor
    }

    public func identity(user: String, secret: String) async throws -> UserIdentity? {
        let key = AccessToken.hex(SHA256.hash(data: Array((user + "\u{0}" + secret).utf8)))
        let now = Date().timeIntervalSince1970
        if let known = cache.withLock({ $0[key] }), known.until > now { return known.identity }
        let identity = user == "gitlab-ci-token" ? try await job(secret) : try await person(secret)
        cache.withLock { c in
            if c.count > 10_000 { c.removeAll() }
            c[key] = (identity, now + (identity == nil ? badFor : goodFor))
        }
        return identity
    }

    func job(_ token: String) async throws -> UserIdentity? {
        guard let job = try await get("/api/v4/job", header: ("JOB-TOKEN", token)) as? [String: Any],
              let user = (job["user"] as? [String: Any])?["username"] as? String else { return nil }
        // https://gitlab…/corp/backend/api/-/jobs/123 → corp, corp/backend, corp/backend/api.
        var groups: [String] = []
        if let web = job["web_url"] as? String, let path = URLComponents(string: web)?.path,
           let project = path.components(separatedBy: "/-/").first {
            let parts = project.split(separator: "/").map(String.init)
            for i in parts.indices { groups.append(parts[...i].joined(separator: "/")) }
        }
        return UserIdentity(name: user, groups: groups)
    }

    func person(_ token: String) async throws -> UserIdentity? {
        guard let me = try await get("/api/v4/user", header: ("PRIVATE-TOKEN", token)) as? [String: Any],
              let user = me["username"] as? String else { return nil }
        let groups = (try await get("/api/v4/groups?min_access_level=10&per_page=100", header: ("PRIVATE-TOKEN", token)) as? [[String: Any]])?
            .compactMap { $0["full_path"] as? String } ?? []
        return UserIdentity(name: user, groups: groups)
    }

    /// The JSON of a GET; nil for 401/403/404 (GitLab does not know the token).
    func get(_ path: String, header: (String, String)) async throws -> Any? {
        var request = HTTPClientRequest(url: base + path)
        request.headers.add(name: header.0, value: header.1)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(10))
        } catch {
            throw LoginFailure("GitLab at \(base) cannot be asked about a token: \(error)")
        }
        let body = try await response.body.collect(upTo: 4 << 20)
        switch response.status.code {
        case 200: return try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        case 401, 403, 404: return nil
        default: throw LoginFailure("GitLab at \(base) answered HTTP \(response.status.code) about a token")
        }
    }
}
