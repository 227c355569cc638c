import Testing
@testable import GoModule

@Suite struct PatternTests {
    @Test func globMatchesLikePathMatch() throws {
        let yes: [(String, String)] = [
            ("abc", "abc"), ("*", "abc"), ("*c", "abc"), ("a*", "a"), ("a*/b", "abc/b"),
            ("a*b*c*d*e*/f", "axbxcxdxe/f"), ("ab[c]", "abc"), ("ab[b-d]", "abc"), ("ab[^e-g]", "abc"),
            ("a\\*b", "a*b"), ("a?b", "a☺b"), ("a[^a]b", "a☺b"), ("[\\-]", "-"), ("[x\\-]", "-"),
            ("*.corp.example.com", "git.corp.example.com"),
        ]
        for (p, n) in yes { #expect(try GlobPattern.match(p, n), "\(p) ~ \(n)") }
        let no: [(String, String)] = [
            ("*x", "xxx/"), ("a*", "ab/c"), ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f"), ("ab[e-g]", "abc"),
            ("ab[^c]", "abc"), ("a\\*b", "ab"), ("a???b", "a☺b"), ("a?b", "a/b"), ("*/b", "a/c"),
        ]
        for (p, n) in no { #expect(try !GlobPattern.match(p, n), "\(p) !~ \(n)") }
        for bad in ["[]a]", "[-]", "[x-]", "[", "a[", "[^", "[^bc", "a\\", "[a-"] {
            #expect(throws: GlobPattern.BadPattern.self, "\(bad)") { try GlobPattern.match(bad, "x") }
        }
    }

    @Test func prefixPatternsMatchLeadingElements() {
        let p = ModulePathPatterns("*.corp.example.com,github.com/corp/,rsc.io/private,, gopkg.in/x")
        #expect(p.patterns == ["*.corp.example.com", "github.com/corp", "rsc.io/private", " gopkg.in/x"])
        #expect(p.matches("git.corp.example.com/team/tool"))
        #expect(p.matches("github.com/corp/tool/v2"))
        #expect(p.matches("github.com/corp"))
        #expect(!p.matches("github.com/corporate/tool"))
        #expect(!p.matches("github.com"))
        #expect(p.matches("rsc.io/private/quux"))
        #expect(!p.matches("rsc.io/privateer"))
        #expect(p.firstMatch("github.com/corp/x") == "github.com/corp")
        #expect(ModulePathPatterns("").isEmpty)
        #expect(!ModulePathPatterns("[bad").matches("anything"))
    }

    @Test func proxyListFollowsTheGoCommand() throws {
        let list = try ProxyList("https://goproxy.cn|proxy.golang.org, direct,https://ignored.example")
        #expect(list.entries == [
            .init(source: .url("https://goproxy.cn"), fallBackOnError: true),
            .init(source: .url("https://proxy.golang.org"), fallBackOnError: false),
            .init(source: .direct, fallBackOnError: false),
        ])
        #expect(list.ignored == ["https://ignored.example"])
        #expect(list.description == "https://goproxy.cn|https://proxy.golang.org,direct")

        let file = try ProxyList("file:///srv/goproxy/,off")
        #expect(file.entries.map(\.source) == [.url("file:///srv/goproxy"), .off])
        #expect(try ProxyList("http://127.0.0.1:3000").entries.map(\.source) == [.url("http://127.0.0.1:3000")])
        #expect(try ProxyList("localhost:3000").entries.map(\.source) == [.url("https://localhost:3000")])
    }

    @Test func proxyListErrors() {
        let cases: [(String, String)] = [
            (",", "GOPROXY list is not the empty string, but contains no entries"),
            (" | ", "GOPROXY list is not the empty string, but contains no entries"),
            ("ftp://mirror.example", "invalid proxy URL scheme (must be https, http, file): ftp://mirror.example"),
            ("noscheme", "invalid proxy URL missing scheme: noscheme"),
            ("file://host/path?x", "invalid file:// proxy URL with non-path elements"),
            ("https://user:secret@proxy.example", ""),
        ]
        for (text, message) in cases {
            do {
                let list = try ProxyList(text)
                #expect(message.isEmpty, "\(text) parsed as \(list)")
                #expect(!list.description.contains("secret"))
            } catch {
                #expect(!message.isEmpty && error.description.contains(message), "\(text): \(error)")
            }
        }
    }
}
