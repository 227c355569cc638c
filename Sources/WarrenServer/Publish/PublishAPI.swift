import Foundation
import GoModule
import HTTPTypes
import Hummingbird
import NIOCore
import WarrenCore

/// Publishing hosted modules over HTTP:
///
///     PUT    /api/v1/modules/<escaped module>/@v/<version>.zip[?time=RFC3339]   body: the module zip
///     PUT    /api/packages/<owner>/go/upload                                   (Gitea's shape: module and
///                                                                               version from the zip)
///     DELETE /api/v1/modules/<escaped module>/@v/<version>[?reason=TEXT]       (admins; leaves a tombstone)
///
/// Answers: 201 with the hashes when stored, 200 when the identical zip was already
/// there, 400 naming the rule a zip breaks, 401/403 without the `publish` right, 409 for
/// other bytes under a published (or deleted) version, 413 over the size limit. The body
/// is streamed to a file; nothing is stored before the whole zip has been checked.
/// Publishing needs access control: with the door open, nobody could be told apart.
struct PublishAPI: Sendable {
    let proxy: ModuleProxy
    let access: AccessControl?
    /// The fast path's table and the proxy's path prefix: a deleted version's answers are
    /// forgotten there at once.
    let hot: HotResponseTable?
    let pathPrefix: String

    static let v1Prefix = "/api/v1/modules/"
    static let giteaPrefix = "/api/packages/"

    static func handles(_ path: String) -> Bool {
        path.hasPrefix(v1Prefix) || (path.hasPrefix(giteaPrefix) && path.hasSuffix("/go/upload"))
    }

    func respond(_ request: Request, path: String, responder: ProxyResponder, context: ProxyResponder.Context) async -> Response {
        let address = context.channel.remoteAddress?.ipAddress
        let target: (module: String, version: String)?
        switch (request.method, path.hasPrefix(Self.v1Prefix)) {
        case (.put, true), (.delete, true):
            do {
                target = try Self.parseV1(String(path.dropFirst(Self.v1Prefix.count)), delete: request.method == .delete)
            } catch {
                return ProxyResponder.error(error)
            }
        case (.put, false):
            guard path.split(separator: "/").count == 5 else { return ProxyResponder.text(.notFound, "want PUT /api/packages/OWNER/go/upload") }
            target = nil
        default:
            return ProxyResponder.text(.methodNotAllowed, "use PUT to publish, DELETE to delete (admins)")
        }
        guard let access else {
            return ProxyResponder.text(.forbidden, "403 Forbidden: publishing needs access control; start Warren with --permissions granting publish")
        }
        let principal: Principal
        switch await responder.checkAccess(access, request: request, context: context, module: nil, action: "publish") {
        case .failure(let refused): return refused.response
        case .success(let (who, _)): principal = who
        }
        let action = request.method == .delete ? "module.delete" : "module.publish"
        let audit = { (target: String, result: String, detail: String?) in
            access.audit?.record(.init(action: action, principal: principal, address: address, target: target, result: result, detail: detail))
        }
        let authorize: @Sendable (String) -> ProxyError? = { module in
            if access.policy.rights(of: principal, on: module).contains(.publish) { return nil }
            if principal == .anonymous { return .init(.forbidden, "publishing \(module) needs a Warren token with publish on it") }
            return .forbidden("\(principal.displayName) may not publish \(module)")
        }

        if request.method == .delete, let target {
            guard access.policy.rights(of: principal, on: target.module).contains(.admin) else {
                audit("\(target.module)@\(target.version)", "denied", "not an admin")
                return principal == .anonymous ? ProxyResponder.challenge("deleting needs an admin's Warren token")
                    : ProxyResponder.text(.forbidden, "403 Forbidden: only admins delete published versions")
            }
            let reason = request.uri.queryParameters["reason"].map(String.init)
            do {
                try await proxy.deletePublished(module: target.module, version: target.version, by: principal.displayName, reason: reason)
            } catch {
                audit("\(target.module)@\(target.version)", "refused", error.message)
                return ProxyResponder.error(error)
            }
            forgetHot(module: target.module, version: target.version)
            audit("\(target.module)@\(target.version)", "done", reason)
            return Response(status: .noContent)
        }

        // Refuse before reading a byte when the module is known and not the caller's.
        if let target, let refusal = authorize(target.module) {
            audit("\(target.module)@\(target.version)", "denied", refusal.message)
            return principal == .anonymous ? ProxyResponder.challenge(refusal.message) : ProxyResponder.error(refusal)
        }
        var time: Date?
        if let text = request.uri.queryParameters["time"] {
            guard let parsed = ISO8601DateFormatter().date(from: String(text)) else {
                return ProxyResponder.text(.badRequest, "time: want an RFC 3339 time such as 2026-01-02T15:04:05Z")
            }
            time = parsed
        }
        if let length = request.headers[.contentLength].flatMap({ Int64($0) }), length > PublishUpload.limit {
            return ProxyResponder.error(.tooLarge("module zip is larger than \(PublishUpload.limit >> 20) MiB, the go command's limit"))
        }
        let upload: PublishUpload
        do {
            upload = try PublishUpload(dataDirectory: proxy.configuration.dataDirectory)
        } catch {
            return ProxyResponder.text(.internalServerError, "could not receive the upload")
        }
        defer { upload.discard() }
        do {
            for try await chunk in request.body {
                try await upload.append(Array(chunk.readableBytesView))
            }
        } catch let error as ProxyError {
            return ProxyResponder.error(error)
        } catch {
            return ProxyResponder.text(.badRequest, "the upload was cut short")
        }
        guard upload.size > 0 else { return ProxyResponder.text(.badRequest, "empty body: send the module zip") }
        let result: PublishResult
        do {
            result = try await proxy.publish(upload, module: target?.module, version: target?.version, time: time,
                                             publisher: principal.displayName, authorize: authorize)
        } catch {
            audit(target.map { "\($0.module)@\($0.version)" } ?? "upload", error.kind == .forbidden ? "denied" : "refused", error.message)
            return ProxyResponder.error(error)
        }
        audit("\(result.module)@\(result.version)", "done", result.created ? result.zipHash : "already published")
        return TokenAPI.json(result.created ? .created : .ok, [
            "module": result.module, "version": result.version, "h1": result.zipHash, "goModH1": result.modHash,
            "created": result.created,
        ])
    }

    func forgetHot(module: String, version: String) {
        guard let hot, let path = try? PathEscaping.escapePath(module), let v = try? PathEscaping.escapeVersion(version) else { return }
        for kind in ArtifactKind.allCases { hot.forget(pathPrefix + "/" + path + "/@v/" + v + "." + kind.rawValue) }
    }

    /// `<escaped module>/@v/<escaped version>.zip` (PUT) or `…/@v/<version>` (DELETE, `.zip`
    /// allowed), decoded and validated as GOPROXY request paths are.
    static func parseV1(_ rest: String, delete: Bool) throws(ProxyError) -> (module: String, version: String) {
        var path = rest
        if delete && !path.hasSuffix(".zip") { path += ".zip" }
        guard case .artifact(let module, let version, .zip) = try ProxyRequest.parse(rawPath: path) else {
            throw .badRequest("want /api/v1/modules/MODULE/@v/VERSION.zip")
        }
        return (module, version)
    }
}
