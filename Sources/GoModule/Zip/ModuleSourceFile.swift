/// One file offered for a module zip: its slash-separated path relative to the module
/// root, what `lstat` says it is, and where its bytes come from.
///
/// Direct mode builds these from git blobs, `mod zip` from a directory tree: the zip
/// rules are the same for both, as they are in the go command.
public struct ModuleSourceFile: Sendable {
    public enum Contents: Sendable {
        /// A file on disk, read when the zip is written.
        case file(path: String)
        /// Bytes already in memory (small files, tests).
        case bytes([UInt8])
        /// Any other source, opened when the zip is written.
        case reader(@Sendable () throws -> any SequentialByteReader)
    }

    public let path: String
    public let kind: FileKind
    public let contents: Contents

    public init(path: String, kind: FileKind, contents: Contents) {
        self.path = path
        self.kind = kind
        self.contents = contents
    }

    /// A regular file held in memory.
    public static func memory(_ path: String, _ bytes: [UInt8]) -> ModuleSourceFile {
        ModuleSourceFile(path: path, kind: .regular(size: Int64(bytes.count)), contents: .bytes(bytes))
    }

    var size: Int64 {
        if case .regular(let size) = kind { return size }
        return 0
    }

    /// Opens the contents for one sequential pass.
    func open() throws -> any SequentialByteReader {
        switch contents {
        case .file(let path): return FileSequentialReader(try ReadableFile(path: path))
        case .bytes(let bytes): return MemoryReader(bytes)
        case .reader(let opener): return try opener()
        }
    }
}

/// A source of bytes read front to back.
public protocol SequentialByteReader: AnyObject {
    /// Fills as much of `buffer` as it can; 0 means the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

final class FileSequentialReader: SequentialByteReader {
    let file: ReadableFile
    var offset: Int64 = 0
    init(_ file: ReadableFile) { self.file = file }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try file.read(into: buffer, at: offset)
        offset += Int64(n)
        return n
    }
}

final class MemoryReader: SequentialByteReader {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        if n > 0 {
            bytes.withUnsafeBytes { src in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + n)]))
            }
        }
        offset += n
        return n
    }
}

extension SequentialByteReader {
    /// Reads to the end, failing once more than `limit` bytes arrive.
    func readAll(limit: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return out }
            out.append(contentsOf: chunk[..<n])
            if out.count > limit { throw ZipFormatError("file is larger than declared size") }
        }
    }
}
