import Foundation

/// Helpers for secrets in text form, shared by tokens and sign-in.
public enum SecretText {
    /// Whether two strings are equal, in time that depends only on their length (a
    /// secret compared byte by byte must not tell an attacker how much they got right).
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    /// base64url without padding (RFC 4648 §5), as JWTs, PKCE and tokens use it.
    public static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func unbase64url(_ s: some StringProtocol) -> Data? {
        var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        return Data(base64Encoded: b)
    }
}

/// `application/x-www-form-urlencoded` for one name or value (RFC 3986 unreserved
/// characters kept, everything else percent-encoded), for OAuth token requests.
public enum FormEncoding {
    public static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// `name=value&…`.
    public static func form(_ pairs: [(String, String)]) -> String {
        pairs.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }
}
