/// The Go settings that decide where modules come from, each with where its value came
/// from — because "it is set in my shell" and "it is set for the go command" are
/// different things, and most broken set-ups live in that difference.
public struct GoEnvironment: Sendable, Equatable {
    /// Where an effective value came from.
    public enum Source: String, Sendable, Codable, Equatable {
        /// The process environment (a shell `export`, a CI variable).
        case environment
        /// The `go env -w` file (GOENV).
        case envFile = "go env -w file"
        /// Nothing set: the go command's built-in default.
        case defaultValue = "default"
        /// Derived from another variable (GONOPROXY and GONOSUMDB from GOPRIVATE).
        case derived
    }

    public struct Setting: Sendable, Equatable, Codable {
        public var value: String
        public var source: Source
        /// The value in the process environment, if any (even when empty).
        public var environmentValue: String?
        /// The value in the GOENV file, if any.
        public var fileValue: String?
    }

    /// The variables a module download depends on, in the order reports show them.
    public static let moduleVariables = [
        "GOPROXY", "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOSUMDB", "GOINSECURE",
        "GOVCS", "GOFLAGS", "GO111MODULE", "GOMODCACHE",
    ]
    /// Not go settings, but read by the go command's HTTP client or its netrc lookup.
    public static let processOnlyVariables = [
        "NETRC", "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY",
    ]

    public var settings: [String: Setting]
    /// The GOENV file consulted, or nil when GOENV=off or no home directory.
    public var envFilePath: String?
    /// The process environment, for the variables only the process can set.
    public var processEnvironment: [String: String]
    /// The go command used (`go env -json`), or nil when none was found.
    public var goCommand: String?
    /// The go command's own report of the settings, when it ran.
    public var goEnvOutput: [String: String]?
    /// Why `go env -json` could not be used, when it was tried and failed.
    public var goEnvError: String?

    public init(settings: [String: Setting], envFilePath: String?, processEnvironment: [String: String],
                goCommand: String? = nil, goEnvOutput: [String: String]? = nil, goEnvError: String? = nil) {
        self.settings = settings
        self.envFilePath = envFilePath
        self.processEnvironment = processEnvironment
        self.goCommand = goCommand
        self.goEnvOutput = goEnvOutput
        self.goEnvError = goEnvError
    }

    public func value(_ key: String) -> String { settings[key]?.value ?? "" }
    public func source(_ key: String) -> Source { settings[key]?.source ?? .defaultValue }

    public var goproxy: String { value("GOPROXY") }
    public var gosumdb: String { value("GOSUMDB") }
    public var goprivate: String { value("GOPRIVATE") }
    public var gonoproxy: String { value("GONOPROXY") }
    public var gonosumdb: String { value("GONOSUMDB") }
    public var goinsecure: String { value("GOINSECURE") }
    public var goflags: String { value("GOFLAGS") }
}
