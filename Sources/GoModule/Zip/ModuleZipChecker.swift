import Crypto

/// Checks a module zip received from elsewhere (x/mod's CheckZip), without extracting it:
/// the `module@version/` prefix on every name, valid and clean file paths, no case
/// collisions, go.mod only at the root and lower-case, and the size limits.
///
/// `verify` goes further than CheckZip, as a proxy must before it stores a zip: it reads
/// every entry, checking declared sizes and CRCs (a zip bomb or a corrupt entry fails),
/// and returns the zip's `h1:` hash from that same pass.
public enum ModuleZipChecker {
    public struct Verified: Sendable {
        public var checked: CheckedFiles
        public var hash: String
        /// The zip's go.mod bytes, when it has one (to compare with the served `.mod`).
        public var goMod: [UInt8]?
        /// Whether the hashes came from a `StreamingZipHasher` rather than a read of the file.
        public var streamed = false
    }

    /// The CheckZip verdict from the central directory alone.
    public static func check(module path: String, version: String, zipPath: String) throws -> CheckedFiles {
        let (cf, _) = try checkDirectory(module: path, version: version, zipPath: zipPath)
        return cf
    }

    /// Checks the directory, then reads every entry; throws unless the zip is a valid
    /// module zip, and returns its `h1:` hash.
    public static func verify(module path: String, version: String, zipPath: String) throws -> Verified {
        let (cf, reader) = try checkDirectory(module: path, version: version, zipPath: zipPath)
        if let error = cf.error { throw error }
        let entries = reader.entries
        let goModName = Array((path + "@" + version + "/go.mod").utf8)
        let results = try ParallelMap.map(count: entries.count) { i -> (SHA256.Digest, [UInt8]?) in
            var hasher = SHA256()
            let keep = entries[i].nameBytes == goModName
            var kept: [UInt8] = []
            do {
                try reader.read(entries[i]) { chunk in
                    hasher.update(bufferPointer: chunk)
                    if keep { kept.append(contentsOf: chunk) }
                }
            } catch let e as ZipFormatError {
                throw ModuleZipError.format(e.description)
            }
            return (hasher.finalize(), keep ? kept : nil)
        }
        var files: [(name: String, digest: SHA256.Digest)] = []
        var goMod: [UInt8]?
        for (entry, (digest, kept)) in zip(entries, results) {
            files.append((String(decoding: entry.nameBytes, as: UTF8.self), digest))
            if let kept { goMod = kept }
        }
        return Verified(checked: cf, hash: try Hash1.hash(files: files), goMod: goMod)
    }

    /// `verify`, using what a `StreamingZipHasher` computed while the zip arrived when it
    /// agrees with the central directory entry for entry (offset, name, method, sizes,
    /// CRC): then only the directory is read from the file. Otherwise the entries are read
    /// and hashed as `verify` does, so the verdict and the hash are the same either way.
    public static func verify(module path: String, version: String, zipPath: String,
                              streamed: StreamingZipHasher.Result?) throws -> Verified {
        guard let streamed else { return try verify(module: path, version: version, zipPath: zipPath) }
        let (cf, reader) = try checkDirectory(module: path, version: version, zipPath: zipPath)
        if let error = cf.error { throw error }
        let goModName = Array((path + "@" + version + "/go.mod").utf8)
        var files: [(name: String, digest: SHA256.Digest)] = []
        var goMod: [UInt8]?
        for entry in reader.entries {
            guard let record = streamed.records[entry.localHeaderOffset], record.nameBytes == entry.nameBytes,
                  record.method == entry.method, record.uncompressedBytes == entry.uncompressedSize,
                  record.dataStart <= UInt64(reader.file.size), entry.compressedSize <= UInt64(reader.file.size) - record.dataStart,
                  entry.crc32 == 0 || record.crc32 == entry.crc32,
                  entry.method == ZipWriter.methodStore ? record.compressedBytes == entry.compressedSize
                                                        : record.compressedBytes <= entry.compressedSize
            else {
                return try verify(module: path, version: version, zipPath: zipPath)
            }
            files.append((String(decoding: entry.nameBytes, as: UTF8.self), record.digest))
            if entry.nameBytes == goModName {
                guard let contents = record.contents else { return try verify(module: path, version: version, zipPath: zipPath) }
                goMod = contents
            }
        }
        return Verified(checked: cf, hash: try Hash1.hash(files: files), goMod: goMod, streamed: true)
    }

    /// For a zip this process has just built with `ModuleZipWriter` (which hashed every
    /// file as it wrote it): the directory is checked as for any zip and go.mod is read
    /// back, but the entries are not inflated and hashed a second time.
    public static func verifyBuilt(module path: String, version: String, zipPath: String, hash: String) throws -> Verified {
        let (cf, reader) = try checkDirectory(module: path, version: version, zipPath: zipPath)
        if let error = cf.error { throw error }
        let goModName = Array((path + "@" + version + "/go.mod").utf8)
        var goMod: [UInt8]?
        if let entry = reader.entries.first(where: { $0.nameBytes == goModName }) {
            var bytes: [UInt8] = []
            do {
                try reader.read(entry) { bytes.append(contentsOf: $0) }
            } catch let e as ZipFormatError {
                throw ModuleZipError.format(e.description)
            }
            goMod = bytes
        }
        return Verified(checked: cf, hash: hash, goMod: goMod)
    }

    static func checkDirectory(module path: String, version: String, zipPath: String) throws -> (CheckedFiles, ZipReader) {
        let canonical = ModuleVersion.canonical(version)
        if canonical != version {
            throw ModuleZipError.module("version \(GoQuote.string(version)) is not canonical (should be \(GoQuote.string(canonical)))")
        }
        do {
            _ = try ModuleVersion(path: path, version: version)
        } catch {
            throw ModuleZipError.module(error.description)
        }
        let file = try ReadableFile(path: zipPath)
        if file.size > ModuleZipRules.maxZipFile {
            let cf = CheckedFiles(sizeError: "module zip file is too large (\(file.size) bytes; limit is \(ModuleZipRules.maxZipFile) bytes)")
            throw cf.error ?? ModuleZipError.size("module zip file is too large")
        }
        let reader: ZipReader
        do {
            reader = try ZipReader(file: file)
        } catch let e as ZipFormatError {
            throw ModuleZipError.format("zip: \(e.description)")
        }
        return (checkEntries(reader.entries, prefix: path + "@" + version + "/"), reader)
    }

    static func checkEntries(_ entries: [ZipEntry], prefix: String) -> CheckedFiles {
        var cf = CheckedFiles()
        var collisions = CollisionChecker()
        var total: Int64 = 0
        let prefixBytes = Array(prefix.utf8)
        for entry in entries {
            let raw = entry.nameBytes
            func invalid(_ reason: String) {
                cf.invalid.append(ModuleFileError(path: String(decoding: raw, as: UTF8.self), reason: reason))
            }
            guard raw.starts(with: prefixBytes) else {
                invalid("path does not have prefix \(GoQuote.string(prefix))")
                continue
            }
            var nameBytes = Array(raw[prefixBytes.count...])
            if nameBytes.isEmpty { continue }
            let isDirectory = nameBytes.last == UInt8(ascii: "/")
            if isDirectory { nameBytes.removeLast() }
            do {
                try PathRules.checkFilePath(bytes: nameBytes)
            } catch {
                // Go checks cleanliness first; an unclean path is reported as such even
                // when it is also invalid (for example `a/../b`).
                if let text = String(validating: nameBytes, as: UTF8.self), ModuleZipRules.cleanPath(text) != text {
                    invalid("file path is not clean")
                } else {
                    invalid(error.description)
                }
                continue
            }
            let name = String(decoding: nameBytes, as: UTF8.self)
            if ModuleZipRules.cleanPath(name) != name {
                invalid("file path is not clean")
                continue
            }
            if let problem = collisions.check(name, isDirectory: isDirectory) {
                invalid(problem)
                continue
            }
            if isDirectory { continue }
            let base = ModuleZipRules.splitPath(name).base
            if ModuleZipRules.asciiFoldEquals(base, "go.mod") {
                if base != name {
                    invalid("go.mod file not in module root directory")
                    continue
                }
                if name != "go.mod" {
                    invalid("go.mod files must have lowercase names")
                    continue
                }
            }
            let size = Int64(clamping: entry.uncompressedSize)
            if size >= 0 && ModuleZipRules.maxZipFile - total >= size {
                total += size
            } else if cf.sizeError == nil {
                cf.sizeError = "total uncompressed size of module contents too large (max size is \(ModuleZipRules.maxZipFile) bytes)"
            }
            if name == "go.mod" && size > ModuleZipRules.maxGoMod {
                invalid("go.mod file too large (max size is \(ModuleZipRules.maxGoMod) bytes)")
                continue
            }
            if name == "LICENSE" && size > ModuleZipRules.maxLICENSE {
                invalid("LICENSE file too large (max size is \(ModuleZipRules.maxLICENSE) bytes)")
                continue
            }
            cf.valid.append(String(decoding: raw, as: UTF8.self))
        }
        return cf
    }
}
