import Crypto

/// Hashes a module zip's entries while its bytes arrive, front to back, so that a proxy
/// knows the `h1:` hash the moment the last byte lands instead of reading the zip again.
///
/// A zip's authoritative index, the central directory, comes last, so this reads the
/// local file headers as they stream past and inflates and hashes each entry's data. What
/// it records is only a candidate: `ModuleZipChecker.verify(…, streamed:)` accepts it
/// only if every central-directory entry has a record at exactly its local-header offset,
/// with the same name, method, sizes and CRC. Those records were computed from the very
/// bytes a random-access read would use, so the hash is the same; any doubt (an odd
/// layout, zip64, a stored entry with a data descriptor, garbage between entries) just
/// makes this give up, and the caller reads the file the ordinary way.
///
/// Not thread-safe: feed it from one task at a time, in order.
public final class StreamingZipHasher: @unchecked Sendable {
    // @unchecked: used by one task at a time (the download loop), chunk after chunk.

    /// One entry as seen in the stream.
    public struct Record: Sendable {
        public var nameBytes: [UInt8]
        public var method: UInt16
        /// Where the entry's data starts, just after its local header.
        public var dataStart: UInt64
        /// Compressed bytes the entry's data took (for deflate: up to the end of the stream).
        public var compressedBytes: UInt64
        public var uncompressedBytes: UInt64
        public var crc32: UInt32
        public var digest: SHA256.Digest
        /// The contents, kept only for `module@version/go.mod`.
        public var contents: [UInt8]?
    }

    /// Everything learned, when the stream was understood up to its central directory.
    public struct Result: Sendable {
        /// By local-header offset.
        public var records: [UInt64: Record]
    }

    private enum State {
        /// Gathering a local header (or the signature that ends the entries) in `pending`.
        case header
        case stored(remaining: UInt64)
        case deflated
        /// After deflate data that has a data descriptor: gathering enough to find the next header.
        case descriptor
        /// Skipping to the end of an entry's declared compressed data.
        case skip(remaining: UInt64)
        case done
        case gaveUp
    }

    private struct Entry {
        var offset: UInt64
        var dataStart: UInt64
        var nameBytes: [UInt8]
        var method: UInt16
        var flags: UInt16
        var declaredCompressed: UInt32
        var declaredUncompressed: UInt32
        var consumed: UInt64 = 0
        var produced: UInt64 = 0
        var sha = SHA256()
        var crc = CRC32()
        var keep: Bool
        var kept: [UInt8] = []
    }

    private let goModName: [UInt8]
    private var state = State.header
    /// Absolute offset of the next byte fed in.
    private var position: UInt64 = 0
    /// Header bytes gathered so far, starting at `pendingStart`.
    private var pending: [UInt8] = []
    private var pendingStart: UInt64 = 0
    private var entry: Entry?
    private var inflater: Inflater?
    private var output = [UInt8](repeating: 0, count: 64 * 1024)
    private var records: [UInt64: Record] = [:]
    /// Uncompressed bytes so far, all entries: a zip bomb must not keep this busy for long.
    private var totalProduced: UInt64 = 0

    /// A local header is 30 bytes before its name and extra field.
    static let localHeaderSize = 30
    /// Longest data descriptor: signature, CRC, two 8-byte sizes; plus the next signature.
    static let descriptorLookahead = 4 + 4 + 8 + 8 + 4

    public init(module: String, version: String) {
        goModName = Array((module + "@" + version + "/go.mod").utf8)
    }

    /// The records, if the whole stream up to the central directory was understood.
    public var result: Result? {
        if case .done = state { return Result(records: records) }
        return nil
    }

    /// Feeds the next bytes of the zip.
    public func consume(_ bytes: UnsafeRawBufferPointer) {
        var input = bytes
        while !input.isEmpty {
            switch state {
            case .done, .gaveUp:
                position += UInt64(input.count)
                return
            case .header:
                input = gatherHeader(input)
            case .stored(let remaining):
                let n = Int(min(remaining, UInt64(input.count)))
                absorb(UnsafeRawBufferPointer(rebasing: input[..<n]))
                entry?.consumed += UInt64(n)
                advance(n, &input)
                if remaining == UInt64(n) {
                    finishEntry()
                    state = .header
                } else {
                    state = .stored(remaining: remaining - UInt64(n))
                }
            case .deflated:
                input = inflate(input)
            case .descriptor:
                input = gatherDescriptor(input)
            case .skip(let remaining):
                let n = Int(min(remaining, UInt64(input.count)))
                advance(n, &input)
                state = remaining == UInt64(n) ? .header : .skip(remaining: remaining - UInt64(n))
            }
        }
    }

    private func advance(_ n: Int, _ input: inout UnsafeRawBufferPointer) {
        position += UInt64(n)
        input = UnsafeRawBufferPointer(rebasing: input[n...])
    }

    private func giveUp() {
        state = .gaveUp
        entry = nil
        inflater = nil
        pending = []
        records = [:]
    }

    // MARK: - Headers

    private func gatherHeader(_ input: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var input = input
        if pending.isEmpty { pendingStart = position }
        // First the signature, then the fixed header, then its variable part.
        var needed = 4
        if pending.count >= 4 {
            switch Self.u32(pending, 0) {
            case ZipWriter.localHeaderSignature:
                needed = Self.localHeaderSize
                if pending.count >= Self.localHeaderSize {
                    needed += Int(Self.u16(pending, 26)) + Int(Self.u16(pending, 28))
                }
            case ZipWriter.centralHeaderSignature, ZipWriter.endOfCentralSignature:
                state = .done
                pending = []
                return input
            default:
                giveUp()
                return input
            }
        }
        let take = min(needed - pending.count, input.count)
        pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[..<take]))
        advance(take, &input)
        if pending.count == needed, needed >= Self.localHeaderSize,
           needed == Self.localHeaderSize + Int(Self.u16(pending, 26)) + Int(Self.u16(pending, 28)) {
            startEntry()
        }
        return input
    }

    private func startEntry() {
        let flags = Self.u16(pending, 6)
        let method = Self.u16(pending, 8)
        let compressed = Self.u32(pending, 18)
        let uncompressed = Self.u32(pending, 22)
        let nameLength = Int(Self.u16(pending, 26))
        let name = Array(pending[Self.localHeaderSize..<(Self.localHeaderSize + nameLength)])
        let hasDescriptor = flags & 0x8 != 0
        entry = Entry(offset: pendingStart, dataStart: position, nameBytes: name, method: method, flags: flags,
                      declaredCompressed: compressed, declaredUncompressed: uncompressed, keep: name == goModName)
        pending = []
        switch method {
        case ZipWriter.methodStore where !hasDescriptor && compressed != UInt32.max:
            if compressed == 0 {
                finishEntry()
                state = .header
            } else {
                state = .stored(remaining: UInt64(compressed))
            }
        case ZipWriter.methodDeflate:
            do {
                if let inflater { inflater.reset() } else { inflater = try Inflater() }
                state = .deflated
            } catch {
                giveUp()
            }
        default:
            giveUp()
        }
    }

    private func gatherDescriptor(_ input: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var input = input
        if pending.isEmpty { pendingStart = position }
        let take = min(Self.descriptorLookahead - pending.count, input.count)
        pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[..<take]))
        advance(take, &input)
        guard pending.count == Self.descriptorLookahead else { return input }
        // Optional signature, CRC, then 4- or 8-byte sizes: the layout is the one after
        // which a header signature follows.
        let base = Self.u32(pending, 0) == ZipWriter.dataDescriptorSignature ? 4 : 0
        let next = [base + 12, base + 20].first { at in
            at + 4 <= pending.count && [ZipWriter.localHeaderSignature, ZipWriter.centralHeaderSignature,
                                        ZipWriter.endOfCentralSignature].contains(Self.u32(pending, at))
        }
        guard let next else {
            giveUp()
            return input
        }
        // The bytes after the descriptor begin the next header.
        let rest = Array(pending[next...])
        pending = []
        state = .header
        position -= UInt64(rest.count)
        rest.withUnsafeBytes { consume($0) }
        return input
    }

    // MARK: - Entry data

    private func absorb(_ data: UnsafeRawBufferPointer) {
        guard var e = entry else { return }
        entry = nil  // keep the buffers uniquely referenced while they grow
        e.sha.update(bufferPointer: data)
        e.crc.update(data)
        e.produced += UInt64(data.count)
        totalProduced += UInt64(data.count)
        // Past the module size limit, or past the size the local header declares: the
        // ordinary check will name the problem.
        if totalProduced > UInt64(ModuleZipRules.maxZipFile)
            || (e.flags & 0x8 == 0 && e.declaredUncompressed != UInt32.max && e.produced > UInt64(e.declaredUncompressed)) {
            giveUp()
            return
        }
        if e.keep {
            if e.produced > UInt64(ModuleZipRules.maxGoMod) {
                giveUp()
                return
            }
            e.kept.append(contentsOf: data)
        }
        entry = e
    }

    private func inflate(_ input: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var input = input
        guard let inflater else {
            giveUp()
            return input
        }
        while !inflater.finished {
            let result: (consumed: Int, produced: Int)
            do {
                result = try output.withUnsafeMutableBytes { try inflater.inflate(input, into: $0) }
            } catch {
                giveUp()
                return input
            }
            if result.produced > 0 {
                output.withUnsafeBytes { absorb(UnsafeRawBufferPointer(rebasing: $0[..<result.produced])) }
                if case .gaveUp = state { return input }
            }
            entry?.consumed += UInt64(result.consumed)
            advance(result.consumed, &input)
            if input.isEmpty && result.produced < output.count { break }  // needs more input
            if result.consumed == 0 && result.produced == 0 {
                if input.isEmpty { break }
                giveUp()
                return input
            }
        }
        guard inflater.finished, let e = entry else { return input }
        finishEntry()
        if e.flags & 0x8 != 0 {
            state = .descriptor
        } else if e.declaredCompressed != UInt32.max, UInt64(e.declaredCompressed) >= e.consumed {
            let rest = UInt64(e.declaredCompressed) - e.consumed
            state = rest == 0 ? .header : .skip(remaining: rest)
        } else {
            giveUp()
        }
        return input
    }

    private func finishEntry() {
        guard let e = entry else { return }
        records[e.offset] = Record(nameBytes: e.nameBytes, method: e.method, dataStart: e.dataStart, compressedBytes: e.consumed,
                                   uncompressedBytes: e.produced, crc32: e.crc.value, digest: e.sha.finalize(),
                                   contents: e.keep ? e.kept : nil)
        entry = nil
    }

    // MARK: - Little-endian fields

    static func u16(_ b: [UInt8], _ at: Int) -> UInt16 {
        UInt16(b[at]) | UInt16(b[at + 1]) << 8
    }

    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }
}
