import Foundation
import GoModule

/// Where Warren's checksum database key comes from: `--sumdb-key` (a file, or the key
/// text itself through WARREN_SUMDB_KEY), else `DATA_DIR/sumdb-signer.key` when it
/// exists. The key is never printed; errors name only where it was looked for.
enum SigningKeyFile {
    static func defaultPath(dataDirectory: String) -> String { dataDirectory + "/sumdb-signer.key" }

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// The signer, or nil when no key is configured and none is in the data directory.
    static func load(_ setting: String?, dataDirectory: String) throws -> NoteSigner? {
        let text: String
        let source: String
        if let setting, setting.hasPrefix("PRIVATE+KEY+") {
            (text, source) = (setting, "the sumdb-key setting")
        } else {
            let path = setting ?? defaultPath(dataDirectory: dataDirectory)
            guard setting != nil || FileManager.default.fileExists(atPath: path) else { return nil }
            guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw Problem(description: "cannot read the checksum database key \(path)")
            }
            (text, source) = (contents, path)
        }
        do {
            return try NoteSigner(text)
        } catch {
            throw Problem(description: "\(source): \(error)")
        }
    }

    /// Writes a new key, readable by its owner only; never replaces one.
    static func write(_ signer: NoteSigner, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw Problem(description: errno == EEXIST ? "\(path) exists already (a key is never replaced)" : "cannot create \(path)")
        }
        defer { close(fd) }
        let bytes = Array((signer.secretText + "\n").utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count, fsync(fd) == 0 else {
            unlink(path)
            throw Problem(description: "cannot write \(path)")
        }
    }
}
