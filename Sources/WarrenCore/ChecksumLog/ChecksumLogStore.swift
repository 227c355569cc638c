import GoModule

/// Warren's own checksum database as a database holds it: the log's identity, its size
/// and signed tree head, every record, and every stored hash (the tlog layout). Both
/// metadata index backends implement it, so replicas share one log through PostgreSQL.
public protocol ChecksumLogStore: Sendable {
    /// The log, or nil before `warren sumdb init`.
    func checksumLog() async throws -> ChecksumLogState?
    /// Creates the empty log with its first signed head; throws `ChecksumLogExists` when
    /// there is one already.
    func createChecksumLog(name: String, verifierKey: String, signedHead: [UInt8]) async throws
    /// The ID of the record of `module@version` within the log's size, or nil.
    func logRecordID(module: String, version: String) async throws -> Int64?
    /// Records `from` up to `from + count` (fewer at the end of the log), in order.
    func logRecords(from: Int64, count: Int) async throws -> [LogRecord]
    /// The stored hashes at `indexes`, in that order; throws if one is missing.
    func logHashes(_ indexes: [Int64]) async throws -> [TransparencyLog.Hash]
    /// Runs `body` with the log locked in a transaction (no other append, here or on
    /// another replica, runs meanwhile), then writes the append it returns, if any:
    /// records and hashes (replacing leftovers of an append that died), then the new
    /// size and head. Returns what `body` returned.
    func withLogLocked<T: Sendable>(_ body: @escaping @Sendable (any ChecksumLogTransaction) async throws -> (LogAppend?, T)) async throws -> T
}

/// The log as an append sees it, inside its transaction.
public protocol ChecksumLogTransaction: Sendable {
    var size: Int64 { get }
    func recordID(module: String, version: String) async throws -> Int64?
    func records(from: Int64, count: Int) async throws -> [LogRecord]
    func hashes(_ indexes: [Int64]) async throws -> [TransparencyLog.Hash]
}

/// What one append writes.
public struct LogAppend: Sendable {
    public var records: [LogRecord]
    public var hashes: [(index: Int64, hash: TransparencyLog.Hash)]
    public var newSize: Int64
    public var signedHead: [UInt8]
}

public struct ChecksumLogState: Sendable, Equatable {
    public var name: String
    public var verifierKey: String
    public var size: Int64
    /// The signed note of the tree of `size` records.
    public var signedHead: [UInt8]

    public init(name: String, verifierKey: String, size: Int64, signedHead: [UInt8]) {
        self.name = name
        self.verifierKey = verifierKey
        self.size = size
        self.signedHead = signedHead
    }
}

/// One record: the go.sum lines of a module version, as the go command looks them up.
public struct LogRecord: Sendable, Equatable {
    public var id: Int64
    public var module: String
    public var version: String
    /// `M V h1:…\nM V/go.mod h1:…\n`
    public var text: [UInt8]

    public init(id: Int64, module: String, version: String, text: [UInt8]) {
        self.id = id
        self.module = module
        self.version = version
        self.text = text
    }
}

public struct ChecksumLogExists: Error, CustomStringConvertible {
    public let name: String
    public init(name: String) { self.name = name }
    public var description: String { "this database already holds the checksum database \(name)" }
}
