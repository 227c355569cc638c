import GoModule
import Testing

/// The lax module-line reading the go command applies to go.mod files in version
/// control (modfile.ModulePath) and its major-version agreement rule (isMajor).
@Suite struct GoModModuleLineTests {
    @Test(arguments: [
        ("module example.com/m\n", "example.com/m"),
        ("// header\nmodule   example.com/m // trailing\nrequire (\n", "example.com/m"),
        ("module \"example.com/q\"\n", "example.com/q"),
        ("module `example.com/raw`\n", "example.com/raw"),
        ("module \"unterminated\n", ""),
        ("modul example.com/m\n", ""),
        ("modulex example.com/m\n", ""),
        ("module\n", ""),
        ("go 1.19\n", ""),
        ("", ""),
        ("\tmodule example.com/tab\r\n", "example.com/tab"),
    ])
    func modulePath(text: String, expected: String) {
        #expect(GoModModuleLine.modulePath(Array(text.utf8)) == expected)
    }

    @Test func majorVersionsAgree() {
        #expect(GoModModuleLine.isMajor("example.com/m", pathMajor: ""))
        #expect(GoModModuleLine.isMajor("example.com/fork", pathMajor: ""))
        #expect(!GoModModuleLine.isMajor("example.com/m/v2", pathMajor: ""))
        #expect(GoModModuleLine.isMajor("example.com/other/v2", pathMajor: "/v2"))
        #expect(!GoModModuleLine.isMajor("example.com/m", pathMajor: "/v2"))
        #expect(!GoModModuleLine.isMajor("example.com/m/v3", pathMajor: "/v2"))
        #expect(!GoModModuleLine.isMajor("", pathMajor: ""))
        #expect(GoModModuleLine.isMajor("gopkg.in/yaml.v1", pathMajor: ""))
    }
}
