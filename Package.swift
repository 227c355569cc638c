// swift-tools-version:6.1
// Warren — a Go module proxy. Layers, one direction (see docs/ARCHITECTURE.md):
//   GoModule (pure Go-module domain) ← warren (CLI)
import PackageDescription

let package = Package(
    name: "Warren",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "GoModule", targets: ["GoModule"]),
        .executable(name: "warren", targets: ["warren"]),
        .executable(name: "gomodule-bench", targets: ["GoModuleBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // zlib, for raw DEFLATE in module zips (Debian: zlib1g-dev).
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // The Go module domain: paths, versions, go.mod, zips, hashes, patterns. No networking.
        .target(
            name: "GoModule",
            dependencies: [
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "warren",
            dependencies: [
                "GoModule",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Release-mode benchmark of zip creation and hashing against the go command's code.
        .executableTarget(
            name: "GoModuleBench",
            dependencies: ["GoModule"],
            path: "Benchmarks/GoModuleBench"
        ),
        .testTarget(
            name: "GoModuleTests",
            dependencies: ["GoModule"]
        ),
        .testTarget(
            name: "WarrenCLITests",
            dependencies: ["GoModule", "warren"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
