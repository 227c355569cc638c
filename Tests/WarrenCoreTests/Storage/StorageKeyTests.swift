import Testing
@testable import WarrenCore

@Suite struct StorageKeyTests {
    @Test(arguments: [
        StorageKey.artifact(module: "github.com/BurntSushi/toml", version: "v1.2.1", kind: .zip),
        StorageKey.artifact(module: "github.com/dgrijalva/jwt-go", version: "v3.2.0+incompatible", kind: .mod),
        StorageKey.artifact(module: "example.com/m/v2", version: "v2.0.0-20200101000000-abcdefabcdef", kind: .info),
    ])
    func artifactPathsReadBackAsTheirKeys(_ key: StorageKey) {
        #expect(StorageKey.artifact(atPath: key.relativePath) == key)
    }

    @Test(arguments: ["example.com/m/@v/list", "example.com/m/@latest", "example.com/m/@v/v1.0.0.tar",
                      "example.com/m/@v/master.info", "example.com/M/@v/v1.0.0.mod", "../x/@v/v1.0.0.mod",
                      "example.com/m/@v/v1.0.0.zip.tmp-12-34", "sumdb/sum.golang.org/tile/8/0/000",
                      "example.com/m/@query/master.info"])
    func otherPathsAreNotArtifacts(_ path: String) {
        #expect(StorageKey.artifact(atPath: path) == nil)
    }
}
