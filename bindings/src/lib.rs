//! `proofline-ffi`: Proofline's core for the iOS and Android apps, through uniffi.
//!
//! A thin layer (see STYLE.md, "A facade with an `inner`"): [`Device`] wraps
//! [`proofline_core::device::Device`] one method to one method; [`records`] copies the
//! core's results into records and enums the screens show; [`ProoflineError`] is the one
//! error, converted from the core's in one place. No domain logic lives here: if a method
//! here needs a loop or a `match` on domain state, that belongs in `core`.
//!
//! The generated APIs: Kotlin package `app.proofline.core`, Swift module `ProoflineCore`
//! (`uniffi.toml`); ids are `java.util.UUID` / `Foundation.UUID`, instants
//! `java.time.Instant` / `Date`, durations `java.time.Duration` / `TimeInterval`, photo
//! bytes `ByteArray` / `Data`. No async exports: calls block, and the shells make them from
//! background threads or coroutines. `scripts/bindings` builds the library and generates
//! both; `docs/bindings.md` says how each platform consumes them.

// The namespace names the generated Kotlin file (`proofline.kt`, not `proofline_ffi.kt`);
// the C symbols keep the crate name.
uniffi::setup_scaffolding!("proofline");

mod convert;
mod device;
mod error;
pub mod records;

pub use device::Device;
pub use error::ProoflineError;
pub use records::*;
