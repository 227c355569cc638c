import CZlib

/// A zip format or compression failure.
public struct ZipFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Raw DEFLATE compression (no zlib header), as zip entries store it. Wraps zlib, which
/// is on every Debian machine and is several times faster than a Swift implementation.
final class Deflater {
    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 64 * 1024)

    /// `level` 1…9; 5 matches Go's archive/zip default trade-off of size against speed.
    init(level: Int32 = 5) throws(ZipFormatError) {
        let rc = deflateInit2_(&stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        if rc != Z_OK { throw ZipFormatError("deflate init failed (\(rc))") }
    }

    deinit { deflateEnd(&stream) }

    /// Compresses `input` (finishing the stream when `finish` is set) and hands each
    /// chunk of output to `sink`.
    func compress(_ input: UnsafeRawBufferPointer, finish: Bool, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(input.count)
        let flush = finish ? Z_FINISH : Z_NO_FLUSH
        while true {
            let produced: Int = try output.withUnsafeMutableBytes { out in
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: UInt8.self)
                stream.avail_out = UInt32(out.count)
                let rc = deflate(&stream, flush)
                if rc == Z_STREAM_ERROR { throw ZipFormatError("deflate failed (\(rc))") }
                return out.count - Int(stream.avail_out)
            }
            if produced > 0 {
                try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[..<produced])) }
            }
            if finish {
                if stream.avail_out != 0 && stream.avail_in == 0 { break }
            } else if stream.avail_in == 0 && stream.avail_out != 0 {
                break
            }
        }
        if finish { deflateReset(&stream) }
    }
}

/// Raw DEFLATE decompression for reading zip entries.
final class Inflater {
    private var stream = z_stream()
    private(set) var finished = false

    init() throws(ZipFormatError) {
        let rc = inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        if rc != Z_OK { throw ZipFormatError("inflate init failed (\(rc))") }
    }

    deinit { inflateEnd(&stream) }

    func reset() {
        inflateReset(&stream)
        finished = false
    }

    /// Feeds compressed bytes; returns how many input bytes were consumed and how many
    /// output bytes were produced into `output`. Call again with the rest of the input
    /// while output is produced.
    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZipFormatError) -> (consumed: Int, produced: Int) {
        if finished { return (0, 0) }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(input.count)
        stream.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = UInt32(output.count)
        let rc = CZlib.inflate(&stream, Z_NO_FLUSH)
        switch rc {
        case Z_OK, Z_BUF_ERROR:
            break
        case Z_STREAM_END:
            finished = true
        default:
            throw ZipFormatError("corrupt deflate data (zlib \(rc))")
        }
        return (input.count - Int(stream.avail_in), output.count - Int(stream.avail_out))
    }
}

/// CRC-32 (IEEE), the checksum every zip entry carries.
struct CRC32 {
    private(set) var value: UInt32 = 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        var p = base.assumingMemoryBound(to: UInt8.self)
        var crc = UInt(value)
        while remaining > 0 {
            let n = min(remaining, Int(UInt32.max))
            crc = crc32(crc, p, UInt32(n))
            p += n
            remaining -= n
        }
        value = UInt32(truncatingIfNeeded: crc)
    }
}
