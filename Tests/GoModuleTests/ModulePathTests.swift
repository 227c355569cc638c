import Testing
@testable import GoModule

@Suite struct ModulePathTests {
    /// (path, valid module path, valid import path, valid file path): the Go module
    /// reference's rules, as exercised by golang.org/x/mod/module's test table.
    static let pathCases: [(String, Bool, Bool, Bool)] = [
        ("x.y/z", true, true, true),
        ("x.y", true, true, true),
        ("", false, false, false),
        ("/x.y/z", false, false, false),
        ("x./z", false, false, false),
        (".x/z", false, true, true),
        ("-x/z", false, false, true),
        ("x..y/z", true, true, true),
        ("x.y/z/../../w", false, false, false),
        ("x.y//z", false, false, false),
        ("x.y/z//w", false, false, false),
        ("x.y/z/", false, false, false),
        ("x.y/z/v0", false, true, true),
        ("x.y/z/v1", false, true, true),
        ("x.y/z/v2", true, true, true),
        ("x.y/z/v2.0", false, true, true),
        ("X.y/z", false, true, true),
        ("!x.y/z", false, false, true),
        ("_x.y/z", false, true, true),
        ("x.y!/z", false, false, true),
        ("x.y\"/z", false, false, false),
        ("x.y#/z", false, false, true),
        ("x.y$/z", false, false, true),
        ("x.y%/z", false, false, true),
        ("x.y&/z", false, false, true),
        ("x.y'/z", false, false, false),
        ("x.y(/z", false, false, true),
        ("x.y)/z", false, false, true),
        ("x.y*/z", false, false, false),
        ("x.y+/z", false, true, true),
        ("x.y,/z", false, false, true),
        ("x.y-/z", true, true, true),
        ("x.y./zt", false, false, false),
        ("x.y:/z", false, false, false),
        ("x.y;/z", false, false, false),
        ("x.y</z", false, false, false),
        ("x.y=/z", false, false, true),
        ("x.y>/z", false, false, false),
        ("x.y?/z", false, false, false),
        ("x.y@/z", false, false, true),
        ("x.y[/z", false, false, true),
        ("x.y\\/z", false, false, false),
        ("x.y]/z", false, false, true),
        ("x.y^/z", false, false, true),
        ("x.y_/z", false, true, true),
        ("x.y`/z", false, false, false),
        ("x.y{/z", false, false, true),
        ("x.y}/z", false, false, true),
        ("x.y~/z", false, true, true),
        ("x.y/z!", false, false, true),
        ("x.y/z\"", false, false, false),
        ("x.y/z#", false, false, true),
        ("x.y/z$", false, false, true),
        ("x.y/z%", false, false, true),
        ("x.y/z&", false, false, true),
        ("x.y/z'", false, false, false),
        ("x.y/z(", false, false, true),
        ("x.y/z)", false, false, true),
        ("x.y/z*", false, false, false),
        ("x.y/z++", false, true, true),
        ("x.y/z,", false, false, true),
        ("x.y/z-", true, true, true),
        ("x.y/z.t", true, true, true),
        ("x.y/z/t", true, true, true),
        ("x.y/z:", false, false, false),
        ("x.y/z;", false, false, false),
        ("x.y/z<", false, false, false),
        ("x.y/z=", false, false, true),
        ("x.y/z>", false, false, false),
        ("x.y/z?", false, false, false),
        ("x.y/z@", false, false, true),
        ("x.y/z[", false, false, true),
        ("x.y/z\\", false, false, false),
        ("x.y/z]", false, false, true),
        ("x.y/z^", false, false, true),
        ("x.y/z_", true, true, true),
        ("x.y/z`", false, false, false),
        ("x.y/z{", false, false, true),
        ("x.y/z}", false, false, true),
        ("x.y/z~", true, true, true),
        ("x.y/x.foo", true, true, true),
        ("x.y/aux.foo", false, false, false),
        ("x.y/prn", false, false, false),
        ("x.y/prn2", true, true, true),
        ("x.y/com", true, true, true),
        ("x.y/com1", false, false, false),
        ("x.y/com1.txt", false, false, false),
        ("x.y/calm1", true, true, true),
        ("x.y/z~", true, true, true),
        ("x.y/z~0", false, false, true),
        ("x.y/z~09", false, false, true),
        ("x.y/z09", true, true, true),
        ("x.y/z09~", true, true, true),
        ("x.y/z09~09z", true, true, true),
        ("x.y/z09~09z~09", false, false, true),
        ("github.com/!123/logrus", false, false, true),
        ("github.com/user/unicode/испытание", false, false, true),
        ("../x", false, false, false),
        ("./y", false, false, false),
        ("x:y", false, false, false),
        ("\\temp\\foo", false, false, false),
        (".gitignore", false, true, true),
        (".github/ISSUE_TEMPLATE", false, true, true),
        ("x☺y", false, false, false),
    ]

    @Test(arguments: pathCases)
    func pathRules(path: String, module: Bool, importPath: Bool, file: Bool) {
        #expect(((try? PathRules.checkModulePath(path)) != nil) == module, "module path \(path)")
        #expect(((try? PathRules.checkImportPath(path)) != nil) == importPath, "import path \(path)")
        #expect(((try? PathRules.checkFilePath(path)) != nil) == file, "file path \(path)")
    }

    @Test func invalidUTF8IsNamedInTheError() {
        #expect(throws: InvalidPathError(kind: .module, quotedPath: "\"x.y/\\xffz\"", reason: "invalid UTF-8")) {
            try PathRules.checkModulePath(bytes: Array("x.y/".utf8) + [0xFF] + Array("z".utf8))
        }
        #expect(throws: InvalidPathError.self) { try PathRules.checkFilePath(bytes: [0xC0, 0x80]) }
    }

    @Test func errorMessagesMatchTheGoCommand() {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        #expect(message { try PathRules.checkModulePath("example/m") } == "malformed module path \"example/m\": missing dot in first path element")
        #expect(message { try PathRules.checkFilePath("bad.go'") } == "malformed file path \"bad.go'\": invalid char '\\''")
        #expect(message { try PathRules.checkModulePath("Example.com/m") } == "malformed module path \"Example.com/m\": invalid char 'E' in first path element")
        #expect(message { try PathRules.checkModulePath("x.y/z/v1") } == "malformed module path \"x.y/z/v1\": invalid version")
        #expect(message { _ = try ModuleVersion(path: "example.com/m", version: "v2.0.0") } == "example.com/m@v2.0.0: invalid version: should be v0 or v1, not v2")
        #expect(message { _ = try ModuleVersion(path: "example.com/m/v3", version: "v2.0.0") } == "example.com/m/v3@v2.0.0: invalid version: should be v3, not v2")
        #expect(message { _ = try ModuleVersion(path: "example.com/m", version: "1.0.0") } == "example.com/m@1.0.0: invalid version: not a semantic version")
    }

    @Test func majorVersionSuffixes() {
        func split(_ p: String) -> [String] {
            let r = ModulePathMajor.split(p)
            return [r.prefix, r.pathMajor, r.ok ? "ok" : "bad"]
        }
        #expect(split("x.y/z") == ["x.y/z", "", "ok"])
        #expect(split("x.y/z/v2") == ["x.y/z", "/v2", "ok"])
        #expect(split("x.y/z/v1") == ["x.y/z/v1", "", "bad"])
        #expect(split("x.y/z/v0") == ["x.y/z/v0", "", "bad"])
        #expect(split("x.y/z/v2.0") == ["x.y/z/v2.0", "", "bad"])
        #expect(split("gopkg.in/yaml.v3") == ["gopkg.in/yaml", ".v3", "ok"])
        #expect(split("gopkg.in/check.v1") == ["gopkg.in/check", ".v1", "ok"])
        #expect(split("gopkg.in/inf.v0") == ["gopkg.in/inf", ".v0", "ok"])
        #expect(split("gopkg.in/yaml") == ["gopkg.in/yaml", "", "bad"])
        #expect(split("gopkg.in/yaml.v2-unstable") == ["gopkg.in/yaml", ".v2-unstable", "ok"])

        #expect(ModulePathMajor.matches(version: "v1.5.0", pathMajor: ""))
        #expect(ModulePathMajor.matches(version: "v3.2.0+incompatible", pathMajor: ""))
        #expect(!ModulePathMajor.matches(version: "v3.2.0", pathMajor: ""))
        #expect(ModulePathMajor.matches(version: "v2.1.0", pathMajor: "/v2"))
        #expect(!ModulePathMajor.matches(version: "v2.1.0+incompatible", pathMajor: "/v3"))
        #expect(ModulePathMajor.matches(version: "v0.0.0-20200101000000-abcdefabcdef", pathMajor: ".v1"))
        #expect(ModulePathMajor.matches(version: "v2.4.0", pathMajor: ".v2-unstable"))
        #expect(ModulePathMajor.prefixVersion("/v2") == "v2")
        #expect(ModulePathMajor.prefixVersion("") == nil)
    }

    @Test func caseEncoding() throws {
        #expect(try PathEscaping.escapePath("github.com/Azure/go-autorest") == "github.com/!azure/go-autorest")
        #expect(try PathEscaping.escapePath("github.com/BurntSushi/toml") == "github.com/!burnt!sushi/toml")
        #expect(try PathEscaping.unescapePath("github.com/!burnt!sushi/toml") == "github.com/BurntSushi/toml")
        #expect(try PathEscaping.escapeVersion("v1.0.0-RC1") == "v1.0.0-!r!c1")
        #expect(try PathEscaping.unescapeVersion("v1.0.0-!r!c1") == "v1.0.0-RC1")
        for bad in ["github.com/Azure/x", "github.com/!Azure/x", "github.com/!", "github.com/!!a/x",
                    "github.com/!1a/x", "github.com/a/é", "example/m", ""] {
            #expect(throws: PathEscaping.Error.self, "\(bad)") { try PathEscaping.unescapePath(bad) }
        }
        #expect(throws: InvalidVersionError.self) { try PathEscaping.escapeVersion("v1.0.0!") }
        #expect(throws: InvalidVersionError.self) { try PathEscaping.escapeVersion("v1/0") }
        #expect(throws: PathEscaping.Error.self) { try PathEscaping.unescapeVersion("v1.0.0-!R") }
        #expect(throws: PathEscaping.Error.self) { try PathEscaping.unescapeVersion("..") }
    }

    @Test(arguments: ["x.y/z", "github.com/Azure/go-autorest/autorest/v14", "gopkg.in/Yaml.v3", "a.b/C~D/e_F"])
    func escapingRoundTrips(path: String) throws {
        let escaped = try PathEscaping.escapePath(path)
        #expect(!escaped.contains { $0.isUppercase })
        #expect(try PathEscaping.unescapePath(escaped) == path)
    }
}
