import Foundation
import Synchronization

/// Security events as JSON lines (to a file, appended, or stderr): logins, tokens made
/// and revoked, refused requests, downloads of modules that rules protect. Who (user and
/// token ID, never a secret), what, when, from where, and the result.
public final class AuditLog: Sendable {
    private let descriptor: Int32
    private let owned: Bool
    private let lock = Mutex(())

    /// `path` "-" or "stderr": standard error.
    public init(path: String) throws {
        if path == "-" || path == "stderr" {
            descriptor = 2
            owned = false
        } else {
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            descriptor = fd
            owned = true
        }
    }

    deinit { if owned { close(descriptor) } }

    public struct Event: Sendable {
        public var action: String
        public var principal: Principal
        public var address: String?
        public var target: String?
        public var result: String
        public var detail: String?

        public init(action: String, principal: Principal, address: String? = nil, target: String? = nil, result: String,
                    detail: String? = nil) {
            self.action = action
            self.principal = principal
            self.address = address
            self.target = target
            self.result = result
            self.detail = detail
        }
    }

    public func record(_ event: Event, at time: Date = Date()) {
        var line: [UInt8] = Array("{\"time\":".utf8)
        JSONString.append(ISO8601DateFormatter().string(from: time), to: &line)
        func field(_ name: String, _ value: String?) {
            guard let value else { return }
            line.append(contentsOf: Array(",\"\(name)\":".utf8))
            JSONString.append(value, to: &line)
        }
        field("action", event.action)
        field("user", event.principal.displayName)
        if case .user(let identity) = event.principal { field("token", identity.tokenID) }
        field("address", event.address)
        field("target", event.target)
        field("result", event.result)
        field("detail", event.detail)
        line.append(contentsOf: Array("}\n".utf8))
        lock.withLock { _ in
            line.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
        }
    }
}
