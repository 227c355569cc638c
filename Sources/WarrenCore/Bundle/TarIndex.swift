import GoModule

/// The entries of a tar archive and where their bytes are, read from the headers alone,
/// so that an import can check the manifest first and read each entry when it needs it.
/// Only what Warren writes is accepted: regular files, pax headers for their names and
/// sizes (directories, as tar adds them when a bundle is repacked, are passed over); a checksum that does not add up, a link, a device, a name that climbs out (`..`,
/// a leading `/`) or one that repeats is an error naming the entry.
struct TarIndex {
    struct Entry {
        var name: String
        var offset: Int64
        var size: Int64
    }

    let file: ReadableFile
    private(set) var entries: [String: Entry] = [:]
    /// Names in archive order.
    private(set) var names: [String] = []

    init(path: String) throws {
        file = try ReadableFile(path: path)
        var at: Int64 = 0
        var pax: [String: String] = [:]
        while true {
            guard at + 512 <= file.size else { throw TarError("the archive ends inside a header at byte \(at)") }
            let block = try file.readExactly(512, at: at)
            if block.allSatisfy({ $0 == 0 }) { break }
            guard Self.checksumMatches(block) else { throw TarError("the header at byte \(at) has a wrong checksum") }
            let type = block[156]
            var size = Self.octal(block[124..<136])
            if let s = pax["size"], let v = Int64(s) { size = v }
            guard size >= 0 else { throw TarError("the header at byte \(at) has a bad size") }
            let dataStart = at + 512
            guard dataStart + size <= file.size else { throw TarError("the archive ends inside an entry at byte \(at)") }
            at = dataStart + (size + 511) / 512 * 512
            switch type {
            case UInt8(ascii: "x"):
                guard size <= 1 << 16 else { throw TarError("a pax header of \(size) bytes") }
                pax = Self.paxRecords(try file.readExactly(Int(size), at: dataStart))
                continue
            case UInt8(ascii: "g"):
                continue
            case UInt8(ascii: "5"):
                // A directory (a bundle repacked with tar): nothing to read.
                pax = [:]
                continue
            case UInt8(ascii: "0"), 0:
                break
            default:
                throw TarError("entry type \(Character(UnicodeScalar(type))) at byte \(dataStart - 512) is not a regular file")
            }
            var name = Self.string(block[0..<100])
            let prefix = Self.string(block[345..<500])
            if !prefix.isEmpty { name = prefix + "/" + name }
            if let p = pax["path"] { name = p }
            pax = [:]
            guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains(".."),
                  !name.split(separator: "/", omittingEmptySubsequences: false).contains("") else {
                throw TarError("the entry name \(GoQuote.string(name)) is not allowed")
            }
            guard entries[name] == nil else { throw TarError("\(name) appears twice") }
            entries[name] = Entry(name: name, offset: dataStart, size: size)
            names.append(name)
        }
    }

    /// An entry's bytes, read whole (for the small ones).
    func read(_ entry: Entry, limit: Int) throws -> [UInt8] {
        guard entry.size <= limit else { throw TarError("\(entry.name) is \(entry.size) bytes, more than \(limit)") }
        return try file.readExactly(Int(entry.size), at: entry.offset)
    }

    /// An entry's bytes, in chunks.
    func stream(_ entry: Entry, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try file.readChunks(from: entry.offset, count: entry.size, body)
    }

    static func checksumMatches(_ block: [UInt8]) -> Bool {
        var sum = 0
        for (i, b) in block.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
        return octal(block[148..<156]) == Int64(sum)
    }

    static func octal(_ field: ArraySlice<UInt8>) -> Int64 {
        var v: Int64 = 0
        for b in field {
            if b == 0 || b == UInt8(ascii: " ") {
                if v == 0 { continue } else { break }
            }
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(b) else { return -1 }
            v = v * 8 + Int64(b - UInt8(ascii: "0"))
        }
        return v
    }

    static func string(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func paxRecords(_ data: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let record = line[line.index(after: space)...]
            guard let eq = record.firstIndex(of: "=") else { continue }
            out[String(record[..<eq])] = String(record[record.index(after: eq)...])
        }
        return out
    }
}
