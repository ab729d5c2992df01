//! Runnable examples live beside this file; see `cargo run -p loyalty-examples --example checkout`.
