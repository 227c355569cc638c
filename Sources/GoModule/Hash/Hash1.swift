import Crypto
import Dispatch

/// The `h1:` hash of go.sum (golang.org/x/mod/sumdb/dirhash, Hash1).
///
/// For each file, sorted by name (byte order): the SHA-256 of its contents in hex, two
/// spaces, the name, a newline. The `h1:` hash is the base64 SHA-256 of that summary.
/// A module zip's names carry their `module@version/` prefix; a go.mod is hashed as a
/// single file named `go.mod`.
public enum Hash1 {
    public struct Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Hashes a list of file names with the SHA-256 digests of their contents.
    public static func hash(files: [(name: String, digest: SHA256.Digest)]) throws(Error) -> String {
        var sorted = files
        sorted.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var summary = SHA256()
        for (name, digest) in sorted {
            if name.utf8.contains(UInt8(ascii: "\n")) {
                throw Error(description: "dirhash: filenames with newlines are not supported")
            }
            let line = hex(digest) + "  " + name + "\n"
            summary.update(data: Array(line.utf8))
        }
        return "h1:" + Base64.encode(Array(summary.finalize()))
    }

    /// The go.sum hash of a go.mod file's contents (`module version/go.mod h1:…`).
    public static func hashGoMod(_ contents: some Collection<UInt8>) -> String {
        let digest = SHA256.hash(data: Array(contents))
        // A single fixed name cannot contain a newline.
        return (try? hash(files: [("go.mod", digest)])) ?? ""
    }

    /// The go.sum hash of a module zip. Entries are decompressed and hashed in parallel,
    /// each in bounded chunks, and every entry's size and CRC are verified on the way.
    public static func hashZip(path: String) throws -> String {
        try hashZip(ZipReader(path: path))
    }

    public static func hashZip(_ reader: ZipReader) throws -> String {
        let entries = reader.entries
        let results = try ParallelMap.map(count: entries.count) { i in
            var hasher = SHA256()
            try reader.read(entries[i]) { hasher.update(bufferPointer: $0) }
            return (entries[i].nameBytes, hasher.finalize())
        }
        var files: [(name: String, digest: SHA256.Digest)] = []
        files.reserveCapacity(results.count)
        for (nameBytes, digest) in results {
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw Error(description: "dirhash: zip entry name \(GoQuote.string(nameBytes)) is not valid UTF-8")
            }
            files.append((name, digest))
        }
        return try hash(files: files)
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in digest {
            out.append(table[Int(b >> 4)])
            out.append(table[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Runs independent, CPU-bound work items on all cores and returns results in order.
/// Used for per-file hashing and compression, where items share no state.
enum ParallelMap {
    static func map<T: Sendable>(count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        if count == 0 { return [] }
        let slots = ResultSlots<T>(count: count)
        // Work is claimed in order from a shared counter so that large and small items
        // balance across threads.
        let next = AtomicCounter()
        let workers = min(count, max(1, ProcessorCount.active))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let i = next.increment()
                if i >= count { return }
                slots.set(i, Result { try body(i) })
            }
        }
        return try slots.collect()
    }
}

/// One result slot per work item. Each slot is written by exactly one worker before
/// concurrentPerform returns, and read only after, which is what makes it safe to share.
private final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<Result<T, any Swift.Error>?>

    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: nil)
    }

    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }

    func set(_ i: Int, _ value: Result<T, any Swift.Error>) { buffer[i] = value }

    func collect() throws -> [T] {
        var out: [T] = []
        out.reserveCapacity(buffer.count)
        for slot in buffer {
            guard let slot else { continue }
            out.append(try slot.get())
        }
        return out
    }
}
