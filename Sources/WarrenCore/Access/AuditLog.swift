import Foundation
import Synchronization

/// Security events: logins, tokens made and revoked, refused requests, downloads of
/// modules that rules protect. Who (user and token ID, never a secret), what, when, from
/// where, and the result.
///
/// Each event goes to the database when there is one (the metadata index's: every
/// replica's events in one place, read through `/-/api/audit`), written in batches by
/// `flush()`, and as a JSON line to a file or stderr when one is configured.
public final class AuditLog: Sendable {
    private let descriptor: Int32?
    private let owned: Bool
    private let lock = Mutex(())
    public let store: (any AuditStore)?
    private let pending = Mutex<[AuditRecord]>([])
    /// Events kept for the database at most (while it is down); older ones are dropped.
    static let pendingLimit = 10_000

    /// - Parameter path: a file to append JSON lines to, `-` or `stderr` for standard
    ///   error, nil for none.
    public init(path: String?, store: (any AuditStore)? = nil) throws {
        self.store = store
        switch path {
        case nil:
            descriptor = nil
            owned = false
        case "-"?, "stderr"?:
            descriptor = 2
            owned = false
        case let file?:
            let fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            descriptor = fd
            owned = true
        }
    }

    deinit { if owned, let descriptor { close(descriptor) } }

    /// Writes what waits for the database; on failure keeps it for the next call.
    public func flush() async {
        guard let store else { return }
        let batch = pending.withLock { p in
            defer { p = [] }
            return p
        }
        guard !batch.isEmpty else { return }
        do {
            try await store.recordAudit(batch)
        } catch {
            pending.withLock { p in
                p = Array((batch + p).prefix(Self.pendingLimit))
            }
        }
    }

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
        if store != nil {
            var token: String?
            if case .user(let identity) = event.principal { token = identity.tokenID }
            let record = AuditRecord(time: time.timeIntervalSince1970, action: event.action, user: event.principal.displayName,
                                     token: token, address: event.address, target: event.target, result: event.result,
                                     detail: event.detail)
            // Bounded: while the database is away, events past the limit are dropped
            // (and counted) rather than the process growing without end.
            let kept = pending.withLock { p in
                guard p.count < Self.pendingLimit else { return false }
                p.append(record)
                return true
            }
            if !kept { MetricHandles.counter("warren_audit_events_dropped_total", []).increment() }
        }
        guard let descriptor else { return }
        var line: [UInt8] = Array("{\"time\":".utf8)
        JSONString.append(IndexFeed.timestamp(time.timeIntervalSince1970), to: &line)
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
