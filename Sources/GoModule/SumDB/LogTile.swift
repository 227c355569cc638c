/// A tile of the checksum database's log: the hashes of one level band of the tree, in
/// groups of 2^height, fetched as `tile/H/L/NNN[.p/W]` (or `tile/H/data/NNN…` for the
/// records themselves). Full tiles never change; partial ones (`.p/W`) grow.
public struct LogTile: Sendable, Hashable {
    public let height: Int
    /// The band: hashes at tree level `level × height`; -1 for record data.
    public let level: Int
    public let index: Int64
    /// How many hashes (or records) it holds, 1 ... 2^height.
    public let width: Int

    public init(height: Int, level: Int, index: Int64, width: Int) {
        self.height = height
        self.level = level
        self.index = index
        self.width = width
    }

    public var isFull: Bool { width == 1 << height }

    /// `tile/8/1/x001/x234/067.p/17`: the index in groups of three digits, all but the
    /// last prefixed with `x`, so that directories stay small.
    public var path: String {
        var groups: [String] = []
        var n = index
        repeat {
            let digits = String(n % 1000)
            groups.insert(String(repeating: "0", count: 3 - digits.count) + digits, at: 0)
            n /= 1000
        } while n > 0
        let encoded = groups.dropLast().map { "x" + $0 } + [groups[groups.count - 1]]
        var p = "tile/\(height)/\(level < 0 ? "data" : String(level))/" + encoded.joined(separator: "/")
        if !isFull { p += ".p/\(width)" }
        return p
    }

    /// Parses a tile path (the part after `/sumdb/<name>/`); nil for anything that is not
    /// exactly what `path` would produce.
    public init?(path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0] == "tile", let h = Int(parts[1]), (1...30).contains(h),
              String(h) == parts[1] else { return nil }
        let level: Int
        if parts[2] == "data" {
            level = -1
        } else {
            guard let l = Int(parts[2]), l >= 0, l < 64, String(l) == parts[2] else { return nil }
            level = l
        }
        var rest = Array(parts[3...])
        var width = 1 << h
        if rest.count >= 2, rest[rest.count - 2].hasSuffix(".p") {
            guard let w = Int(rest[rest.count - 1]), w >= 1, w < 1 << h, String(w) == rest[rest.count - 1] else { return nil }
            width = w
            rest.removeLast()
            rest[rest.count - 1] = rest[rest.count - 1].dropLast(2)
        }
        var index: Int64 = 0
        for (i, group) in rest.enumerated() {
            let isLast = i == rest.count - 1
            let digits = isLast ? group : (group.first == "x" ? group.dropFirst() : "")
            guard digits.count == 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int64(digits),
                  index <= (Int64.max - v) / 1000 else { return nil }
            index = index * 1000 + v
        }
        self.init(height: h, level: level, index: index, width: width)
        guard self.path == path else { return nil }
    }
}
