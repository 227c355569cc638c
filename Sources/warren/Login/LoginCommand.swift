import ArgumentParser
import Foundation
import Hummingbird
import ServiceLifecycle
import Logging
import NIOCore
import Synchronization
import Crypto
import WarrenCore

/// `warren login https://goproxy.corp.example.com`: signs in through the browser and
/// writes the `.netrc` entry the go command needs. The command listens on a loopback
/// port, opens (or prints) Warren's /login with that port and a public key of its own;
/// after sign-in Warren sends the browser back to the port with the token sealed to
/// that key (`TokenHandoff`), and the command writes `machine HOST login USER password
/// TOKEN` into the .netrc (replacing an older entry for the host, mode 0600).
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Sign in to a Warren through the browser and write its .netrc entry."
    )

    @Argument(help: "Warren's URL, as in GOPROXY (https://goproxy.corp.example.com).")
    var url: String

    @Option(help: ArgumentHelp("The .netrc to write. (default: $NETRC, else ~/.netrc)", valueName: "file"))
    var netrc: String?

    @Flag(name: .customLong("no-browser"), help: "Print the URL to open instead of opening a browser.")
    var noBrowser = false

    @Option(help: ArgumentHelp("How long to wait for the sign-in, in seconds. (default: 300)", valueName: "seconds"))
    var timeout: Int = 300

    func run() async throws {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        guard let host = URLComponents(string: base)?.host, base.hasPrefix("https://") || base.hasPrefix("http://") else {
            printError("warren login: \(url) is not a URL")
            throw ExitCode(2)
        }
        let target = netrc ?? ProcessInfo.processInfo.environment["NETRC"] ?? (NSHomeDirectory() + "/.netrc")
        let (key, publicKey) = TokenHandoff.keyPair()
        let state = SecretText.base64url(Data((0..<24).map { _ in UInt8.random(in: 0...255) }))
        let outcome = LoginOutcome()
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: LoginListener(state: state, privateKey: key, host: host, netrc: target, outcome: outcome),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "warren-login"),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: { var l = Logger(label: "warren-login"); l.logLevel = .error; return l }()
        )
        // Run as a service so the end is a graceful shutdown: the browser's request that
        // delivered the token gets its answer before the listener closes.
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [],
                                                      logger: { var l = Logger(label: "warren-login"); l.logLevel = .error; return l }()))
        let server = Task { try await group.run() }
        var port = 0
        for await p in portStream {
            port = p
            break
        }
        var components = URLComponents(string: base + "/login")
        components?.queryItems = [.init(name: "cli_port", value: String(port)), .init(name: "cli_key", value: publicKey),
                                  .init(name: "cli_state", value: state)]
        let loginURL = components?.string ?? base + "/login"
        // Written at once (not through stdio's buffer): scripts and tests wait for it.
        FileHandle.standardOutput.write(Data("Sign in at: \(loginURL)\n".utf8))
        if !noBrowser { Self.openBrowser(loginURL) }
        let deadline = ContinuousClock.now + .seconds(timeout)
        while outcome.result == nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))  // waiting for the browser's return
        }
        await group.triggerGracefulShutdown()
        _ = try? await server.value
        switch outcome.result {
        case .success(let user)?:
            print("signed in to \(host) as \(user); the token is in \(target)")
        case .failure(let reason)?:
            printError("warren login: \(reason)")
            throw ExitCode(1)
        case nil:
            printError("warren login: no sign-in within \(timeout) s")
            throw ExitCode(1)
        }
    }

    static func openBrowser(_ url: String) {
        for opener in ["/usr/bin/xdg-open", "/usr/bin/open"] where FileManager.default.isExecutableFile(atPath: opener) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: opener)
            process.arguments = [url]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            if (try? process.run()) != nil { return }
        }
    }
}

/// What came back to the listener.
final class LoginOutcome: Sendable {
    private let state = Mutex<Result<String, LoginFailure>?>(nil)
    var result: Result<String, LoginFailure>? { state.withLock { $0 } }
    func finish(_ r: Result<String, LoginFailure>) { state.withLock { if $0 == nil { $0 = r } } }
}

/// The loopback listener: `GET /callback?state&user&sealed` from Warren's redirect.
struct LoginListener: HTTPResponder {
    typealias Context = BasicRequestContext
    let state: String
    let privateKey: Curve25519PrivateKeyBox
    let host: String
    let netrc: String
    let outcome: LoginOutcome

    init(state: String, privateKey: Curve25519.KeyAgreement.PrivateKey, host: String, netrc: String, outcome: LoginOutcome) {
        self.state = state
        self.privateKey = Curve25519PrivateKeyBox(privateKey)
        self.host = host
        self.netrc = netrc
        self.outcome = outcome
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let query = request.uri.queryParameters
        guard request.uri.path == "/callback", let got = query["state"].map(String.init), SecretText.constantTimeEqual(got, state),
              let user = query["user"].map(String.init), !user.isEmpty, !user.contains(where: { $0.isWhitespace }),
              let sealed = query["sealed"].map(String.init) else {
            return Self.page(.badRequest, "This is not the sign-in warren login is waiting for.")
        }
        let token: String
        do {
            token = try TokenHandoff.open(sealed, with: privateKey.key, context: state)
        } catch {
            outcome.finish(.failure(LoginFailure("\(error)")))
            return Self.page(.badRequest, "The token did not open: sign in again.")
        }
        do {
            try NetrcWriter.write(host: host, user: user, password: token, to: netrc)
        } catch {
            outcome.finish(.failure(LoginFailure("cannot write \(netrc): \(error)")))
            return Self.page(.internalServerError, "Signed in, but \(netrc) could not be written.")
        }
        outcome.finish(.success(user))
        return Self.page(.ok, "Signed in to \(host) as \(user). The token is in \(netrc); you can close this window.")
    }

    static func page(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}

/// The private key, held where a Sendable responder can keep it.
struct Curve25519PrivateKeyBox: @unchecked Sendable {
    let key: Curve25519.KeyAgreement.PrivateKey
    init(_ key: Curve25519.KeyAgreement.PrivateKey) { self.key = key }
}

/// Writes a one-line `.netrc` entry for a host, replacing single-line entries for it,
/// atomically, readable by the owner only.
enum NetrcWriter {
    static func write(host: String, user: String, password: String, to path: String) throws {
        let old = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var lines = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeAll { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count >= 2 && fields[0] == "machine" && fields[1] == host
        }
        while lines.last == "" { lines.removeLast() }
        lines.append("machine \(host) login \(user) password \(password)")
        let temporary = path + ".warren-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw POSIXError(.EIO)
        }
    }
}
