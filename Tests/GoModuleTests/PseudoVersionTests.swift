import Foundation
import Testing
@testable import GoModule

@Suite struct PseudoVersionTests {
    /// 2006-01-02T15:04:05Z, the reference time of Go's own pseudo-version tests.
    static let referenceTime = Date(timeIntervalSince1970: 1_136_214_245)

    static let makeCases: [(String, String, String)] = [
        ("", "", "v0.0.0-20060102150405-hash"),
        ("v0", "", "v0.0.0-20060102150405-hash"),
        ("v1", "", "v1.0.0-20060102150405-hash"),
        ("v2", "", "v2.0.0-20060102150405-hash"),
        ("unused", "v0.0.0", "v0.0.1-0.20060102150405-hash"),
        ("unused", "v1.2.3", "v1.2.4-0.20060102150405-hash"),
        ("unused", "v1.2.99999999999999999", "v1.2.100000000000000000-0.20060102150405-hash"),
        ("unused", "v1.2.3-pre", "v1.2.3-pre.0.20060102150405-hash"),
        ("unused", "v1.3.0-pre", "v1.3.0-pre.0.20060102150405-hash"),
        ("unused", "v0.0.0--", "v0.0.0--.0.20060102150405-hash"),
        ("unused", "v1.0.0+metadata", "v1.0.1-0.20060102150405-hash+metadata"),
        ("unused", "v2.0.0+incompatible", "v2.0.1-0.20060102150405-hash+incompatible"),
        ("unused", "v2.3.0-pre+incompatible", "v2.3.0-pre.0.20060102150405-hash+incompatible"),
    ]

    @Test(arguments: makeCases)
    func makeAndInspect(major: String, older: String, want: String) throws {
        let v = PseudoVersion.make(major: major, older: older, time: Self.referenceTime, rev: "hash")
        #expect(v == want)
        #expect(PseudoVersion.isPseudoVersion(v))
        #expect(try PseudoVersion.time(v) == Self.referenceTime)
        #expect(try PseudoVersion.revision(v) == "hash")
        // The base is the tag the pseudo-version was built on (canonical, build kept).
        let wantBase = older.isEmpty ? "" : SemVer.canonical(older) + SemVer.build(older)
        #expect(try PseudoVersion.base(v) == wantBase)
    }

    @Test func recognisesOnlyPseudoVersions() {
        #expect(!PseudoVersion.isPseudoVersion("v1.2.3"))
        #expect(!PseudoVersion.isPseudoVersion("v1.2.3-pre"))
        #expect(!PseudoVersion.isPseudoVersion("v1.0.0-2006010215040-hash"))  // 13 digits
        #expect(!PseudoVersion.isPseudoVersion("v1.2.3-20060102150405-hash"))  // form 1 needs .0.0
        #expect(!PseudoVersion.isPseudoVersion("v1.2.4-1.20060102150405-hash"))
        #expect(PseudoVersion.isPseudoVersion("v0.0.0-20191109021931-daa7c04131f5"))
        #expect(PseudoVersion.isPseudoVersion("v1.8.2-rc.1.0.20230301100000-abcdefabcdef"))
        #expect(PseudoVersion.isZeroPseudoVersion("v0.0.0-00010101000000-000000000000"))
        #expect(PseudoVersion.zero(major: "v2") == "v2.0.0-00010101000000-000000000000")
    }

    @Test func rejectsImpossibleBases() {
        #expect(throws: InvalidVersionError.self) { try PseudoVersion.base("v1.0.0-20060102150405-hash+meta") }
        #expect(throws: InvalidVersionError.self) { try PseudoVersion.base("v1.2.3") }
        #expect(throws: InvalidVersionError.self) { try PseudoVersion.time("v1.2.4-0.20061302150405-hash") }
    }

    @Test func decimalArithmetic() {
        for (a, b) in [("0", "1"), ("1", "2"), ("99", "100"), ("100", "101"), ("101", "102")] {
            #expect(PseudoVersion.incrementDecimal(a) == b)
        }
        for (a, b) in [("", ""), ("0", ""), ("00", ""), ("1", "0"), ("2", "1"), ("99", "98"), ("100", "99"), ("101", "100")] {
            #expect(PseudoVersion.decrementDecimal(a) == b)
        }
    }

    @Test func validatesAgainstRepositoryFacts() throws {
        let hash = "daa7c04131f568e31c51927b2b9a5b4a0bd0e2e1"
        let time = Date(timeIntervalSince1970: 1_573_265_971)  // 2019-11-09T02:19:31Z
        let v = PseudoVersion.make(major: "v1", older: "v1.4.0", time: time, rev: String(hash.prefix(12)))
        #expect(v == "v1.4.1-0.20191109021931-daa7c04131f5")
        try PseudoVersion.validate(v, commitHash: hash, commitTime: time, baseTag: "v1.4.0")
        #expect(throws: InvalidVersionError.self) {
            try PseudoVersion.validate(v, commitHash: hash, commitTime: time, baseTag: "v1.3.0")
        }
        #expect(throws: InvalidVersionError.self) {
            try PseudoVersion.validate(v, commitHash: hash, commitTime: time.addingTimeInterval(1), baseTag: "v1.4.0")
        }
        #expect(throws: InvalidVersionError.self) {
            try PseudoVersion.validate(v, commitHash: "ffff" + hash.dropFirst(4), commitTime: time, baseTag: "v1.4.0")
        }
        #expect(throws: InvalidVersionError.self) {
            try PseudoVersion.validate("v1.4.1-0.20191109021931-daa7c041", commitHash: hash, commitTime: time, baseTag: "v1.4.0")
        }
    }
}
