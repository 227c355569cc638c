import Foundation
import GoModule

/// Writes a tar archive (POSIX ustar; a pax header carries names longer than ustar holds)
/// in one pass, so that a bundle of many gigabytes streams from storage to the file. It
/// is written beside its final name and renamed into place when finished: a bundle that
/// exists is complete.
final class TarWriter {
    let path: String
    let temporary: String
    private let file: WritableFile
    private let mtime: Int64

    init(path: String) throws {
        self.path = path
        self.temporary = path + ".partial-\(getpid())"
        self.file = try WritableFile(creating: temporary, exclusive: false)
        self.mtime = Int64(Date().timeIntervalSince1970)
    }

    /// Adds a file whose bytes `body` writes through `write`, exactly `size` of them.
    func add(name: String, size: Int64, body: (((UnsafeRawBufferPointer) throws -> Void)) throws -> Void) throws {
        try header(name: name, size: size)
        var written: Int64 = 0
        try body { bytes in
            written += Int64(bytes.count)
            guard written <= size else { throw TarError("\(name) is longer than its \(size) bytes") }
            try self.file.write(bytes)
        }
        guard written == size else { throw TarError("\(name) has \(written) bytes, not \(size)") }
        try pad(size)
    }

    func add(name: String, bytes: [UInt8]) throws {
        try add(name: name, size: Int64(bytes.count)) { write in try bytes.withUnsafeBytes { try write($0) } }
    }

    /// Ends the archive (two empty blocks), makes it durable and puts it in place.
    func finish() throws {
        try file.write([UInt8](repeating: 0, count: 1024))
        try file.sync()
        guard rename(temporary, path) == 0 else { throw FileIOError("rename", path) }
    }

    /// Removes what was written of an archive that will not be finished.
    func abandon() {
        unlink(temporary)
    }

    private func header(name: String, size: Int64) throws {
        guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
            throw TarError("refusing to write the entry name \(name)")
        }
        let split = Self.ustarSplit(name)
        if split == nil || size >= 0o77777777777 {
            // pax: "LEN key=value\n", LEN counting the whole record.
            var records: [UInt8] = []
            for (key, value) in [("path", name), ("size", String(size))] {
                let body = " \(key)=\(value)\n"
                var length = body.utf8.count + 1
                while String(length).utf8.count + body.utf8.count != length { length += 1 }
                records += Array((String(length) + body).utf8)
            }
            try file.write(Self.block(name: "PaxHeaders/entry", prefix: "", size: Int64(records.count), type: UInt8(ascii: "x"), mtime: mtime))
            try file.write(records)
            try pad(Int64(records.count))
        }
        let (prefix, short) = split ?? ("", String(name.suffix(99)))
        try file.write(Self.block(name: short, prefix: prefix, size: min(size, 0o77777777777), type: UInt8(ascii: "0"), mtime: mtime))
    }

    private func pad(_ size: Int64) throws {
        let rest = Int(size % 512)
        if rest != 0 { try file.write([UInt8](repeating: 0, count: 512 - rest)) }
    }

    /// A name as ustar's prefix (up to 155 bytes) and name (up to 100), split at a slash.
    static func ustarSplit(_ name: String) -> (String, String)? {
        let bytes = Array(name.utf8)
        if bytes.count <= 100 { return ("", name) }
        for i in stride(from: min(bytes.count - 1, 155), to: 0, by: -1) where bytes[i] == UInt8(ascii: "/") {
            if bytes.count - i - 1 <= 100, bytes.count - i - 1 > 0 {
                return (String(decoding: bytes[..<i], as: UTF8.self), String(decoding: bytes[(i + 1)...], as: UTF8.self))
            }
        }
        return nil
    }

    static func block(name: String, prefix: String, size: Int64, type: UInt8, mtime: Int64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ at: Int, _ width: Int) {
            for (i, c) in s.utf8.prefix(width).enumerated() { b[at + i] = c }
        }
        func octal(_ v: Int64, _ at: Int, _ width: Int) {
            let digits = String(v, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at, width - 1)
        }
        put(name, 0, 100)
        octal(0o644, 100, 8)
        octal(0, 108, 8)
        octal(0, 116, 8)
        octal(size, 124, 12)
        octal(mtime, 136, 12)
        b[156] = type
        put("ustar", 257, 6)
        put("00", 263, 2)
        put(prefix, 345, 155)
        for i in 148..<156 { b[i] = UInt8(ascii: " ") }
        let sum = b.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(String(repeating: "0", count: max(0, 6 - digits.count)) + digits, 148, 6)
        b[154] = 0
        b[155] = UInt8(ascii: " ")
        return b
    }
}

/// A tar archive that is not what Warren reads or writes.
struct TarError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
