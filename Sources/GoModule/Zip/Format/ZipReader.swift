/// One file (or directory) recorded in a zip's central directory.
public struct ZipEntry: Sendable {
    /// The raw name bytes; module zip names must be UTF-8, which the checker verifies.
    public let nameBytes: [UInt8]
    public let method: UInt16
    public let flags: UInt16
    public let crc32: UInt32
    public let compressedSize: UInt64
    public let uncompressedSize: UInt64
    let localHeaderOffset: UInt64

    /// The name as text (invalid UTF-8 repaired; use `nameBytes` where exactness matters).
    public var name: String { String(decoding: nameBytes, as: UTF8.self) }
    public var isDirectory: Bool { nameBytes.last == UInt8(ascii: "/") }
}

/// Reads a zip archive from a file with random access: the central directory first, then
/// any entry's contents on demand, decompressed in bounded chunks.
///
/// Hostile input is expected (a proxy reads zips from upstreams it does not control):
/// every offset and count is range-checked before use, and an entry can never yield
/// more bytes than its header declares, so a zip bomb fails instead of filling memory.
public final class ZipReader: Sendable {
    public let file: ReadableFile
    public let entries: [ZipEntry]

    static let endRecordSize = 22
    static let maxCommentSize = 0xFFFF

    public convenience init(path: String) throws {
        try self.init(file: ReadableFile(path: path))
    }

    public init(file: ReadableFile) throws {
        self.file = file
        self.entries = try Self.readDirectory(file)
    }

    /// Streams the decompressed contents of `entry` to `body` in chunks of at most 64 KiB,
    /// verifying its declared size and CRC-32.
    public func read(_ entry: ZipEntry, chunkSize: Int = 64 * 1024, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let dataStart = try dataOffset(of: entry)
        var crc = CRC32()
        var produced: UInt64 = 0
        var input = [UInt8](repeating: 0, count: chunkSize)
        var consumedCompressed: UInt64 = 0

        func deliver(_ chunk: UnsafeRawBufferPointer) throws {
            produced += UInt64(chunk.count)
            if produced > entry.uncompressedSize {
                throw ZipFormatError("\(entry.name): uncompressed data is larger than declared size (\(entry.uncompressedSize) bytes)")
            }
            crc.update(chunk)
            try body(chunk)
        }

        switch entry.method {
        case ZipWriter.methodStore:
            if entry.compressedSize != entry.uncompressedSize {
                throw ZipFormatError("\(entry.name): stored entry sizes disagree")
            }
            while consumedCompressed < entry.compressedSize {
                let want = Int(min(UInt64(chunkSize), entry.compressedSize - consumedCompressed))
                let n = try input.withUnsafeMutableBytes { buf in
                    try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buf[..<want]), at: Int64(dataStart + consumedCompressed))
                }
                if n == 0 { throw ZipFormatError("\(entry.name): unexpected end of zip data") }
                consumedCompressed += UInt64(n)
                try input.withUnsafeBytes { try deliver(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            }
        case ZipWriter.methodDeflate:
            let inflater = try Inflater()
            var output = [UInt8](repeating: 0, count: chunkSize)
            while !inflater.finished {
                let want = Int(min(UInt64(chunkSize), entry.compressedSize - consumedCompressed))
                if want == 0 { throw ZipFormatError("\(entry.name): deflate data is truncated") }
                let n = try input.withUnsafeMutableBytes { buf in
                    try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buf[..<want]), at: Int64(dataStart + consumedCompressed))
                }
                if n == 0 { throw ZipFormatError("\(entry.name): unexpected end of zip data") }
                var offset = 0
                // Keep inflating while input remains or zlib may hold more output for it.
                var outputWasFull = false
                repeat {
                    let (used, made) = try input.withUnsafeBytes { inBuf in
                        try output.withUnsafeMutableBytes { outBuf in
                            try inflater.inflate(UnsafeRawBufferPointer(rebasing: inBuf[offset..<n]), into: outBuf)
                        }
                    }
                    offset += used
                    if made > 0 {
                        try output.withUnsafeBytes { try deliver(UnsafeRawBufferPointer(rebasing: $0[..<made])) }
                    }
                    outputWasFull = made == output.count
                    if used == 0 && made == 0 { break }
                } while (offset < n || outputWasFull) && !inflater.finished
                consumedCompressed += UInt64(offset)
                if offset == 0 && !inflater.finished {
                    throw ZipFormatError("\(entry.name): corrupt deflate data")
                }
            }
        default:
            throw ZipFormatError("\(entry.name): unsupported compression method \(entry.method)")
        }

        if produced != entry.uncompressedSize {
            throw ZipFormatError("\(entry.name): uncompressed size \(produced) does not match declared size \(entry.uncompressedSize)")
        }
        if entry.crc32 != 0 && crc.value != entry.crc32 {
            throw ZipFormatError("\(entry.name): checksum error")
        }
    }

    /// Where an entry's compressed data starts, from its local header.
    func dataOffset(of entry: ZipEntry) throws -> UInt64 {
        let header = try file.readExactly(30, at: Int64(entry.localHeaderOffset))
        var r = ByteCursor(header)
        guard r.u32() == ZipWriter.localHeaderSignature else {
            throw ZipFormatError("\(entry.name): bad local file header")
        }
        r.skip(22)
        let nameLength = UInt64(r.u16())
        let extraLength = UInt64(r.u16())
        let start = entry.localHeaderOffset + 30 + nameLength + extraLength
        guard start <= UInt64(file.size), entry.compressedSize <= UInt64(file.size) - start else {
            throw ZipFormatError("\(entry.name): entry data extends past the end of the zip")
        }
        return start
    }

    // MARK: - Central directory

    static func readDirectory(_ file: ReadableFile) throws -> [ZipEntry] {
        let size = file.size
        guard size >= Int64(endRecordSize) else { throw ZipFormatError("not a valid zip file") }
        let tailLength = Int(min(size, Int64(endRecordSize + maxCommentSize)))
        let tail = try file.readExactly(tailLength, at: size - Int64(tailLength))
        guard let endPos = findEndRecord(tail) else { throw ZipFormatError("not a valid zip file") }
        var r = ByteCursor(Array(tail[(endPos + 4)...]))
        let disk = r.u16(), cdDisk = r.u16()
        var count = UInt64(r.u16())
        let totalCount = UInt64(r.u16())
        var cdSize = UInt64(r.u32())
        var cdOffset = UInt64(r.u32())
        guard disk == 0, cdDisk == 0, count == totalCount else { throw ZipFormatError("multi-disk zip files are not supported") }

        if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            let absoluteEnd = size - Int64(tailLength) + Int64(endPos)
            if let z64 = try readZip64End(file, endRecordAt: absoluteEnd) {
                (count, cdSize, cdOffset) = z64
            }
        }
        guard cdOffset <= UInt64(size), cdSize <= UInt64(size) - cdOffset else {
            throw ZipFormatError("zip central directory lies outside the file")
        }
        // Each central record is at least 46 bytes: a count beyond that is a lie.
        guard count <= cdSize / 46 + 1 else { throw ZipFormatError("zip central directory is truncated") }
        let directory = try file.readExactly(Int(cdSize), at: Int64(cdOffset))
        var c = ByteCursor(directory)
        var entries: [ZipEntry] = []
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard c.remaining >= 46, c.u32() == ZipWriter.centralHeaderSignature else {
                throw ZipFormatError("zip central directory is corrupt")
            }
            c.skip(4)
            let flags = c.u16()
            let method = c.u16()
            c.skip(4)
            let crc = c.u32()
            var compressed = UInt64(c.u32())
            var uncompressed = UInt64(c.u32())
            let nameLength = Int(c.u16()), extraLength = Int(c.u16()), commentLength = Int(c.u16())
            c.skip(8)
            var localOffset = UInt64(c.u32())
            guard c.remaining >= nameLength + extraLength + commentLength else {
                throw ZipFormatError("zip central directory is corrupt")
            }
            let name = c.bytes(nameLength)
            var extra = ByteCursor(c.bytes(extraLength))
            c.skip(commentLength)
            // zip64 extended information replaces the fields that are all ones.
            while extra.remaining >= 4 {
                let tag = extra.u16()
                let len = Int(extra.u16())
                guard extra.remaining >= len else { break }
                var field = ByteCursor(extra.bytes(len))
                if tag == 0x0001 {
                    if uncompressed == 0xFFFF_FFFF, field.remaining >= 8 { uncompressed = field.u64() }
                    if compressed == 0xFFFF_FFFF, field.remaining >= 8 { compressed = field.u64() }
                    if localOffset == 0xFFFF_FFFF, field.remaining >= 8 { localOffset = field.u64() }
                }
            }
            if flags & 0x1 != 0 { throw ZipFormatError("encrypted zip entries are not supported") }
            guard localOffset <= UInt64(size) else { throw ZipFormatError("zip entry offset lies outside the file") }
            entries.append(ZipEntry(nameBytes: name, method: method, flags: flags, crc32: crc,
                                    compressedSize: compressed, uncompressedSize: uncompressed,
                                    localHeaderOffset: localOffset))
        }
        return entries
    }

    /// The end-of-central-directory record: the last signature whose comment length
    /// exactly reaches the end of the file.
    static func findEndRecord(_ tail: [UInt8]) -> Int? {
        var i = tail.count - endRecordSize
        while i >= 0 {
            if tail[i] == 0x50, tail[i + 1] == 0x4b, tail[i + 2] == 0x05, tail[i + 3] == 0x06 {
                let commentLength = Int(tail[i + 20]) | Int(tail[i + 21]) << 8
                if i + endRecordSize + commentLength <= tail.count { return i }
            }
            i -= 1
        }
        return nil
    }

    static func readZip64End(_ file: ReadableFile, endRecordAt: Int64) throws -> (UInt64, UInt64, UInt64)? {
        guard endRecordAt >= 20 else { return nil }
        var locator = ByteCursor(try file.readExactly(20, at: endRecordAt - 20))
        guard locator.u32() == 0x0706_4b50 else { return nil }
        locator.skip(4)
        let recordOffset = locator.u64()
        guard recordOffset <= UInt64(file.size) - 56 else { throw ZipFormatError("zip64 end record lies outside the file") }
        var rec = ByteCursor(try file.readExactly(56, at: Int64(recordOffset)))
        guard rec.u32() == 0x0606_4b50 else { throw ZipFormatError("zip64 end record is corrupt") }
        rec.skip(20)
        let count = rec.u64()
        _ = rec.u64()
        let size = rec.u64()
        let offset = rec.u64()
        return (count, size, offset)
    }
}

/// Little-endian field reading over a byte array; reads past the end yield zeros, and
/// callers check `remaining` before trusting a record.
struct ByteCursor {
    let data: [UInt8]
    var position = 0

    init(_ data: [UInt8]) { self.data = data }

    var remaining: Int { data.count - position }

    mutating func u16() -> UInt16 {
        var v: UInt16 = 0
        for i in 0..<2 where position + i < data.count { v |= UInt16(data[position + i]) << (8 * UInt16(i)) }
        position += 2
        return v
    }

    mutating func u32() -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<4 where position + i < data.count { v |= UInt32(data[position + i]) << (8 * UInt32(i)) }
        position += 4
        return v
    }

    mutating func u64() -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 where position + i < data.count { v |= UInt64(data[position + i]) << (8 * UInt64(i)) }
        position += 8
        return v
    }

    mutating func bytes(_ n: Int) -> [UInt8] {
        let end = min(data.count, position + n)
        let out = position < end ? Array(data[position..<end]) : []
        position += n
        return out
    }

    mutating func skip(_ n: Int) { position += n }
}
