//! Fuzz targets for every vendor reply decoder and for the pricing JSON input.
//!
//! Each target is a [`bolero`] check, so one function is three things at once:
//!
//! - a property test on stable `cargo test`: bolero replays every committed corpus file of the
//!   target, then feeds it random bytes for a second (`BOLERO_RANDOM_ITERATIONS` or
//!   `BOLERO_RANDOM_TEST_TIME_MS` change that);
//! - a libFuzzer target on nightly with `cargo-bolero` (`cargo bolero test <target> -p
//!   loyalty-fuzz`, see `conformance/fuzz/README.md`), which grows the corpus;
//! - a regression suite: an input that once failed is kept under the target's `corpus/` (or
//!   `crashes/`) folder and replayed by every `cargo test`.
//!
//! A target passes when the decoder never panics and every failure is the error the decoder
//! promises (for adapters: `Protocol`, naming the field).
//!
//! # Adding an adapter's decoders
//!
//! 1. The adapter exposes its decode path as plain functions from reply bytes to domain values
//!    (Diller: `loyalty_diller::decode`), and uses exactly these functions itself.
//! 2. Add the adapter as a dev-dependency of this crate and a file `tests/<vendor>.rs` holding
//!    one [`decoder_targets!`] block, one line per reply body:
//!
//! ```text
//! use loyalty_fuzz::{decoder_targets, expect_error};
//! use loyalty_sessionm::decode;
//!
//! decoder_targets! {
//!     /// A customer profile reply.
//!     sessionm_customer => |body| expect_error(decode::customer("members.get", body), decode::is_named_protocol_error);
//! }
//! ```
//!
//! 3. Seed `tests/__fuzz__/<target>/corpus/` with a few real replies (the simulator's, the
//!    vendor document's examples), fuzz for a while on nightly and commit the minimised corpus
//!    (`cargo bolero reduce <target> -p loyalty-fuzz`). Target names start with the vendor's
//!    name so they are unique across the crate.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod stub;

pub use bolero;

/// Defines one `#[test]` fuzz target per line: `name => |bytes| check(bytes);`. The closure gets
/// the raw input bytes (`&[u8]`) and panics when the decoder breaks its promise. The `check!`
/// call expands inside each test function, so `cargo bolero` finds the target by its test name
/// and bolero keeps its corpus in `tests/__fuzz__/<name>/`.
#[macro_export]
macro_rules! decoder_targets {
    ($( $(#[$meta:meta])* $name:ident => $check:expr; )+) => {$(
        $(#[$meta])*
        #[test]
        fn $name() {
            let check = $check;
            $crate::bolero::check!().for_each(|input: &[u8]| check(input));
        }
    )+};
}

/// Accepts any success, and a failure only when `promised` holds for it (for example: a
/// `Protocol` error naming the field). Panics otherwise, showing the error.
pub fn expect_error<T>(
    result: Result<T, loyalty_core::Error>,
    promised: impl Fn(&loyalty_core::Error) -> bool,
) {
    if let Err(e) = result {
        assert!(promised(&e), "the decoder failed in a way it does not promise: {e:?}");
    }
}

/// Splits fuzz input into a choice among `options` (its first byte) and the rest, so one
/// target covers several statuses or operations. Empty input picks the first option.
pub fn choose<'a, T: Copy>(input: &'a [u8], options: &[T]) -> (T, &'a [u8]) {
    match input.split_first() {
        Some((first, rest)) => (options[usize::from(*first) % options.len()], rest),
        None => (options[0], input),
    }
}
