import AsyncHTTPClient
import Foundation
import GoModule
import NIOCore

/// A client of one checksum database (sum.golang.org or any server of the same
/// protocol) that believes nothing it is not shown proof of.
///
/// A lookup returns the database's go.sum lines for a module version only after:
/// the tree head is signed by the configured key; the record is proved to be in that
/// tree, with hashes from the database's tiles; and that tree is consistent with every
/// tree head this client verified before (the latest is remembered in `stateFile`, so
/// a database that forks its log is caught across restarts too).
public actor ChecksumDatabase {
    public let name: String
    let key: VerifierKey
    let baseURL: String
    let client: HTTPClient
    let stateFile: String?
    let timeout: TimeAmount
    /// The latest tree head verified, and the tiles' height (8 for every Go database).
    private(set) var latest: TreeHead?
    static let tileHeight = 8

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        /// The database contradicted itself or signed something wrong: not a network fault.
        public let isTampering: Bool
    }

    public init(key: VerifierKey, url: String, client: HTTPClient, stateFile: String?, timeout: TimeAmount = .seconds(30)) {
        self.name = key.name
        self.key = key
        self.baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.client = client
        self.stateFile = stateFile
        self.timeout = timeout
        if let stateFile, let data = FileManager.default.contents(atPath: stateFile),
           let head = try? TreeHead(text: String(decoding: data, as: UTF8.self)) {
            self.latest = head
        }
    }

    /// The verified go.sum lines of `module@version` (the zip's line, then the go.mod's).
    public func lookup(module: String, version: String) async throws(Failure) -> [String] {
        let path: String
        do {
            path = try PathEscaping.escapePath(module) + "@" + PathEscaping.escapeVersion(version)
        } catch {
            throw Failure(description: "cannot look up \(module)@\(version): \(error)", isTampering: false)
        }
        let body = try await get("/lookup/" + path)
        // An id line, the record's lines, a blank line, the signed tree head.
        guard let firstNewline = body.firstIndex(of: 0x0A),
              let id = Int64(String(decoding: body[..<firstNewline], as: UTF8.self)), id >= 0,
              let blank = body[(firstNewline + 1)...].firstRange(of: [0x0A, 0x0A] as [UInt8])
        else { throw Failure(description: "\(name): malformed lookup answer for \(module)@\(version)", isTampering: true) }
        let record = Array(body[(firstNewline + 1)...blank.lowerBound])
        let head = try await verifiedHead(Array(body[blank.upperBound...]))
        guard id < head.size else {
            throw Failure(description: "\(name): record \(id) is outside its own tree of \(head.size)", isTampering: true)
        }
        let proof = try await proofHashes(head: head) { read in
            try TransparencyLog.recordProof(index: id, size: head.size, read: read)
        }
        do {
            try TransparencyLog.checkRecord(proof: proof, size: head.size, treeHash: head.hash, index: id,
                                            recordHash: TransparencyLog.recordHash(record))
        } catch {
            throw Failure(description: "\(name): \(error)", isTampering: true)
        }
        let lines = String(decoding: record, as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.allSatisfy({ $0.hasPrefix(module + " " + version) }) else {
            throw Failure(description: "\(name): the record for \(module)@\(version) names another module", isTampering: true)
        }
        return lines
    }

    /// Opens a signed tree head and checks it against the latest one verified before.
    func verifiedHead(_ note: [UInt8]) async throws(Failure) -> TreeHead {
        let head: TreeHead
        do {
            head = try TreeHead(text: try SignedNote.open(note, keys: [key]).text)
        } catch {
            throw Failure(description: "\(name): tree head: \(error)", isTampering: true)
        }
        guard let old = latest else {
            remember(head)
            return head
        }
        let (small, large) = head.size <= old.size ? (head, old) : (old, head)
        if small.size == large.size {
            guard small.hash == large.hash else {
                throw Failure(description: "\(name): two different trees of size \(head.size): the log has forked", isTampering: true)
            }
            return head
        }
        let proof = try await proofHashes(head: large) { read in
            try TransparencyLog.treeProof(oldSize: small.size, size: large.size, read: read)
        }
        do {
            try TransparencyLog.checkTree(proof: proof, size: large.size, treeHash: large.hash, oldSize: small.size, oldHash: small.hash)
        } catch {
            throw Failure(description: "\(name): \(error)", isTampering: true)
        }
        if large == head { remember(head) }
        return head
    }

    private func remember(_ head: TreeHead) {
        latest = head
        guard let stateFile else { return }
        let tmp = stateFile + ".tmp"
        if FileManager.default.createFile(atPath: tmp, contents: Data(head.text.utf8)) {
            _ = rename(tmp, stateFile)
        }
    }

    /// Runs `build` twice: once to learn which tiles it reads, then, once they are
    /// fetched, for real.
    func proofHashes(head: TreeHead,
                     _ build: (([Int64]) throws -> [TransparencyLog.Hash]) throws -> [TransparencyLog.Hash]) async throws(Failure) -> [TransparencyLog.Hash] {
        var wanted = Set<LogTile>()
        do {
            _ = try build { indexes in
                try TransparencyLog.hashes(at: indexes, size: head.size, height: Self.tileHeight) { tile in
                    wanted.insert(tile)
                    return [UInt8](repeating: 0, count: tile.width * 32)
                }
            }
        } catch {
            throw Failure(description: "\(name): \(error)", isTampering: true)
        }
        var tiles: [LogTile: [UInt8]] = [:]
        for tile in wanted { tiles[tile] = try await get("/" + tile.path) }
        do {
            return try build { indexes in
                try TransparencyLog.hashes(at: indexes, size: head.size, height: Self.tileHeight) { tile in
                    guard let data = tiles[tile] else { throw TransparencyLog.ProofError("tile \(tile.path) was not fetched") }
                    return data
                }
            }
        } catch {
            throw Failure(description: "\(name): \(error)", isTampering: true)
        }
    }

    /// Fetches a path of the database; at most 1 MiB (lookups and tiles are small).
    func get(_ path: String) async throws(Failure) -> [UInt8] {
        do {
            let response = try await client.execute(HTTPClientRequest(url: baseURL + path), timeout: timeout)
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw Failure(description: "\(name): \(path) answered \(response.status.code)", isTampering: false)
            }
            return Array(body.readableBytesView)
        } catch let e as Failure {
            throw e
        } catch {
            throw Failure(description: "\(name): \(path): \(error)", isTampering: false)
        }
    }
}
