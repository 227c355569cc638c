import Testing
@testable import GoModule

@Suite struct GoModParserTests {
    @Test func readsWhatAProxyNeeds() throws {
        let text = """
        // Deprecated: use example.com/new instead.
        module example.com/old // trailing

        go 1.21.3

        toolchain go1.22.0

        require (
        \tgolang.org/x/text v0.14.0
        \tgolang.org/x/sys v0.15.0 // indirect
        )

        exclude golang.org/x/net v0.1.0

        replace golang.org/x/net => ../net

        // Published with a broken go.mod.
        retract v1.0.1

        retract (
        \t// Security problem.
        \t[v1.1.0, v1.1.5]
        \tv1.2.0 // Accidental tag.
        )
        """
        let f = try GoModParser.parse(text, strict: true)
        #expect(f.modulePath == "example.com/old")
        // As in the go command, the suffix comment joins the notice.
        #expect(f.deprecated == "use example.com/new instead.\ntrailing")
        #expect(f.goVersion == "1.21.3")
        #expect(f.toolchain == "go1.22.0")
        #expect(f.requirements == [
            .init(path: "golang.org/x/text", version: "v0.14.0", indirect: false),
            .init(path: "golang.org/x/sys", version: "v0.15.0", indirect: true),
        ])
        #expect(f.excludes.map(\.path) == ["golang.org/x/net"])
        #expect(f.retractions == [
            .init(low: "v1.0.1", high: "v1.0.1", rationale: "Published with a broken go.mod."),
            .init(low: "v1.1.0", high: "v1.1.5", rationale: "Security problem."),
            .init(low: "v1.2.0", high: "v1.2.0", rationale: "Accidental tag."),
        ])
        #expect(f.isRetracted("v1.1.3"))
        #expect(!f.isRetracted("v1.1.6"))
        #expect(f.isRetracted("v1.2.0"))
    }

    @Test func quotedModulePaths() throws {
        #expect(try GoModParser.parse("module \"github.com/kr/text\"\n").modulePath == "github.com/kr/text")
        #expect(try GoModParser.parse("module `gopkg.in/yaml.v3`").modulePath == "gopkg.in/yaml.v3")
        #expect(try GoModParser.parse("module \"a.b/\\x63\"").modulePath == "a.b/c")
        #expect(try GoModParser.parse("go 1.19\n").modulePath == nil)
    }

    @Test func deprecationNeedsItsOwnParagraph() throws {
        let notice = try GoModParser.parse("// Some text.\n//\n// Deprecated: gone.\nmodule a.b/c\n")
        #expect(notice.deprecated == "gone.")
        let inline = try GoModParser.parse("// This is not Deprecated: really.\nmodule a.b/c\n")
        #expect(inline.deprecated == nil)
        let separated = try GoModParser.parse("// Deprecated: detached by a blank line.\n\nmodule a.b/c\n")
        #expect(separated.deprecated == nil)
    }

    @Test func synthesizedGoMod() {
        #expect(GoModFile.synthesized(modulePath: "github.com/dgrijalva/jwt-go") == "module github.com/dgrijalva/jwt-go\n")
        #expect(GoModFile.synthesized(modulePath: "a.b/has space") == "module \"a.b/has space\"\n")
        #expect(GoModFile.synthesized(modulePath: "a.b//c") == "module \"a.b//c\"\n")
    }

    /// Malformed go.mod text gives a positioned error, never a crash.
    static let badCases: [(String, String)] = [
        ("module \"unterminated\n", "go.mod:1:21: unexpected newline in string"),
        ("module a.b/c\n/* block */\n", "go.mod:2:1: mod files must use // comments (not /* */ comments)"),
        ("require (\n\ta.b/c v1.0.0\n", "syntax error (unterminated block started at go.mod:1:1)"),
        ("module a.b/c\nmodule d.e/f\n", "go.mod:2:1: repeated module statement"),
        ("module a.b c.d\n", "go.mod:1:1: usage: module module/path"),
        ("go 1.x\n", "go.mod:1:1: invalid go version '1.x': must match format 1.23.0"),
        ("retract [v1.2.0, v1.0.0]\n", "go.mod:1:1: retract: version v1.2.0 is after v1.0.0"),
        ("retract banana\n", "go.mod:1:1: retract version \"banana\" invalid: must be of the form v1.2.3"),
        ("require a.b/c\n", "go.mod:1:1: usage: require module/path v1.2.3"),
        ("module a.b/c\n\u{1}\n", "go.mod:2:1: unexpected input character '\\x01'"),
        ("frobnicate a.b\n", "go.mod:1:1: unknown directive: frobnicate"),
    ]

    @Test(arguments: badCases)
    func positionedErrors(text: String, message: String) {
        do {
            _ = try GoModParser.parse(text, strict: true)
            Issue.record("parsed \(text.debugDescription) without error")
        } catch {
            #expect(error.description.contains(message), "got \(error.description)")
        }
    }

    @Test func laxModeIgnoresUnknownDirectives() throws {
        let f = try GoModParser.parse("module a.b/c\nfrobnicate x\nfuture (\n\tthing\n)\n")
        #expect(f.modulePath == "a.b/c")
    }
}
