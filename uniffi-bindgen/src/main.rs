//! `uniffi-bindgen`: generates the Kotlin and Swift bindings of `proofline-ffi` from the
//! built library (library mode: the metadata is read from the `.so` itself), e.g.
//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libproofline_ffi.so
//! --language kotlin --out-dir build/bindings/kotlin`. `scripts/bindings` runs it.

fn main() {
    uniffi::uniffi_bindgen_main()
}
