extension StringProtocol {
    /// Trims white space (spaces, tabs, line ends) at both ends, like Go's strings.TrimSpace on
    /// the text Warren handles (go.mod comments, GOPROXY lists, HTTP header values).
    public func trimmingSpaces() -> String {
        // Character.isWhitespace also covers "\r\n", which Swift treats as one Character.
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        var s = Substring(self)
        while let f = s.first, isSpace(f) { s = s.dropFirst() }
        while let l = s.last, isSpace(l) { s = s.dropLast() }
        return String(s)
    }

}
