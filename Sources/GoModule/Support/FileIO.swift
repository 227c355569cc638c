#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed file-system call, with the path and the system's reason.
public struct FileIOError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let code: Int32

    public init(_ operation: String, _ path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(code)))"
    }

    /// True when the file does not exist.
    public var isNotFound: Bool { code == ENOENT }
}

/// An open file descriptor for reading, with positional reads so that several threads
/// can read different parts of one file (zip entries) at once.
public final class ReadableFile: @unchecked Sendable {
    // @unchecked: the descriptor is immutable after init and pread is thread-safe.
    let fd: Int32
    public let path: String
    public let size: Int64

    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FileIOError("open", path) }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let e = FileIOError("stat", path)
            close(fd)
            throw e
        }
        self.fd = fd
        self.path = path
        self.size = Int64(st.st_size)
    }

    deinit { close(fd) }

    /// A new descriptor for the same open file, owned by the caller: for handing the file
    /// to code that closes what it is given (a zero-copy `sendfile` write, for one).
    public func duplicateDescriptor() throws -> Int32 {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        if copy < 0 { throw FileIOError("dup", path) }
        return copy
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns the count read (0 at end).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = pread(fd, base, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw FileIOError("read", path)
        }
    }

    /// Reads `count` bytes from `offset` in chunks, handing each to `body`; throws when the
    /// file ends first. For copying and hashing large files without holding them.
    public func readChunks(from offset: Int64 = 0, count: Int64, chunkSize: Int = 256 * 1024,
                           _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var done: Int64 = 0
        while done < count {
            let want = Int(min(Int64(chunkSize), count - done))
            let n = try buffer.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want]), at: offset + done) }
            guard n > 0 else { throw FileIOError("read (the file ended early)", path) }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            done += Int64(n)
        }
    }

    /// Reads exactly `count` bytes at `offset`, or throws when the file is shorter.
    public func readExactly(_ count: Int, at offset: Int64) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = try out.withUnsafeMutableBytes { (buf) throws -> Int in
                try read(into: UnsafeMutableRawBufferPointer(rebasing: buf[done...]), at: offset + Int64(done))
            }
            if n == 0 { throw FileIOError("read", path, code: EIO) }
            done += n
        }
        return out
    }

    /// Reads the whole file; only for small files (go.mod), never for zips.
    public static func readAll(path: String, limit: Int) throws -> [UInt8] {
        let f = try ReadableFile(path: path)
        if f.size > Int64(limit) { throw FileIOError("read", path, code: EFBIG) }
        return try f.readExactly(Int(f.size), at: 0)
    }
}

/// A file being written. Used through `AtomicFileWriter` wherever a reader could see it.
public final class WritableFile: @unchecked Sendable {
    // @unchecked: owned and used by one writer at a time.
    let fd: Int32
    public let path: String
    public private(set) var bytesWritten: Int64 = 0

    public init(creating path: String, exclusive: Bool = true, mode: mode_t = 0o644) throws {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
        let fd = open(path, flags, mode)
        if fd < 0 { throw FileIOError("create", path) }
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError("write", path)
            }
            p += n
            left -= n
            bytesWritten += Int64(n)
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { (b) throws in try write(b) }
    }

    /// Flushes to stable storage: an artifact is renamed into place only once durable.
    public func sync() throws {
        if fsync(fd) != 0 { throw FileIOError("fsync", path) }
    }
}

/// Writes a file under a temporary name beside its destination and renames it into
/// place only when complete, so that no reader ever sees a partial file.
public final class AtomicFileWriter: @unchecked Sendable {
    public let destination: String
    public let file: WritableFile
    private var finished = false

    public init(destination: String) throws {
        self.destination = destination
        let tmp = destination + ".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        self.file = try WritableFile(creating: tmp)
    }

    /// Syncs and renames the temporary file onto the destination.
    public func commit(durable: Bool = true) throws {
        if durable { try file.sync() }
        if rename(file.path, destination) != 0 { throw FileIOError("rename", destination) }
        finished = true
    }

    /// Removes the temporary file (also done automatically when not committed).
    public func abandon() {
        if !finished { unlink(file.path) }
        finished = true
    }

    deinit { abandon() }
}

/// What `lstat` says about a directory entry, without following symbolic links.
public enum FileKind: Sendable, Equatable {
    case regular(size: Int64)
    case directory
    case symlink
    case other
}

enum FileSystem {
    static func lstatKind(_ path: String) -> FileKind? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .regular(size: Int64(st.st_size))
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    /// The raw names in a directory (without `.` and `..`), sorted by bytes like Go's
    /// ReadDir. Raw, because a name need not be valid UTF-8 and must then be reported,
    /// not silently mangled.
    static func listDirectory(_ path: String) throws -> [[UInt8]] {
        guard let dir = opendir(path) else { throw FileIOError("open", path) }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [UInt8] in
                let bytes = raw.bindMemory(to: UInt8.self)
                let len = bytes.firstIndex(of: 0) ?? bytes.count
                return Array(bytes[..<len])
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        return names
    }
}
