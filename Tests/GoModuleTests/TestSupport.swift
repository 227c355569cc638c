import Foundation
import TestServers
@testable import GoModule

/// A txtar archive (golang.org/x/tools/txtar): a comment, then `-- name --` sections.
/// Kept as bytes, because some x/mod cases hold deliberately invalid UTF-8.
struct Txtar {
    var comment: [UInt8]
    var files: [(name: String, data: [UInt8])]

    init(_ data: [UInt8]) {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for (i, b) in data.enumerated() where b == 0x0A {
            lines.append(data[start...i])
            start = i + 1
        }
        if start < data.count { lines.append(data[start...]) }
        comment = []
        files = []
        var current: (String, [UInt8])?
        for line in lines {
            if let name = Self.marker(line) {
                if let c = current { files.append(c) }
                current = (name, [])
            } else if current != nil {
                current?.1.append(contentsOf: line)
            } else {
                comment.append(contentsOf: line)
            }
        }
        if let c = current { files.append(c) }
    }

    static func marker(_ line: ArraySlice<UInt8>) -> String? {
        var text = String(decoding: line, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        guard text.hasPrefix("-- "), text.hasSuffix(" --"), text.count >= 6 else { return nil }
        return String(text.dropFirst(3).dropLast(3)).trimmingCharacters(in: .whitespaces)
    }

    /// `key=value` lines of the comment, `#` starting a remark, as x/mod's tests read them.
    /// Values stay bytes: one case's module path is the invalid byte 0xFF.
    var parameters: [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for rawLine in comment.split(separator: 0x0A) {
            var line = Array(rawLine)
            if let hash = line.firstIndex(of: UInt8(ascii: "#")) { line = Array(line[..<hash]) }
            guard let eq = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = String(decoding: line[..<eq], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            var value = Array(line[(eq + 1)...])
            while let f = value.first, f == 0x20 || f == 0x09 { value.removeFirst() }
            while let l = value.last, l == 0x20 || l == 0x09 || l == 0x0D { value.removeLast() }
            out[key] = value
        }
        return out
    }

    func parameter(_ key: String) -> String {
        parameters[key].map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

/// A temporary directory removed when the value is released.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init(_ label: String = "warren-test") {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/\(label)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ relative: String) -> String { path + "/" + relative }

    /// Writes `data` at `relative`, creating parent directories.
    @discardableResult
    func write(_ relative: String, _ data: [UInt8]) throws -> String {
        let full = file(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(data).write(to: URL(fileURLWithPath: full))
        return full
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        try write(relative, Array(text.utf8))
    }
}

/// Builds a zip from raw entries with Warren's own writer (deflated, like Go's).
func makeZip(at path: String, entries: [(name: [UInt8], data: [UInt8])]) throws {
    let file = try WritableFile(creating: path, exclusive: false)
    let writer = ZipWriter(sink: file)
    for entry in entries {
        var crc = CRC32()
        var compressed: [UInt8] = []
        try entry.data.withUnsafeBytes { raw in
            crc.update(raw)
            try Deflater().compress(raw, finish: true) { compressed.append(contentsOf: $0) }
        }
        try writer.addEntry(name: entry.name, method: ZipWriter.methodDeflate, crc: crc.value,
                            uncompressedSize: UInt64(entry.data.count), compressed: compressed)
    }
    try writer.finish()
}

/// Where Debian's golang-golang-x-mod-dev keeps the zip test cases.
let xmodZipTestData = "/usr/share/gocode/src/golang.org/x/mod/zip/testdata"

/// The `.txt` cases of one x/mod testdata folder, sorted; empty when the package is absent
/// (the suite then fails loudly in `requireTestData`).
func txtarCases(_ folder: String) -> [String] {
    let dir = xmodZipTestData + "/" + folder
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return names.filter { $0.hasSuffix(".txt") }.sorted().map { dir + "/" + $0 }
}

func readTxtar(_ path: String) throws -> Txtar {
    Txtar(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
}

/// Formats a check result exactly as x/mod's tests print it.
func format(_ cf: CheckedFiles, pathPrefix: String = "") -> String {
    var out = "valid:\n"
    for v in cf.valid { out += pathPrefix + v + "\n" }
    out += "\nomitted:\n"
    for e in cf.omitted { out += pathPrefix + e.path + ": " + e.reason + "\n" }
    out += "\ninvalid:\n"
    for e in cf.invalid { out += pathPrefix + e.path + ": " + e.reason + "\n" }
    return out
}

/// Collects written bytes in memory (small test zips only).
final class MemorySink: ByteSink {
    var bytes: [UInt8] = []
    func write(_ b: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: b) }
}

/// Runs a process to completion, returning its exit status and output.
@discardableResult
func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
         directory: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    try TestProcess.run(executable, arguments, environment: environment, directory: directory)
}

/// Finds an executable on PATH (or the usual Debian places).
func which(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for dir in path.split(separator: ":") + ["/usr/bin", "/usr/local/bin", "/usr/lib/go/bin"] {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}
