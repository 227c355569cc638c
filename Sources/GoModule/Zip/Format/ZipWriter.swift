/// Where a zip is written: a file, or (in the proxy) a stream to a client and a file at once.
public protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension WritableFile: ByteSink {}

/// Writes a zip archive sequentially: local headers and data as entries arrive, the
/// central directory at the end. Nothing but the directory records is kept in memory.
///
/// Entries whose size and checksum are known up front (small files compressed in memory)
/// get complete local headers; streamed entries use a trailing data descriptor, as Go's
/// archive/zip does. The result is a plain zip (no zip64) that every unzip tool and the
/// go command read; module zips are limited to 500 MiB, far below zip64 territory.
final class ZipWriter {
    private let sink: ByteSink
    private var offset: UInt64 = 0
    private var central: [UInt8] = []
    private var entryCount = 0
    private var open: (name: [UInt8], headerOffset: UInt64, crc: CRC32, compressed: UInt64, uncompressed: UInt64)?

    static let localHeaderSignature: UInt32 = 0x0403_4b50
    static let centralHeaderSignature: UInt32 = 0x0201_4b50
    static let endOfCentralSignature: UInt32 = 0x0605_4b50
    static let dataDescriptorSignature: UInt32 = 0x0807_4b50
    static let methodStore: UInt16 = 0
    static let methodDeflate: UInt16 = 8
    /// 1980-01-01 00:00, the earliest DOS date: module zips carry no meaningful times.
    static let dosDate: UInt16 = 0x21
    static let dosTime: UInt16 = 0

    init(sink: ByteSink) {
        self.sink = sink
    }

    /// Adds an entry whose compressed bytes are already in memory.
    func addEntry(name: [UInt8], method: UInt16, crc: UInt32, uncompressedSize: UInt64, compressed: [UInt8]) throws {
        precondition(open == nil, "entry still open")
        let headerOffset = offset
        var h = ByteBuilder()
        h.u32(Self.localHeaderSignature)
        h.u16(20)
        h.u16(flags(for: name))
        h.u16(method)
        h.u16(Self.dosTime); h.u16(Self.dosDate)
        h.u32(crc)
        try h.u32(checked32(UInt64(compressed.count)))
        try h.u32(checked32(uncompressedSize))
        h.u16(UInt16(name.count)); h.u16(0)
        h.bytes(name)
        try emit(h.data)
        try compressed.withUnsafeBytes { try emit($0) }
        try addCentral(name: name, method: method, dataDescriptor: false, crc: crc,
                       compressed: UInt64(compressed.count), uncompressed: uncompressedSize, headerOffset: headerOffset)
    }

    /// Starts a deflated entry whose data will arrive through `writeCompressed`.
    func beginStreamedEntry(name: [UInt8]) throws {
        precondition(open == nil, "entry still open")
        let headerOffset = offset
        var h = ByteBuilder()
        h.u32(Self.localHeaderSignature)
        h.u16(20)
        h.u16(flags(for: name) | 0x8)
        h.u16(Self.methodDeflate)
        h.u16(Self.dosTime); h.u16(Self.dosDate)
        h.u32(0); h.u32(0); h.u32(0)
        h.u16(UInt16(name.count)); h.u16(0)
        h.bytes(name)
        try emit(h.data)
        open = (name, headerOffset, CRC32(), 0, 0)
    }

    /// Records uncompressed bytes of the open entry (for its checksum and size).
    func noteUncompressed(_ bytes: UnsafeRawBufferPointer) {
        open?.crc.update(bytes)
        open?.uncompressed += UInt64(bytes.count)
    }

    func writeCompressed(_ bytes: UnsafeRawBufferPointer) throws {
        open?.compressed += UInt64(bytes.count)
        try emit(bytes)
    }

    func endStreamedEntry() throws {
        guard let e = open else { return }
        open = nil
        var d = ByteBuilder()
        d.u32(Self.dataDescriptorSignature)
        d.u32(e.crc.value)
        try d.u32(checked32(e.compressed))
        try d.u32(checked32(e.uncompressed))
        try emit(d.data)
        try addCentral(name: e.name, method: Self.methodDeflate, dataDescriptor: true, crc: e.crc.value,
                       compressed: e.compressed, uncompressed: e.uncompressed, headerOffset: e.headerOffset)
    }

    /// Writes the central directory and end record.
    func finish() throws {
        precondition(open == nil, "entry still open")
        let centralOffset = offset
        try central.withUnsafeBytes { try emit($0) }
        guard entryCount <= 0xFFFF else { throw ZipFormatError("too many files for a zip without zip64") }
        var end = ByteBuilder()
        end.u32(Self.endOfCentralSignature)
        end.u16(0); end.u16(0)
        end.u16(UInt16(entryCount)); end.u16(UInt16(entryCount))
        try end.u32(checked32(UInt64(central.count)))
        try end.u32(checked32(centralOffset))
        end.u16(0)
        try emit(end.data)
        central = []
    }

    var bytesWritten: UInt64 { offset }

    // MARK: - Implementation

    private func addCentral(name: [UInt8], method: UInt16, dataDescriptor: Bool, crc: UInt32,
                            compressed: UInt64, uncompressed: UInt64, headerOffset: UInt64) throws {
        var c = ByteBuilder()
        c.u32(Self.centralHeaderSignature)
        c.u16(0x0300 | 20)  // made by Unix, zip 2.0
        c.u16(20)
        c.u16(flags(for: name) | (dataDescriptor ? 0x8 : 0))
        c.u16(method)
        c.u16(Self.dosTime); c.u16(Self.dosDate)
        c.u32(crc)
        try c.u32(checked32(compressed))
        try c.u32(checked32(uncompressed))
        c.u16(UInt16(name.count)); c.u16(0); c.u16(0)
        c.u16(0); c.u16(0)
        c.u32(UInt32(0o100644) << 16)  // a regular file, rw-r--r--
        try c.u32(checked32(headerOffset))
        c.bytes(name)
        central.append(contentsOf: c.data)
        entryCount += 1
    }

    /// Bit 11 marks UTF-8 names, so tools do not read them as code page 437.
    private func flags(for name: [UInt8]) -> UInt16 {
        name.contains(where: { $0 >= 0x80 }) ? 0x800 : 0
    }

    private func checked32(_ v: UInt64) throws -> UInt32 {
        guard v <= UInt64(UInt32.max) else { throw ZipFormatError("zip too large for the 32-bit zip format") }
        return UInt32(v)
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        try sink.write(bytes)
        offset += UInt64(bytes.count)
    }

    private func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try emit($0) }
    }
}

/// Little-endian record building for zip headers.
struct ByteBuilder {
    var data: [UInt8] = []
    mutating func u16(_ v: UInt16) { data.append(UInt8(v & 0xFF)); data.append(UInt8(v >> 8)) }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { data.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
    mutating func bytes(_ b: [UInt8]) { data.append(contentsOf: b) }
}
