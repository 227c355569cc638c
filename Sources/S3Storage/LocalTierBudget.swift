import Foundation
import Synchronization
import WarrenCore
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the local tier in front of object storage within `--local-cache-size`: every
/// artifact the tier holds is tracked with its size and when it was last used, and when
/// the total passes the budget the least recently used are removed until it is 10% under
/// (so eviction runs in batches, not on every write).
///
/// Removing is safe at any moment: the bucket still has everything, an open descriptor
/// keeps its bytes, and the fast path treats a vanished file as a miss.
final class LocalTierBudget: Sendable {
    let root: String
    let budget: Int64

    private struct State {
        var entries: [String: (size: Int64, lastUse: UInt64)] = [:]
        var total: Int64 = 0
        var clock: UInt64 = 0
    }
    private let state = Mutex(State())

    /// Bytes removed so far, for operators (and the tests).
    let evictedBytes = Atomic<Int64>(0)

    /// Reads what the tier already holds (oldest modification first counts as least
    /// recently used), and trims it if the budget shrank since the last run.
    init(root: String, budget: Int64) {
        self.root = root
        self.budget = max(0, budget)
        var found: [(path: String, size: Int64, modified: Double)] = []
        if let walker = FileManager.default.enumerator(atPath: root) {
            while let relative = walker.nextObject() as? String {
                guard !relative.hasSuffix(".meta"), !relative.contains(".tmp-"), !relative.hasPrefix(".readyz-") else { continue }
                var st = stat()
                guard stat(root + "/" + relative, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                found.append((relative, Int64(st.st_size), Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9))
            }
        }
        state.withLock { s in
            for file in found.sorted(by: { $0.modified < $1.modified }) {
                s.clock += 1
                s.entries[file.path] = (file.size, s.clock)
                s.total += file.size
            }
        }
        trim()
    }

    var total: Int64 { state.withLock { $0.total } }

    /// `key` was served from the tier: it becomes the most recently used.
    func used(_ key: StorageKey) {
        state.withLock { s in
            guard let entry = s.entries[key.relativePath] else { return }
            s.clock += 1
            s.entries[key.relativePath] = (entry.size, s.clock)
        }
    }

    /// `key` was written into the tier with `size` bytes; trims if over budget.
    func added(_ key: StorageKey, size: Int64) {
        let over = state.withLock { s -> Bool in
            s.clock += 1
            if let old = s.entries.updateValue((size, s.clock), forKey: key.relativePath) { s.total -= old.size }
            s.total += size
            return s.total > budget
        }
        if over { trim() }
    }

    /// `key` was removed from the tier.
    func removed(_ key: StorageKey) {
        state.withLock { s in
            if let old = s.entries.removeValue(forKey: key.relativePath) { s.total -= old.size }
        }
    }

    /// Removes least recently used artifacts until the tier is 10% under its budget.
    func trim() {
        let victims = state.withLock { s -> [(String, Int64)] in
            guard s.total > budget else { return [] }
            let target = budget - budget / 10
            var chosen: [(String, Int64)] = []
            for (path, entry) in s.entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
                guard s.total > target else { break }
                chosen.append((path, entry.size))
                s.entries.removeValue(forKey: path)
                s.total -= entry.size
            }
            return chosen
        }
        for (path, size) in victims {
            // The artifact first, then its sidecar: a sidecar without its file is a miss.
            unlink(root + "/" + path)
            unlink(root + "/" + path + ".meta")
            evictedBytes.add(size, ordering: .relaxed)
        }
    }
}
