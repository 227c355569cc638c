/// How long a token lasts, as `warren token create --expires` and the token API take it:
/// `90d`, `12h`, `30m`, `45s`, or `never`.
public enum TokenLifetime {
    /// Seconds, `.some(nil)` for `never`, nil when the text is neither.
    public static func parse(_ text: String) -> Double?? {
        if text == "never" { return .some(nil) }
        let units: [Character: Double] = ["d": 86400, "h": 3600, "m": 60, "s": 1]
        guard let unit = text.last.flatMap({ units[$0] }), let n = Double(text.dropLast()), n > 0 else { return nil }
        return .some(n * unit)
    }
}
