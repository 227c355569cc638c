import AsyncHTTPClient
import Foundation
import GoModule
import NIOCore

/// Follows another proxy's index feed (index.golang.org's `?since=` protocol, which
/// Warren's own `/index` speaks): every version that appears there and matches the
/// patterns is mirrored here, so a downstream Warren holds what its source holds before
/// anyone asks.
public struct IndexFollower: Sendable {
    public struct Entry: Sendable, Equatable {
        public var module: String
        public var version: String
        public var timestamp: String
    }

    let feed: String
    let patterns: ModulePathPatterns?
    let client: HTTPClient
    let mirror: ModuleMirror
    /// Entries asked for per request.
    let pageSize: Int

    public init(feed: String, patterns: ModulePathPatterns?, client: HTTPClient, mirror: ModuleMirror, pageSize: Int = 2000) {
        self.feed = feed
        self.patterns = patterns
        self.client = client
        self.mirror = mirror
        self.pageSize = pageSize
    }

    /// Reads the feed from `since` (RFC 3339; nil: the beginning) to its end, mirroring
    /// what matches; returns the timestamp to continue from and what failed.
    public func catchUp(since: String?) async throws -> (since: String?, mirrored: Int, failures: [(item: ModuleMirror.Item, reason: String)]) {
        var cursor = since
        var mirrored = 0
        var failures: [(item: ModuleMirror.Item, reason: String)] = []
        while true {
            let page = try await read(since: cursor)
            let wanted = page.filter { entry in patterns.map { $0.matches(entry.module) } ?? true }
            let report = await mirror.fetch(wanted.map { ModuleMirror.Item(module: $0.module, version: $0.version, zip: true) }) { _, _, _, _ in }
            mirrored += report.fetched
            failures += report.failures
            guard let last = page.last else { break }
            // The feed repeats the entry at `since`; a page of only that entry is the end.
            if last.timestamp == cursor { break }
            cursor = last.timestamp
            if page.count < pageSize { break }
        }
        return (cursor, mirrored, failures)
    }

    func read(since: String?) async throws -> [Entry] {
        var url = feed + (feed.contains("?") ? "&" : "?") + "limit=\(pageSize)"
        if let since { url += "&since=" + (since.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.:"))) ?? since) }
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else {
            throw ProxyError.upstreamFailed("index feed \(URLDisplayName.of(feed)) answered \(response.status.code)")
        }
        return Self.parse(String(buffer: body))
    }

    /// One JSON object per line: `{"Path","Version","Timestamp"}`; malformed lines are skipped.
    public static func parse(_ text: String) -> [Entry] {
        text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let path = object["Path"] as? String, let version = object["Version"] as? String,
                  let timestamp = object["Timestamp"] as? String, IndexFeed.parseTimestamp(timestamp) != nil,
                  (try? PathRules.checkModulePath(path)) != nil, ModuleVersion.canonical(version) == version else { return nil }
            return Entry(module: path, version: version, timestamp: timestamp)
        }
    }
}
