import GoModule

/// What the engine records in Warren's own checksum database beyond published versions
/// (`--sumdb-log private|all`), and the records made when a client looks one up first.
extension ModuleProxy {
    /// Whether fetched versions of `module` go into the log under the configured scope.
    func logsFetched(_ module: String) -> Bool {
        guard checksumLog != nil, !isHosted(module) else { return false }
        switch configuration.checksumLogScope {
        case .hosted: return false
        case .private: return configuration.direct.privatePatterns.matches(module)
        case .all: return configuration.direct.privatePatterns.matches(module) || checksums?.verifies(module) == true
        }
    }

    /// Records a fetched, verified version. Other hashes already in the log mean the
    /// source changed what it serves: refused, like a checksum mismatch. A log that
    /// cannot be written does not stop the download (it is recorded on the next lookup).
    func logFetched(module: String, version: String, zipHash: String, modHash: String) async throws(ProxyError) {
        guard logsFetched(module), let log = checksumLog else { return }
        do {
            try await log.append(module: module, version: version, zipHash: zipHash, modHash: modHash)
        } catch where error.kind == .conflict {
            MetricHandles.counter("warren_checksum_mismatches_total", [("against", "own")]).increment()
            logger.error("a source serves other content than Warren's checksum database records", metadata: [
                "module": "\(module)", "version": "\(version)", "zip": "\(zipHash)"])
            throw .forbidden("\(module)@\(version): SECURITY ERROR: the content differs from what checksum database \(log.name) records")
        } catch {
            logger.warning("the checksum database did not record a fetched version", metadata: ["module": "\(module)", "version": "\(version)",
                                                                                          "error": "\(error.message)"])
        }
    }

    /// For a lookup of a version the log does not hold yet but would record: fetches
    /// (and verifies) it the usual way, or reads what is stored, and appends it. Returns
    /// whether the log holds it now.
    public func recordForLookup(module: String, version: String) async throws(ProxyError) -> Bool {
        guard logsFetched(module), let log = checksumLog else { return false }
        // The same policy as any request for the zip: a refused version is not fetched.
        _ = try checkPolicy(.artifact(module: module, version: version, kind: .zip))
        let key = StorageKey.artifact(module: module, version: version, kind: .zip)
        _ = try await zip(module: module, version: version, allowFetch: true)
        if let running = downloads.get(key) {
            if case .failure(let error) = await running.outcome() { throw error }
            await running.waitUntilSettled()
        }
        guard let zip = try await openStored(key),
              let mod = try await readStored(.artifact(module: module, version: version, kind: .mod)) else { return false }
        try await log.append(module: module, version: version, zipHash: zip.metadata.hash, modHash: mod.metadata.hash)
        return true
    }
}
