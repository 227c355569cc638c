import Testing
@testable import GoModule

/// Cases from golang.org/x/mod/semver's documented behaviour (the go command's dialect).
@Suite struct SemVerTests {
    static let canonicalCases: [(String, String)] = [
        ("bad", ""), ("v1-alpha.beta.gamma", ""), ("v1-pre", ""), ("v1+meta", ""),
        ("v1-pre+meta", ""), ("v1.2-pre", ""), ("v1.2+meta", ""), ("v1.2-pre+meta", ""),
        ("v1.0.0-alpha", "v1.0.0-alpha"), ("v1.0.0-alpha.1", "v1.0.0-alpha.1"),
        ("v1.0.0-alpha.beta", "v1.0.0-alpha.beta"), ("v1.0.0-beta", "v1.0.0-beta"),
        ("v1.0.0-beta.2", "v1.0.0-beta.2"), ("v1.0.0-beta.11", "v1.0.0-beta.11"),
        ("v1.0.0-rc.1", "v1.0.0-rc.1"), ("v1", "v1.0.0"), ("v1.0", "v1.0.0"),
        ("v1.0.0", "v1.0.0"), ("v1.2", "v1.2.0"), ("v1.2.0", "v1.2.0"),
        ("v1.2.3-456", "v1.2.3-456"), ("v1.2.3-456.789", "v1.2.3-456.789"),
        ("v1.2.3-456-789", "v1.2.3-456-789"), ("v1.2.3-456a", "v1.2.3-456a"),
        ("v1.2.3-pre", "v1.2.3-pre"), ("v1.2.3-pre+meta", "v1.2.3-pre"),
        ("v1.2.3-pre.1", "v1.2.3-pre.1"), ("v1.2.3-zzz", "v1.2.3-zzz"),
        ("v1.2.3", "v1.2.3"), ("v1.2.3+meta", "v1.2.3"), ("v1.2.3+meta-pre", "v1.2.3"),
        ("v1.2.3+meta-pre.sha.256a", "v1.2.3"),
        // Leading zeros, empty identifiers, missing v.
        ("v01.2.3", ""), ("v1.02.3", ""), ("v1.2.03", ""), ("v1.2.3-01", ""),
        ("v1.2.3-", ""), ("v1.2.3-a..b", ""), ("v1.2.3+", ""), ("v1.2.3+a..b", ""),
        ("1.2.3", ""), ("v", ""), ("", ""), ("v1.2.3.4", ""), ("v1.2.3+001", "v1.2.3"),
        ("v1.2.3-0a", "v1.2.3-0a"), ("v1.99999999999999999999.0", "v1.99999999999999999999.0"),
    ]

    @Test(arguments: canonicalCases)
    func canonicalAndValidity(input: String, canonical: String) {
        #expect(SemVer.canonical(input) == canonical)
        #expect(SemVer.isValid(input) == !canonical.isEmpty)
        let major = canonical.split(separator: ".").first.map(String.init) ?? ""
        #expect(SemVer.major(input) == major)
    }

    @Test func prereleaseAndBuild() {
        #expect(SemVer.prerelease("v1.2.3-pre+meta") == "-pre")
        #expect(SemVer.build("v1.2.3-pre+meta") == "+meta")
        #expect(SemVer.prerelease("v1.2") == "")
        #expect(SemVer.build("v2.0.0+incompatible") == "+incompatible")
        #expect(SemVer.majorMinor("v1.2.3") == "v1.2")
        #expect(SemVer.majorMinor("v1") == "v1.0")
        #expect(SemVer.majorMinor("bad") == "")
    }

    /// semver.org §11's precedence example, plus Go's rules for shorthands and invalid input.
    @Test func ordering() {
        let ordered = [
            "bad", "v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta",
            "v1.0.0-beta.2", "v1.0.0-beta.11", "v1.0.0-rc.1", "v1.0.0", "v1.2.0", "v1.2.3-456",
            "v1.2.3-456.789", "v1.2.3-456-789", "v1.2.3-456a", "v1.2.3-pre", "v1.2.3-pre.1",
            "v1.2.3-zzz", "v1.2.3", "v2.0.0", "v10.0.0", "v99999999999999999999.0.0",
        ]
        for (i, a) in ordered.enumerated() {
            for (j, b) in ordered.enumerated() {
                let want = i < j ? -1 : (i > j ? 1 : 0)
                #expect(SemVer.compare(a, b) == want, "compare(\(a), \(b))")
            }
        }
        #expect(SemVer.compare("v1", "v1.0.0") == 0)
        #expect(SemVer.compare("v1.2.3+a", "v1.2.3+b") == 0)
        #expect(SemVer.compare("x", "y") == 0)
        #expect(SemVer.max("v1.2.3", "v1.10.0") == "v1.10.0")
        #expect(SemVer.max("v1.2.3", "bad") == "v1.2.3")
        var list = ["v1.10.0", "v1.2.0", "bad", "v1.2.0+b", "v1.2.0+a", "v1.0.0-rc.1"]
        SemVer.sort(&list)
        #expect(list == ["bad", "v1.0.0-rc.1", "v1.2.0", "v1.2.0+a", "v1.2.0+b", "v1.10.0"])
    }

    @Test func moduleCanonicalKeepsIncompatible() {
        #expect(ModuleVersion.canonical("v2.0.0+incompatible") == "v2.0.0+incompatible")
        #expect(ModuleVersion.canonical("v2.0.0+meta") == "v2.0.0")
        #expect(ModuleVersion.canonical("v2") == "v2.0.0")
        #expect(ModuleVersion.canonical("junk") == "")
    }

    @Test func goLanguageVersions() {
        #expect(GoVersion.isValidGoDirective("1.21"))
        #expect(GoVersion.isValidGoDirective("1.21.0"))
        #expect(GoVersion.isValidGoDirective("1.21rc1"))
        #expect(!GoVersion.isValidGoDirective("1.021"))
        #expect(!GoVersion.isValidGoDirective("go1.21"))
        #expect(!GoVersion.isValidGoDirective("1"))
        #expect(GoVersion.compareLanguage("1.24.1", "1.24") == 0)
        #expect(GoVersion.compareLanguage("1.23.9", "1.24") == -1)
        #expect(GoVersion.compareLanguage("1.100", "1.24") == 1)
        #expect(GoVersion.language("1.22rc2") == "1.22")
    }
}
