import Foundation

/// `application/x-www-form-urlencoded` bodies of the console's forms.
enum ConsoleForm {
    static func parse(_ body: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = parts.first.flatMap(decode) else { continue }
            out[key] = parts.count > 1 ? decode(parts[1]) ?? "" : ""
        }
        return out
    }

    static func decode(_ s: Substring) -> String? {
        s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// Where a form sends the browser back to: a console page, never another site.
    static func back(_ value: String?) -> String {
        guard let value, value.hasPrefix("/-/"), !value.contains("//"), !value.contains("\\"),
              !value.contains(where: { $0.isNewline || $0 == "\r" }) else { return "/-/admin" }
        return value
    }

    /// `back` with a message for the page to show (`done` or `error`).
    static func back(_ value: String?, _ key: String, _ message: String) -> String {
        let base = back(value)
        let path = base.split(separator: "?", maxSplits: 1).first.map(String.init) ?? base
        return path + "?" + key + "=" + ConsoleHTML.query(message)
    }
}
