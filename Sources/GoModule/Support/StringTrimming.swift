extension StringProtocol {
    /// Trims ASCII spaces, tabs and line ends at both ends, like Go's strings.TrimSpace on
    /// the text Warren handles (go.mod comments, GOPROXY lists, HTTP header values).
    public func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        var s = Substring(self)
        while let f = s.first, isSpace(f) { s = s.dropFirst() }
        while let l = s.last, isSpace(l) { s = s.dropLast() }
        return String(s)
    }

}
