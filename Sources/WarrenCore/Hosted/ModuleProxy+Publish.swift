import Foundation
import GoModule

/// What a publish did.
public struct PublishResult: Sendable, Equatable {
    public var module: String
    public var version: String
    /// The go.sum lines' hashes of the zip and go.mod.
    public var zipHash: String
    public var modHash: String
    /// False when the identical zip was already published (an idempotent retry).
    public var created: Bool
}

/// Publishing a version of a hosted module, and deleting one.
///
/// A version is checked in full before anything of it is stored: every module zip rule
/// (what `go mod verify` and x/mod's CheckZip enforce), the module path and version in
/// the zip's names equal to the ones asked for, the version canonical and fitting the
/// path's major-version suffix, a go.mod that names the same module (none at all for a
/// `+incompatible` version). Published versions are immutable: the same bytes again are
/// accepted (CI retries), other bytes are a conflict, even after the version was deleted.
/// One version is published at a time across replicas (the fetch coordinator's lease).
extension ModuleProxy {
    /// - Parameters:
    ///   - module, version: what the client says it publishes; nil: read from the zip's
    ///     names (Gitea's upload shape).
    ///   - time: the `.info` time; nil: now.
    ///   - authorize: says whether the caller may publish the module, once it is known.
    public func publish(_ upload: PublishUpload, module: String?, version: String?, time: Date?, publisher: String,
                        authorize: @Sendable (String) -> ProxyError?) async throws(ProxyError) -> PublishResult {
        let (module, version) = try await identity(of: upload, module: module, version: version)
        if let refusal = authorize(module) { throw refusal }
        guard isHosted(module) else {
            throw .forbidden("\(module) is not in a hosted namespace; Warren publishes only modules under its --hosted patterns")
        }
        let checked = try await checkUpload(upload, module: module, version: version)
        let zipKey = StorageKey.artifact(module: module, version: version, kind: .zip)
        return try await exclusively(zipKey) { () throws(ProxyError) -> PublishResult in
            if let tombstone = try await readStored(.tombstone(module: module, version: version)),
               let record = try? JSONDecoder().decode(Tombstone.self, from: Data(tombstone.bytes)),
               record.zipHash != checked.zipHash {
                throw .conflict("\(module)@\(version) was deleted and cannot come back with other content (it was \(record.zipHash))")
            }
            // A zip cached from an upstream before the namespace was hosted was never
            // published: the publish replaces it.
            if let existing = try await openStored(zipKey), Self.isPublished(existing.metadata.origin) {
                guard existing.metadata.hash == checked.zipHash else {
                    throw .conflict("\(module)@\(version) is already published with other content (\(existing.metadata.hash)); published versions never change")
                }
                // The same bytes again: complete what an interrupted publish left out.
                try await checksumLog?.append(module: module, version: version, zipHash: checked.zipHash, modHash: checked.modHash)
                try await storeSmallParts(module: module, version: version, checked: checked, time: time, publisher: publisher, onlyMissing: true)
                return PublishResult(module: module, version: version, zipHash: checked.zipHash, modHash: checked.modHash, created: false)
            }
            // Logged first: the log is the lasting record of what this version is, so a
            // version stored but not logged cannot happen, and one logged but not stored
            // (storage failed) can only ever be completed with the same bytes.
            try await checksumLog?.append(module: module, version: version, zipHash: checked.zipHash, modHash: checked.modHash)
            try await storeSmallParts(module: module, version: version, checked: checked, time: time, publisher: publisher, onlyMissing: false)
            try await storeZip(upload, key: zipKey, hash: checked.zipHash, publisher: publisher)
            logger.notice("published", metadata: ["module": "\(module)", "version": "\(version)", "by": "\(publisher)", "h1": "\(checked.zipHash)"])
            events.emit(.published(module: module, version: version, publisher: publisher))
            return PublishResult(module: module, version: version, zipHash: checked.zipHash, modHash: checked.modHash, created: true)
        }
    }

    /// Deletes a published version, leaving a tombstone with its hashes.
    public func deletePublished(module: String, version: String, by: String, reason: String?) async throws(ProxyError) {
        guard isHosted(module) else { throw .forbidden("\(module) is not a hosted module; only published versions can be deleted") }
        let zipKey = StorageKey.artifact(module: module, version: version, kind: .zip)
        try await exclusively(zipKey) { () throws(ProxyError) in
            guard let zip = try await openStored(zipKey) else { throw Self.notPublished(module, version) }
            let mod = try await readStored(.artifact(module: module, version: version, kind: .mod))
            let tombstone = Tombstone(zipHash: zip.metadata.hash, modHash: mod?.metadata.hash, deletedAt: Self.now(), deletedBy: by,
                                      reason: reason.map { ProxyError.oneLine($0) })
            let bytes = Array((try? JSONEncoder().encode(tombstone)) ?? Data())
            try await writeStored(.tombstone(module: module, version: version), bytes,
                                  ArtifactMetadata(size: Int64(bytes.count), hash: Self.contentTag(bytes), storedAt: Self.now(), origin: "deleted"))
            // The zip first: from then on the version is no longer listed.
            for kind in [ArtifactKind.zip, .mod, .info] {
                let key = StorageKey.artifact(module: module, version: version, kind: kind)
                memory.remove(key)
                do {
                    try await storage.remove(key)
                } catch {
                    throw storageError(error, key: key, doing: "remove")
                }
            }
            logger.notice("deleted a published version", metadata: ["module": "\(module)", "version": "\(version)", "by": "\(by)"])
        }
    }

    /// Runs `body` while no other publish or delete of `key` runs, here or on another
    /// replica.
    func exclusively<T: Sendable>(_ key: StorageKey, _ body: () async throws(ProxyError) -> T) async throws(ProxyError) -> T {
        try await publishLocks.withLock(key) { () throws(ProxyError) -> T in
            var lease: (any FetchLease)?
            if let coordinator = downloads.coordinator {
                do {
                    lease = try await coordinator.acquire(key)
                } catch {
                    throw .unavailable("replicas could not agree who publishes \(key.moduleName); try again", detail: "\(error)")
                }
            }
            let result: Result<T, ProxyError>
            do throws(ProxyError) {
                result = .success(try await body())
            } catch {
                result = .failure(error)
            }
            await lease?.release()
            return try result.get()
        }
    }

    /// The module and version the upload is for: as asked, and equal to the zip's names.
    func identity(of upload: PublishUpload, module: String?, version: String?) async throws(ProxyError) -> (String, String) {
        let path = upload.path
        let first: String
        do {
            first = try await threadPool.runIfActive {
                try ZipReader(path: path).entries.first?.name ?? ""
            }
        } catch {
            throw .badRequest("not a zip file: \(error)")
        }
        // Every name starts with `module@version/`; module paths never contain `@`.
        guard let at = first.firstIndex(of: "@"), let slash = first[at...].firstIndex(of: "/") else {
            throw .badRequest("not a module zip: its first file \(GoQuote.string(String(first.prefix(200)))) is not under module@version/")
        }
        let named = (String(first[..<at]), String(first[first.index(after: at)..<slash]))
        guard let module, let version else { return named }
        guard named == (module, version) else {
            throw .badRequest("the zip holds \(named.0)@\(named.1), not \(module)@\(version)")
        }
        return (module, version)
    }

    /// What a valid upload gives: its hash, and the go.mod to serve (its own, or the one
    /// the go command synthesizes for a module without one).
    struct CheckedUpload: Sendable {
        var zipHash: String
        var goMod: [UInt8]
        var modHash: String
    }

    func checkUpload(_ upload: PublishUpload, module: String, version: String) async throws(ProxyError) -> CheckedUpload {
        let canonical = ModuleVersion.canonical(version)
        guard canonical == version else {
            throw .badRequest("version \(GoQuote.string(version)) is not canonical" + (canonical.isEmpty ? "" : " (use \(canonical))"))
        }
        do {
            _ = try ModuleVersion(path: module, version: version)
        } catch {
            throw .badRequest(error.description)
        }
        let path = upload.path
        let verified: ModuleZipChecker.Verified
        do {
            verified = try await threadPool.runIfActive { try ModuleZipChecker.verify(module: module, version: version, zipPath: path) }
        } catch {
            throw .badRequest("invalid module zip: " + "\(error)".split(separator: "\n").prefix(3).joined(separator: "; "))
        }
        let goMod: [UInt8]
        if let own = verified.goMod {
            if version.hasSuffix("+incompatible") {
                throw .badRequest("\(module)@\(version): a +incompatible version cannot have a go.mod file")
            }
            let text = String(decoding: own, as: UTF8.self)
            let parsed: GoModFile
            do {
                parsed = try GoModParser.parse(text)
            } catch {
                throw .badRequest("go.mod: \(error)")
            }
            guard let declared = parsed.modulePath else { throw .badRequest("go.mod has no module line") }
            guard declared == module else {
                throw .badRequest("go.mod declares module \(declared), not \(module)")
            }
            goMod = own
        } else {
            goMod = Array(GoModFile.synthesized(modulePath: module).utf8)
        }
        return CheckedUpload(zipHash: verified.hash, goMod: goMod, modHash: Hash1.hashGoMod(goMod))
    }

    /// Stores the `.mod` and `.info` (both before the zip: a version is listed only once
    /// its zip is in, and then everything of it is there).
    func storeSmallParts(module: String, version: String, checked: CheckedUpload, time: Date?, publisher: String,
                         onlyMissing: Bool) async throws(ProxyError) {
        let origin = Self.publishedOriginPrefix + publisher
        let modKey = StorageKey.artifact(module: module, version: version, kind: .mod)
        let storedMod = onlyMissing ? try await readStored(modKey) : nil
        if storedMod == nil {
            try await writeStored(modKey, checked.goMod, ArtifactMetadata(size: Int64(checked.goMod.count), hash: checked.modHash,
                                                                          storedAt: Self.now(), origin: origin))
        }
        let infoKey = StorageKey.artifact(module: module, version: version, kind: .info)
        let storedInfo = onlyMissing ? try await readStored(infoKey) : nil
        if storedInfo == nil {
            let info = Array("{\"Version\":\(JSONString.quoted(version)),\"Time\":\"\(Self.rfc3339(time ?? Date()))\"}\n".utf8)
            try await writeStored(infoKey, info, ArtifactMetadata(size: Int64(info.count), hash: Self.contentTag(info),
                                                                  storedAt: Self.now(), origin: origin))
        }
    }

    /// Copies the checked upload into storage as the zip, atomically.
    func storeZip(_ upload: PublishUpload, key: StorageKey, hash: String, publisher: String) async throws(ProxyError) {
        let staging: StagingFile
        do {
            staging = try await storage.makeStaging(key)
        } catch {
            throw storageError(error, key: key, doing: "write")
        }
        do {
            let source = try ReadableFile(path: upload.path)
            let writer = staging.writer
            try await threadPool.runIfActive {
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                var offset: Int64 = 0
                while offset < source.size {
                    let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0, at: offset) }
                    if n == 0 { throw FileIOError("read", source.path) }
                    try buffer.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                    offset += Int64(n)
                }
            }
            try await storage.commit(staging, metadata: ArtifactMetadata(size: source.size, hash: hash, storedAt: Self.now(),
                                                                        origin: Self.publishedOriginPrefix + publisher))
        } catch {
            await storage.discard(staging)
            throw storageError(error, key: key, doing: "write")
        }
    }

    /// Whether an artifact's origin says it was published here (nil: not known, so it is
    /// treated as published, never overwritten).
    static func isPublished(_ origin: String?) -> Bool {
        origin.map { $0.hasPrefix(publishedOriginPrefix) } ?? true
    }

    static let publishedOriginPrefix = "published by "

    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
