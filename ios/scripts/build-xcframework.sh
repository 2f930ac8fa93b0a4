#!/usr/bin/env bash
# Builds the core for iOS as ios/ProoflineKit/ProoflineCoreFFI.xcframework and generates the
# Swift bindings into ios/ProoflineKit/Sources/ProoflineCore/ProoflineCore.swift. macOS with
# Xcode 16.x and rustup only (runs with macOS's bash 3.2).
#
#   ios/scripts/build-xcframework.sh            # the shipping profile (ffi-release)
#   ios/scripts/build-xcframework.sh --debug    # quicker, for simulator debugging
#   ios/scripts/build-xcframework.sh --macos    # also a macOS slice, so `swift test` of
#                                               # ProoflineKit runs natively on the Mac
#
# Slices: aarch64-apple-ios (devices), and the simulator library joined with lipo from
# aarch64-apple-ios-sim and x86_64-apple-ios. Each is the `staticlib` of proofline-ffi. The
# bindings are generated in library mode from the device slice with this repository's
# uniffi-bindgen, so the library and the generated Swift can never disagree. The profile
# profile is `ffi-release` (Cargo.toml), the one scripts/bindings uses for `--release`
# (size-optimised, photo pipeline at opt-level 3, fat LTO).
set -euo pipefail
cd "$(dirname "$0")/../.."

[[ $(uname -s) == Darwin ]] || { echo "build-xcframework.sh needs macOS with Xcode" >&2; exit 1; }
command -v xcodebuild >/dev/null || { echo "xcodebuild not found: install Xcode 16" >&2; exit 1; }

profile=ffi-release
flags=(--profile ffi-release)
macos=false
for arg in "$@"; do
    case $arg in
        --debug) profile=debug; flags=() ;;
        --macos) macos=true ;;
        *) echo "usage: ios/scripts/build-xcframework.sh [--debug] [--macos]" >&2; exit 2 ;;
    esac
done

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
if $macos; then targets+=(aarch64-apple-darwin x86_64-apple-darwin); fi
target_dir=${CARGO_TARGET_DIR:-target}
kit=ios/ProoflineKit
out=build/ios
export IPHONEOS_DEPLOYMENT_TARGET=16.0 MACOSX_DEPLOYMENT_TARGET=13.0

rustup target add "${targets[@]}"
for target in "${targets[@]}"; do
    echo "==> proofline-ffi for $target ($profile)"
    cargo rustc --locked ${flags[@]+"${flags[@]}"} -p proofline-ffi --lib --crate-type staticlib --target "$target"
done
lib() { echo "$target_dir/$1/$profile/libproofline_ffi.a"; }

echo "==> Swift bindings (library mode, from the device slice)"
cargo build --locked -p uniffi-bindgen
rm -rf "$out"
mkdir -p "$out/headers" "$out/simulator"
"$target_dir/debug/uniffi-bindgen" generate --library "$(lib aarch64-apple-ios)" \
    --language swift --out-dir "$out/swift" --no-format
cp "$out/swift/ProoflineCoreFFI.h" "$out/headers/"
cp "$out/swift/ProoflineCoreFFI.modulemap" "$out/headers/module.modulemap"
mkdir -p "$kit/Sources/ProoflineCore"
cp "$out/swift/ProoflineCore.swift" "$kit/Sources/ProoflineCore/ProoflineCore.swift"

echo "==> simulator library (arm64 + x86_64)"
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" \
    -output "$out/simulator/libproofline_ffi.a"

slices=(-library "$(lib aarch64-apple-ios)" -headers "$out/headers"
    -library "$out/simulator/libproofline_ffi.a" -headers "$out/headers")
if $macos; then
    echo "==> macOS library (arm64 + x86_64)"
    mkdir -p "$out/macos"
    lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" \
        -output "$out/macos/libproofline_ffi.a"
    slices+=(-library "$out/macos/libproofline_ffi.a" -headers "$out/headers")
fi

echo "==> XCFramework"
rm -rf "$kit/ProoflineCoreFFI.xcframework"
xcodebuild -create-xcframework "${slices[@]}" -output "$kit/ProoflineCoreFFI.xcframework"
echo "done: $kit/ProoflineCoreFFI.xcframework, $kit/Sources/ProoflineCore/ProoflineCore.swift"
