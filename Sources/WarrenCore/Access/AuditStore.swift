/// One security event as the database keeps it.
public struct AuditRecord: Sendable, Equatable {
    public var time: Double
    public var action: String
    public var user: String
    public var token: String?
    public var address: String?
    public var target: String?
    public var result: String
    public var detail: String?

    public init(time: Double, action: String, user: String, token: String?, address: String?, target: String?, result: String,
                detail: String?) {
        self.time = time
        self.action = action
        self.user = user
        self.token = token
        self.address = address
        self.target = target
        self.result = result
        self.detail = detail
    }
}

/// Where audit events are kept: the metadata index's database (both backends).
public protocol AuditStore: Sendable {
    func recordAudit(_ records: [AuditRecord]) async throws
    /// Events at or after `since`, oldest first, at most `limit`.
    func auditEvents(since: Double, limit: Int) async throws -> [AuditRecord]
    /// The latest events, newest first, at most `limit`; only those whose target starts
    /// with `targetPrefix` when given (a module's publish history: `module@`).
    func latestAuditEvents(targetPrefix: String?, limit: Int) async throws -> [AuditRecord]
}
