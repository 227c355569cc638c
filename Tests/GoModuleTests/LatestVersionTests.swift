import Testing
@testable import GoModule

/// `@latest` as the go command resolves it (go.dev/ref/mod#version-queries), with
/// retractions read from the highest tagged version's go.mod.
@Suite struct LatestVersionTests {
    static func goMod(_ retract: String) -> GoModFile? {
        try? GoModParser.parse("module example.com/m\n\n" + retract)
    }

    @Test func theHighestReleaseWinsOverPreReleasesAndPseudoVersions() {
        let versions = ["v1.0.0", "v1.2.0", "v1.3.0-rc.1", "v1.2.1-0.20240101000000-abcdefabcdef", "v1.1.0"]
        #expect(LatestVersion.choose(from: versions, goMod: { _ in nil }) == "v1.2.0")
    }

    @Test func withoutReleasesThePreReleaseThenThePseudoVersion() {
        #expect(LatestVersion.choose(from: ["v0.1.0-alpha", "v0.1.0-beta"], goMod: { _ in nil }) == "v0.1.0-beta")
        let pseudo = ["v0.0.0-20240101000000-aaaaaaaaaaaa", "v0.0.0-20240202000000-bbbbbbbbbbbb"]
        #expect(LatestVersion.choose(from: pseudo, goMod: { _ in nil }) == "v0.0.0-20240202000000-bbbbbbbbbbbb")
        #expect(LatestVersion.choose(from: [], goMod: { _ in nil }) == nil)
    }

    @Test func retractedVersionsAreSkippedUsingTheHighestVersionsGoMod() {
        let versions = ["v1.0.0", "v1.1.0", "v1.2.0"]
        var asked: [String] = []
        let chosen = LatestVersion.choose(from: versions) { v in
            asked.append(v)
            return Self.goMod("retract [v1.1.0, v1.2.0]\n")
        }
        #expect(chosen == "v1.0.0")
        #expect(asked == ["v1.2.0"])
        // Every release retracted: the highest unretracted pre-release.
        #expect(LatestVersion.choose(from: ["v1.0.0-rc.1", "v1.0.0", "v1.1.0"], goMod: { _ in Self.goMod("retract [v1.0.0, v1.1.0]\n") })
                == "v1.0.0-rc.1")
        // Everything retracted: still the highest, for the go command to report.
        #expect(LatestVersion.choose(from: ["v1.0.0"], goMod: { _ in Self.goMod("retract v1.0.0\n") }) == "v1.0.0")
    }
}
