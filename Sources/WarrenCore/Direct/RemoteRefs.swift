/// What `git ls-remote --symref` says about a repository, reduced to what a mirror
/// holds: its branches and tags (name → object, annotated tags as the tag object, the
/// way `for-each-ref` reports them) and the branch HEAD points at.
struct RemoteRefs: Equatable {
    var refs: [String: String]
    var head: String?

    /// `ref: refs/heads/main\tHEAD`, then `<object>\t<name>` lines; `^{}` lines (peeled
    /// tags) and refs other than branches and tags (pull requests, notes) are left out.
    static func parse(_ output: [UInt8]) -> RemoteRefs {
        var out = RemoteRefs(refs: [:], head: nil)
        for line in String(decoding: output, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t")
            guard fields.count == 2 else { continue }
            if fields[0].hasPrefix("ref: ") {
                if fields[1] == "HEAD" {
                    let target = String(fields[0].dropFirst(5))
                    if target.hasPrefix("refs/heads/") { out.head = target }
                }
                continue
            }
            let name = String(fields[1])
            guard isMirrored(name), !name.hasSuffix("^{}") else { continue }
            out.refs[name] = String(fields[0])
        }
        return out
    }

    /// `for-each-ref --format='%(objectname) %(refname)' refs/heads refs/tags`.
    static func parseLocal(_ output: [UInt8]) -> [String: String] {
        var refs: [String: String] = [:]
        for line in String(decoding: output, as: UTF8.self).split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let name = String(line[line.index(after: space)...])
            if isMirrored(name) { refs[name] = String(line[..<space]) }
        }
        return refs
    }

    static func isMirrored(_ name: String) -> Bool {
        name.hasPrefix("refs/heads/") || name.hasPrefix("refs/tags/")
    }
}
