import Foundation
import GoModule

/// Active sync: a module's `list` and `@latest` fetched again now, whatever their age, and
/// its latest version cached, so a release is in the cache before the first developer
/// asks for it (the go command asks for `@latest` first, then that version).
extension ModuleProxy {
    /// Refreshes `module`'s list and `@latest` from the upstream and returns the latest
    /// version (nil: a hosted module, or the upstream has none).
    public func syncLatest(_ module: String) async throws(ProxyError) -> String? {
        guard !isHosted(module) else { return nil }
        _ = try checkPolicy(.list(module: module))
        _ = try await flight(smallFlights, .list(module: module)) { [self] () throws(ProxyError) in
            try await refresh(.list(module: module), endpoint: "list") { Self.filterList($0) }
        }
        let latest = try await flight(smallFlights, .latest(module: module)) { [self] () throws(ProxyError) in
            try await refresh(.latest(module: module), endpoint: "latest") { bytes in
                try Self.validateInfo(bytes, expected: nil, module: module)
                return bytes
            }
        }
        guard let info = try? JSONSerialization.jsonObject(with: Data(latest.buffer.readableBytesView)) as? [String: Any] else { return nil }
        return info["Version"] as? String
    }
}
