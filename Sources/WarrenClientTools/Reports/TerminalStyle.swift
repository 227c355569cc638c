#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ANSI colours, only for a terminal and never when NO_COLOR is set (no-color.org).
public struct TerminalStyle: Sendable {
    public let color: Bool

    public init(color: Bool) { self.color = color }

    /// Colour when the file descriptor is a terminal that is not "dumb".
    public static func detect(fd: Int32, environment: [String: String]) -> TerminalStyle {
        let wanted = isatty(fd) == 1 && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
        return TerminalStyle(color: wanted)
    }

    func wrap(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
    public func red(_ s: String) -> String { wrap(s, "31") }
    public func yellow(_ s: String) -> String { wrap(s, "33") }
    public func green(_ s: String) -> String { wrap(s, "32") }
    public func bold(_ s: String) -> String { wrap(s, "1") }
    public func dim(_ s: String) -> String { wrap(s, "2") }

    func severity(_ s: Finding.Severity) -> String {
        switch s {
        case .error: return red("✗ error  ")
        case .warning: return yellow("! warning")
        case .info: return dim("· note   ")
        }
    }

    /// Pads to a width, counting characters (not colour codes).
    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
