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
    ],
    targets: [
        // Pure protocol logic: no sockets, no files, no clocks of its own.
        .target(
            name: "ShoalCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // I/O at the edges: files, hashing workers, (later) sockets.
        .target(
            name: "ShoalEngine",
            dependencies: [
                "ShoalCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "shoal",
            dependencies: [
                "ShoalCore", "ShoalEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ShoalCoreTests",
            dependencies: ["ShoalCore"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ShoalCLITests",
            dependencies: ["ShoalCore", "ShoalEngine", "shoal"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
