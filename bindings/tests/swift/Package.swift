// swift-tools-version:5.9
// The Swift binding tests: the generated ProoflineCore module over the real Rust library,
// exercised by XCTest on Linux (scripts/test-swift copies the generated sources and the
// library next to this file, into a Debian 13 chroot with Swift 6.0.3, and runs `swift test`).
//
// Layout once scripts/test-swift has staged it:
//   Sources/ProoflineCoreFFI/   the generated C header + a module map linking proofline_ffi
//   Sources/ProoflineCore/      the generated ProoflineCore.swift
//   lib/libproofline_ffi.so     the library (debug build)
//   Tests/ProoflineCoreTests/   the scenario
// On Apple platforms the apps use the same generated Swift over an XCFramework instead
// (docs/bindings.md).
import PackageDescription

let libDir = Context.packageDirectory + "/lib"

let package = Package(
    name: "ProoflineCoreTests",
    products: [
        .library(name: "ProoflineCore", targets: ["ProoflineCore"]),
    ],
    targets: [
        .systemLibrary(name: "ProoflineCoreFFI", path: "Sources/ProoflineCoreFFI"),
        .target(
            name: "ProoflineCore",
            dependencies: ["ProoflineCoreFFI"],
            path: "Sources/ProoflineCore",
            linkerSettings: [.unsafeFlags(["-L", libDir, "-Xlinker", "-rpath", "-Xlinker", libDir])]
        ),
        .testTarget(
            name: "ProoflineCoreTests",
            dependencies: ["ProoflineCore"],
            path: "Tests/ProoflineCoreTests"
        ),
    ]
)
