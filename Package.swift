// swift-tools-version:6.1
// Warren — a Go module proxy. Layers, one direction (see docs/ARCHITECTURE.md):
//   GoModule (pure Go-module domain) ← WarrenCore (engine) ← WarrenServer (HTTP) ← warren (CLI)
import Foundation
import PackageDescription

/// `WARREN_FUZZ=<libclang_rt.fuzzer_no_main archive>` (scripts/fuzz.sh finds it in the
/// toolchain): the fuzz target becomes a libFuzzer binary and the code it reaches is
/// instrumented for coverage. Only Warren's own targets change, so the dependencies'
/// build products are reused. (libFuzzer without its main: SwiftPM gives executables an
/// entry point of their own, which hands over to the driver.)
let fuzzerLibrary = ProcessInfo.processInfo.environment["WARREN_FUZZ"].flatMap { $0.isEmpty ? nil : $0 }
let fuzzing = fuzzerLibrary != nil
let coverage: [SwiftSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer", "-enable-testing"])] : []

/// A fuzz target under Fuzz/: a libFuzzer binary with WARREN_FUZZ, else a replayer of its
/// corpus (through FuzzSupport).
func fuzzTarget(_ name: String, path: String, dependencies: [Target.Dependency]) -> Target {
    .executableTarget(
        name: name,
        dependencies: dependencies + ["CFuzzerDriver", "FuzzSupport"],
        path: path,
        swiftSettings: fuzzing ? coverage + [.define("FUZZING")] : [],
        linkerSettings: fuzzerLibrary.map { [.unsafeFlags(["-Xlinker", $0]), .linkedLibrary("stdc++")] } ?? []
    )
}

let package = Package(
    name: "Warren",
    // Linux only (posix_spawn extensions, TCP_CORK, TCP_INFO): no Apple platform is
    // claimed.
    products: [
        .library(name: "GoModule", targets: ["GoModule"]),
        .library(name: "WarrenCore", targets: ["WarrenCore"]),
        .library(name: "WarrenServer", targets: ["WarrenServer"]),
        .executable(name: "warren", targets: ["warren"]),
        .executable(name: "gomodule-bench", targets: ["GoModuleBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // zlib, for raw DEFLATE in module zips (Debian: zlib1g-dev).
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // posix_spawn with the GNU extensions (chdir, closefrom) Swift does not import:
        // starting git costs 2 ms this way against 50 ms through Foundation's Process.
        .target(
            name: "CProcessSpawn",
            path: "Sources/CProcessSpawn"
        ),
        // The kernel's TCP_INFO layout (bytes acknowledged by the peer), which glibc's
        // headers do not have: how Warren tells a slow client from a stalled one.
        .target(
            name: "CTCPInfo",
            path: "Sources/CTCPInfo"
        ),
        // The Go module domain: paths, versions, go.mod, zips, hashes, patterns. No networking.
        .target(
            name: "GoModule",
            dependencies: [
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: coverage
        ),
        // The proxy engine: upstream chain, storage, caches, single-flight. No HTTP server.
        .target(
            name: "WarrenCore",
            dependencies: [
                "GoModule",
                "CProcessSpawn",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: coverage
        ),
        // HTTP: the GOPROXY protocol, health and metrics endpoints, request logging.
        .target(
            name: "WarrenServer",
            dependencies: [
                "GoModule",
                "WarrenCore",
                "CTCPInfo",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: coverage
        ),
        // The developer's tools: `warren doctor` (Go environment, routing, probes) and
        // `warren bench` (proxies side by side). Clients of proxies, not part of one: they
        // need the Go module domain, not the engine.
        .target(
            name: "WarrenClientTools",
            dependencies: [
                "GoModule",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .executableTarget(
            name: "warren",
            dependencies: [
                "GoModule",
                "WarrenCore",
                "WarrenServer",
                "WarrenClientTools",
                "S3Client",
                "S3Storage",
                "SQLiteIndex",
                "PostgresIndex",
                "OpenIDConnect",
                "GitHubLogin",
                "GitLabTokens",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // libFuzzer's driver, declared for the fuzz targets.
        .target(
            name: "CFuzzerDriver",
            path: "Sources/CFuzzerDriver"
        ),
        // The corpus replayer the fuzz targets share.
        .target(name: "FuzzSupport", path: "Fuzz/Support"),
        // Raw request bytes through the connection pipeline.
        fuzzTarget("FuzzHTTPRequest", path: "Fuzz/HTTPRequest", dependencies: [
            "WarrenCore", "WarrenServer",
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // Every parser of untrusted bytes (paths, versions, go.mod, go-get pages, notes,
        // headers, .netrc, GOPROXY-style lists, zips, S3 listings).
        fuzzTarget("FuzzParsers", path: "Fuzz/Parsers", dependencies: ["GoModule", "S3Client", "WarrenCore", "WarrenServer"]),
        // Release-mode benchmark of zip creation and hashing against the go command's code.
        .executableTarget(
            name: "GoModuleBench",
            dependencies: ["GoModule"],
            path: "Benchmarks/GoModuleBench"
        ),
        // An S3 client of Warren's own (no S3 SDK exists among the packages here):
        // Signature Version 4 and the object operations on AsyncHTTPClient.
        .target(
            name: "S3Client",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: coverage
        ),
        // Artifacts in an S3-compatible bucket behind a local disk tier: the
        // ArtifactStorage for several replicas.
        .target(
            name: "S3Storage",
            dependencies: [
                "GoModule", "WarrenCore", "S3Client",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: coverage
        ),
        // The metadata index on SQLite: the embedded default, a file in --data-dir.
        // GitLab vouching for its CI job tokens and personal access tokens.
        .target(
            name: "GitLabTokens",
            dependencies: [
                "WarrenCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: coverage
        ),
        // Login with GitHub Enterprise Server or github.com (an OAuth app; groups from the
        // user's organizations and teams).
        .target(
            name: "GitHubLogin",
            dependencies: [
                "WarrenCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: coverage
        ),
        // Login with an OpenID Connect provider (GitLab and others): discovery, PKCE,
        // the ID token checked with the provider's keys.
        .target(
            name: "OpenIDConnect",
            dependencies: [
                "WarrenCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: coverage
        ),
        .target(
            name: "SQLiteIndex",
            dependencies: [
                "WarrenCore",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: coverage
        ),
        // PostgreSQL for several replicas: the shared metadata index, and the advisory
        // locks through which they take turns fetching a cold zip.
        .target(
            name: "PostgresIndex",
            dependencies: [
                "WarrenCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: coverage
        ),
        .testTarget(
            name: "GoModuleTests",
            dependencies: ["GoModule", "TestServers"]
        ),
        // Real servers the tests share, started once per test run (radosgw for S3).
        .target(
            name: "TestServers",
            dependencies: ["CProcessSpawn"],
            path: "Tests/TestServers"
        ),
        .testTarget(
            name: "S3ClientTests",
            dependencies: [
                "S3Client", "TestServers",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "WarrenCoreTests",
            dependencies: [
                "WarrenCore", "GoModule", "S3Client", "S3Storage", "SQLiteIndex", "PostgresIndex", "TestServers",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The HTTP layer in-process (HummingbirdTesting's live server on loopback).
        .testTarget(
            name: "WarrenServerTests",
            dependencies: [
                "GoModule", "WarrenCore", "WarrenServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "WarrenClientToolsTests",
            dependencies: ["WarrenClientTools", "GoModule"]
        ),
        .testTarget(
            name: "OpenIDConnectTests",
            dependencies: [
                "OpenIDConnect", "WarrenCore",
                .product(name: "JWTKit", package: "jwt-kit"),
            ]
        ),
        .testTarget(
            name: "WarrenCLITests",
            dependencies: [
                "GoModule", "WarrenCore", "WarrenClientTools", "warren", "S3Client", "PostgresIndex", "TestServers",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
