import Crypto

/// Creates module zips (x/mod's Create and CreateFromDir): validates the module path and
/// version, applies the zip rules to the files, and writes `module@version/`-prefixed
/// entries.
///
/// Files are compressed in parallel, in batches, and written in order; a batch holds at
/// most a few MiB, and files too large for a batch are streamed through one compressor,
/// so memory stays bounded whatever the module's size.
public enum ModuleZipWriter {
    /// What a created zip contains: the files written and its go.sum hash, computed from
    /// the file contents on the way through (no second read of the zip).
    public struct Result: Sendable {
        public var files: [String]
        public var hash: String
        public var zipSize: UInt64
    }

    /// Files at most this large are read and compressed whole, several at a time.
    static let batchFileLimit: Int64 = 1 << 20
    /// A batch of small files is cut at this many bytes of input.
    static let batchByteLimit: Int64 = 8 << 20

    public static func create(module path: String, version: String, files: [ModuleSourceFile],
                              to sink: ByteSink, compressionLevel: Int32 = 5) throws -> Result {
        let canonical = ModuleVersion.canonical(version)
        if canonical != version {
            throw ModuleZipError.module("version \(GoQuote.string(version)) is not canonical (should be \(GoQuote.string(canonical)))")
        }
        do {
            _ = try ModuleVersion(path: path, version: version)
        } catch {
            throw ModuleZipError.module(error.description)
        }
        let (cf, valid) = ModuleZipRules.check(files)
        if let error = cf.error { throw error }

        let prefix = path + "@" + version + "/"
        let writer = ZipWriter(sink: sink)
        var digests: [(name: String, digest: SHA256.Digest)] = []
        digests.reserveCapacity(valid.count)

        var index = 0
        while index < valid.count {
            if valid[index].size > batchFileLimit {
                let f = valid[index]
                let digest = try streamEntry(f, name: prefix + f.path, writer: writer, level: compressionLevel)
                digests.append((prefix + f.path, digest))
                index += 1
                continue
            }
            var end = index
            var bytes: Int64 = 0
            while end < valid.count, valid[end].size <= batchFileLimit, bytes < batchByteLimit {
                bytes += valid[end].size
                end += 1
            }
            let batch = Array(valid[index..<end])
            let compressed = try ParallelMap.map(count: batch.count) { i in
                try CompressedEntry.make(batch[i], level: compressionLevel)
            }
            for (f, entry) in zip(batch, compressed) {
                let name = prefix + f.path
                try writer.addEntry(name: Array(name.utf8), method: entry.method, crc: entry.crc,
                                    uncompressedSize: entry.size, compressed: entry.data)
                digests.append((name, entry.digest))
            }
            index = end
        }
        try writer.finish()
        return Result(files: cf.valid, hash: try Hash1.hash(files: digests), zipSize: writer.bytesWritten)
    }

    /// Zips a directory tree (x/mod's CreateFromDir).
    public static func create(module path: String, version: String, directory: String,
                              to sink: ByteSink, compressionLevel: Int32 = 5) throws -> Result {
        let listing = try ModuleDirectory.list(directory)
        if !listing.invalid.isEmpty { throw ModuleZipError.invalidFiles(listing.invalid) }
        return try create(module: path, version: version, files: listing.files, to: sink, compressionLevel: compressionLevel)
    }

    /// Compresses a large file chunk by chunk straight into the zip.
    private static func streamEntry(_ f: ModuleSourceFile, name: String, writer: ZipWriter, level: Int32) throws -> SHA256.Digest {
        let reader = try f.open()
        let deflater = try Deflater(level: level)
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        var total: Int64 = 0
        try writer.beginStreamedEntry(name: Array(name.utf8))
        while true {
            let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
            total += Int64(n)
            if total > f.size { throw ModuleZipError.io("file \(GoQuote.string(f.path)) is larger than declared size") }
            try buffer.withUnsafeBytes { raw in
                let chunk = UnsafeRawBufferPointer(rebasing: raw[..<n])
                hasher.update(bufferPointer: chunk)
                writer.noteUncompressed(chunk)
                try deflater.compress(chunk, finish: n == 0) { try writer.writeCompressed($0) }
            }
            if n == 0 { break }
        }
        try writer.endStreamedEntry()
        return hasher.finalize()
    }
}

/// One small file, read and compressed in memory, ready to be written as a zip entry.
struct CompressedEntry: Sendable {
    var method: UInt16
    var crc: UInt32
    var size: UInt64
    var data: [UInt8]
    var digest: SHA256.Digest

    static func make(_ f: ModuleSourceFile, level: Int32) throws -> CompressedEntry {
        let raw: [UInt8]
        if case .bytes(let b) = f.contents {
            raw = b
        } else {
            raw = try f.open().readAll(limit: Int(f.size))
        }
        var crc = CRC32()
        var compressed: [UInt8] = []
        compressed.reserveCapacity(raw.count / 3 + 64)
        try raw.withUnsafeBytes { input in
            crc.update(input)
            let deflater = try Deflater(level: level)
            try deflater.compress(input, finish: true) { compressed.append(contentsOf: $0) }
        }
        let digest = SHA256.hash(data: raw)
        // Incompressible files are stored as they are: smaller and faster to read back.
        if compressed.count >= raw.count {
            return CompressedEntry(method: ZipWriter.methodStore, crc: crc.value, size: UInt64(raw.count), data: raw, digest: digest)
        }
        return CompressedEntry(method: ZipWriter.methodDeflate, crc: crc.value, size: UInt64(raw.count), data: compressed, digest: digest)
    }
}
