// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Shoal",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "shoal", targets: ["shoal"]),
        .library(name: "ShoalCore", targets: ["ShoalCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Pure protocol logic: no sockets, no files, no clocks of its own.
        .target(
            name: "ShoalCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto"), "CBigNum"],
            swiftSettings: strict
        ),
        // I/O at the edges: files, sockets, hashing workers, timers.
        .target(
            name: "ShoalEngine",
            dependencies: [
                "ShoalCore", "CPageCache",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // The tracker server: announce/scrape logic apart from its HTTP transport.
        .target(
            name: "ShoalTracker",
            dependencies: [
                "ShoalCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The interface without a terminal: snapshot + UI state -> cells; keymap; themes.
        .target(
            name: "ShoalTUI",
            dependencies: ["ShoalCore", "ShoalEngine", .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: strict
        ),
        // libcrypto's big numbers (BN_mod_exp), seen only by MSE's key exchange: 0.09 ms per
        // 768-bit power here, against 2.7 ms with attaswift/BigInt built for release and 81 ms in
        // the debug builds the tests and the soak run (two per connection).
        .systemLibrary(name: "CBigNum", path: "Sources/CBigNum"),
        // glibc's heap thresholds (mallopt), set by the `shoal` commands that move data.
        .systemLibrary(name: "CHeap", path: "Sources/CHeap"),
        // Page-cache reads that never block (preadv2 + RWF_NOWAIT), seen only by FileStorage.
        .systemLibrary(name: "CPageCache", path: "Sources/CPageCache"),
        // ncursesw, seen only by ShoalTerminal.
        .systemLibrary(name: "CNcurses", path: "Sources/CNcurses"),
        .target(
            name: "ShoalTerminal",
            dependencies: ["CNcurses", "ShoalTUI"],
            swiftSettings: strict
        ),
        // Fuzz targets for the parsers (Scripts/fuzz.sh builds them with libFuzzer).
        .executableTarget(
            name: "shoal-fuzz",
            dependencies: ["ShoalCore"],
            path: "Sources/ShoalFuzz",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "shoal",
            dependencies: [
                "ShoalCore", "ShoalEngine", "ShoalTracker", "ShoalTUI", "ShoalTerminal", "CHeap",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ShoalCoreTests",
            dependencies: ["ShoalCore", "ShoalTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        // Swarm harness and process helpers shared by the test targets.
        .target(
            name: "ShoalTestSupport",
            dependencies: [
                "ShoalCore", "ShoalEngine", "ShoalTracker",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ShoalTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "ShoalEngineTests",
            dependencies: [
                "ShoalCore", "ShoalEngine", "ShoalTracker", "ShoalTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ShoalTrackerTests",
            dependencies: ["ShoalCore", "ShoalTracker", "ShoalTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "InteropTests",
            dependencies: ["ShoalCore", "ShoalEngine", "ShoalTracker", "ShoalTestSupport", "shoal"],
            exclude: ["Scripts"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ShoalTUITests",
            dependencies: ["ShoalCore", "ShoalEngine", "ShoalTUI", "ShoalTestSupport"],
            exclude: ["Screens"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ShoalCLITests",
            dependencies: ["ShoalCore", "ShoalEngine", "ShoalTestSupport", "shoal", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
