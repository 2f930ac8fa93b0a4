// swift-tools-version:5.9
// ProoflineKit: the Rust core for the iOS app, plus the app's handwritten wrapper and view
// models (Foundation only, so the same package builds and is tested on Linux).
//
// Targets:
//   ProoflineCoreFFI  the core's C interface. On Apple platforms: the XCFramework built by
//                     ../scripts/build-xcframework.sh (static library per slice + the
//                     generated header and module map). On Linux: a system library over
//                     the host-built libproofline_ffi.so (scripts/test-ios stages the
//                     generated header next to Sources/ProoflineCoreFFI/module.modulemap and
//                     the library in lib/, or in $PROOFLINE_LIB_DIR).
//   ProoflineCore     the generated Swift (uniffi-bindgen, library mode), written into
//                     Sources/ProoflineCore/ by the scripts; not committed.
//   ProoflineKit      the wrapper and view models the SwiftUI app uses.
import PackageDescription

#if os(Linux)
let libDir = Context.environment["PROOFLINE_LIB_DIR"] ?? (Context.packageDirectory + "/lib")
let ffiTarget: Target = .systemLibrary(name: "ProoflineCoreFFI", path: "Sources/ProoflineCoreFFI")
let coreLinker: [LinkerSetting] = [
    .unsafeFlags(["-L", libDir, "-Xlinker", "-rpath", "-Xlinker", libDir]),
]
#else
let ffiTarget: Target = .binaryTarget(name: "ProoflineCoreFFI", path: "ProoflineCoreFFI.xcframework")
let coreLinker: [LinkerSetting] = [
    // A static library carries no link directives: the core's time-zone lookup
    // (iana-time-zone → core-foundation-sys) needs CoreFoundation. TLS is rustls with
    // webpki roots and SQLite is bundled, so nothing else.
    .linkedFramework("CoreFoundation"),
]
#endif

let package = Package(
    name: "ProoflineKit",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "ProoflineKit", targets: ["ProoflineKit"]),
    ],
    targets: [
        ffiTarget,
        .target(
            name: "ProoflineCore",
            dependencies: ["ProoflineCoreFFI"],
            path: "Sources/ProoflineCore",
            exclude: ["README.md"],
            linkerSettings: coreLinker
        ),
        .target(
            name: "ProoflineKit",
            dependencies: ["ProoflineCore"],
            path: "Sources/ProoflineKit"
        ),
        .testTarget(
            name: "ProoflineKitTests",
            dependencies: ["ProoflineKit", "ProoflineCore"],
            path: "Tests/ProoflineKitTests"
        ),
    ]
)
