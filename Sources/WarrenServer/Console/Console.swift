import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WarrenCore

/// The web console under `/-/` (no module path starts with `-`): browsing what Warren
/// holds, a module's versions, the server's health, and for admins tokens, the audit log,
/// pins and eviction. Every page is rendered here, works without JavaScript, and loads
/// nothing from another origin.
///
/// Who sees what follows the access rules: modules a caller may not read are not listed;
/// the status page needs what `/metrics` needs; the admin pages need `admin` on `*`, and
/// exist only when access control is on (with the door open, everyone would be an admin).
/// Forms post with a token derived from the caller's own credentials, so no other site can
/// make a signed-in browser change anything.
struct Console: Sendable {
    let proxy: ModuleProxy
    let storage: any ArtifactStorage
    let index: (any MetadataIndex)?
    let access: AccessControl?
    let login: LoginFlow?
    let metrics: MetricsEndpoint?
    let history: MetricsHistory?
    let hot: HotResponseTable?
    let pathPrefix: String
    /// The eviction limits in force (nil: the cache is not bounded).
    let cacheLimits: @Sendable () -> CacheEvictor.Limits?
    /// The URL clients reach Warren at, for the `go env` line (nil: from the request).
    let publicURL: String?
    let secure: Bool

    static let pageSize = 50

    static func handles(_ path: String) -> Bool {
        path == "/-" || path.hasPrefix("/-/") && !path.hasPrefix("/-/api/")
    }

    /// The caller, once their credentials are checked.
    struct Caller: Sendable {
        var principal: Principal
        /// The credentials the request came with (header or session cookie), for form tokens.
        var credential: String?
        var session: Bool
        /// A posted form's fields.
        var form: [String: String] = [:]
    }

    func respond(_ request: Request, path: String, context: WarrenRequestContext, responder: ProxyResponder) async -> Response {
        if path == "/-" { return Self.redirect("/-/") }
        if path == "/-/console.css" { return ConsoleHTML.css(request) }
        let caller: Caller
        switch await identify(request, context: context, responder: responder) {
        case .failure(let refused): return refused.response
        case .success(let who): caller = who
        }
        if request.method == .post {
            return await post(request, path: path, caller: caller, context: context)
        }
        guard request.method == .get || request.method == .head else {
            var r = ProxyResponder.text(.methodNotAllowed, "method \(request.method.rawValue) not allowed: use GET, or POST for the admin forms")
            r.headers[.allow] = "GET, HEAD, POST"
            return r
        }
        let query = request.uri.queryParameters
        switch path {
        case "/-/":
            return await home(caller)
        case "/-/modules", "/-/modules/":
            let per = query["per"].flatMap { Int($0) }.map { min(200, max(1, $0)) }
            return await modules(caller, search: query["q"].map(String.init) ?? "", after: query["after"].map(String.init), per: per)
        case "/-/status":
            guard access.map({ $0.policy.mayReadMetrics(caller.principal) }) ?? true else {
                return page(caller, "Status", current: "status", content: "<h1>Status</h1><p>Reading the status needs what reading the metrics needs.</p>",
                            status: .forbidden)
            }
            return await status(caller)
        case "/-/admin":
            return await admin(caller, notice: query["done"].map(String.init), error: query["error"].map(String.init))
        default:
            if path.hasPrefix("/-/modules/") {
                return await module(caller, String(path.dropFirst("/-/modules/".count)), notice: query["done"].map(String.init),
                                    error: query["error"].map(String.init))
            }
            return page(caller, "Not found", current: "", content: "<h1>Not found</h1><p>No console page is at this address. <a href=\"/-/\">Start here</a>.</p>",
                        status: .notFound)
        }
    }

    // MARK: - Who asks

    func identify(_ request: Request, context: WarrenRequestContext, responder: ProxyResponder) async -> Result<Caller, RefusedAccess> {
        guard let access else { return .success(Caller(principal: .anonymous, credential: nil, session: false)) }
        let header = request.headers[.authorization]
        let cookie = LoginFlow.cookie(LoginFlow.sessionCookieName, in: request).flatMap { $0.isEmpty ? nil : "Bearer " + $0 }
        if request.method == .post {
            // A form counts only with the token its page was rendered with, whether the
            // credentials come from the browser's Basic prompt or the session cookie.
            let credential = header ?? cookie
            let form = (try? await request.body.collect(upTo: 16 * 1024)).map { String(buffer: $0) } ?? ""
            let fields = ConsoleForm.parse(form)
            guard let credential, fields["form"] == Self.formToken(credential) else {
                return .failure(RefusedAccess(response: ProxyResponder.text(.forbidden, "403 Forbidden: the form is stale or from elsewhere; reload the page")))
            }
            let verdict = await access.check(authorization: credential, address: context.channel.remoteAddress?.ipAddress, module: nil)
            guard case .granted(let principal, _) = verdict else {
                return .failure(RefusedAccess(response: ProxyResponder.challenge("the console's forms need a Warren token")))
            }
            return .success(Caller(principal: principal, credential: credential, session: header == nil, form: fields))
        }
        switch await responder.checkAccess(access, request: request, context: context, module: nil, action: "console") {
        case .failure(let refused):
            return .failure(refused)
        case .success(let (principal, _)):
            if principal == .anonymous, access.policy.anonymous == nil {
                return .failure(RefusedAccess(response: signInNeeded()))
            }
            let usedCookie = header == nil && principal != .anonymous
            return .success(Caller(principal: principal, credential: header ?? (usedCookie ? cookie : nil), session: usedCookie))
        }
    }

    /// 401 for a browser: the Basic challenge (a token as the password), and a page that
    /// offers the provider's sign-in when there is one.
    func signInNeeded() -> Response {
        let signIn = login.map { _ in "<p><a href=\"/login?return=/-/\">Sign in with your company account</a></p>" } ?? ""
        var response = ConsoleHTML.page(title: "Sign in", viewer: .init(name: nil, isAdmin: false, signInURL: nil, signedInWithSession: false),
                                        current: "", content: "<h1>Sign in</h1><p>The console needs a Warren token: your user name, and the token as the password.</p>"
                                            + signIn, status: .unauthorized)
        response.headers[ProxyResponder.wwwAuthenticate] = "Basic realm=\"warren\""
        return response
    }

    /// A form's token: derived from the caller's credentials, so only a page rendered for
    /// them carries it, and any replica can check it.
    static func formToken(_ credential: String) -> String {
        SHA256.hash(data: Array(("warren-console-form\n" + credential).utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    func mayRead(_ caller: Caller, _ module: String) -> Bool {
        access.map { $0.policy.rights(of: caller.principal, on: module).contains(.read) } ?? true
    }

    func isAdmin(_ caller: Caller) -> Bool {
        access.map { $0.policy.isAdministrator(caller.principal) } ?? false
    }

    func page(_ caller: Caller, _ title: String, current: String, content: String, status: HTTPResponse.Status = .ok) -> Response {
        let name: String? = caller.principal == .anonymous ? nil : caller.principal.displayName
        let viewer = ConsoleHTML.Viewer(name: name, isAdmin: isAdmin(caller), signInURL: name == nil && login != nil ? "/login?return=/-/" : nil,
                                        signedInWithSession: caller.session)
        return ConsoleHTML.page(title: title, viewer: viewer, current: current, content: content, status: status)
    }

    /// Hidden fields every admin form carries.
    func formFields(_ caller: Caller, back: String) -> String {
        "<input type=\"hidden\" name=\"form\" value=\"\(Self.formToken(caller.credential ?? ""))\">"
            + "<input type=\"hidden\" name=\"back\" value=\"\(HTMLText.escaped(back))\">"
    }

    static func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    /// The module's kind as the console labels it.
    func kind(_ module: String) -> (label: String, css: String) {
        if proxy.isHosted(module) { return ("hosted", "hosted") }
        let privatePatterns = proxy.configuration.direct.privatePatterns
        if !privatePatterns.isEmpty, privatePatterns.matches(module) { return ("private", "private") }
        return ("cached", "cached")
    }
}
