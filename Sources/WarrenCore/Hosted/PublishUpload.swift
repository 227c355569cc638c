import Foundation
import GoModule
import NIOPosix
import Synchronization

/// A module zip arriving from a client, written to a file of its own under the data
/// directory's `.uploads/` until it has been checked: nothing of it reaches storage
/// before it is known to be a valid module zip. The name carries `.tmp-<pid>-`, so a
/// crash's leftovers are swept at the next start like any staging file.
public final class PublishUpload: Sendable {
    public let path: String
    let writer: WritableFile
    let threadPool: NIOThreadPool
    private let received = Atomic<Int64>(0)

    /// The largest upload accepted: the largest module zip the go command accepts.
    public static let limit = ModuleZipRules.maxZipFile

    public init(dataDirectory: String, threadPool: NIOThreadPool = .singleton) throws {
        let directory = dataDirectory + "/.uploads"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/upload.tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        writer = try WritableFile(creating: path, mode: 0o600)
        self.threadPool = threadPool
    }

    /// Bytes received so far.
    public var size: Int64 { received.load(ordering: .relaxed) }

    /// Appends a chunk of the body; refuses what would pass the limit.
    public func append(_ bytes: [UInt8]) async throws(ProxyError) {
        let total = received.add(Int64(bytes.count), ordering: .relaxed).newValue
        if total > Self.limit {
            throw .tooLarge("module zip is larger than \(Self.limit >> 20) MiB, the go command's limit")
        }
        let writer = self.writer
        do {
            try await threadPool.runIfActive { try writer.write(bytes) }
        } catch {
            throw .internalError("could not keep the upload", detail: "\(error)")
        }
    }

    /// Removes the file (whatever became of the upload).
    public func discard() {
        unlink(path)
    }
}
