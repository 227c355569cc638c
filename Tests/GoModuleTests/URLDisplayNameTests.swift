import Testing
@testable import GoModule

@Suite struct URLDisplayNameTests {
    @Test func namesKeepSchemeHostAndPathOnly() {
        #expect(URLDisplayName.of("https://alice:PASSWORD@goproxy.example.com/goproxy?token=T#x") == "https://goproxy.example.com/goproxy")
        #expect(URLDisplayName.of("https://alice@goproxy.example.com:8443") == "https://goproxy.example.com:8443")
        #expect(URLDisplayName.of("https://proxy.golang.org") == "https://proxy.golang.org")
        #expect(URLDisplayName.of("file:///srv/secret/goproxy") == "file://…/goproxy")
        #expect(URLDisplayName.of("file:///") == "file:///")
        #expect(URLDisplayName.of("direct") == "direct")
        // A '@' in the path is not user info.
        #expect(URLDisplayName.of("https://h.example/a@b") == "https://h.example/a@b")
    }

    @Test func secretsAreFoundAndScrubbed() {
        let secrets = URLDisplayName.secrets(of: "https://alice:pa%24s@h.example/p?token=SECRET&x=1")
        #expect(Set(secrets) == ["alice", "pa%24s", "pa$s", "SECRET"])  // "1" is too short to matter
        #expect(URLDisplayName.scrub("bad token SECRET for alice (pa$s)", secrets: secrets) == "bad token xxxxx for xxxxx (xxxxx)")
        #expect(URLDisplayName.secrets(of: "https://proxy.golang.org").isEmpty)
    }

    @Test func theListIsLoggedByDisplayNames() throws {
        let list = try ProxyList("https://u:p@a.example/x?t=secret,file:///srv/mirror|direct")
        #expect(list.description == "https://a.example/x,file://…/mirror|direct")
    }
}
