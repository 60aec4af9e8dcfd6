//! The integration tests: one test binary (`cargo test -p kqlc-cli --test
//! integration`), one module per file of `tests/`, so the workspace links
//! one binary instead of one per file. A file's tests are named after it:
//! `cargo test -p kqlc-cli --test integration conformance::` runs the
//! conformance suite alone, `-- --list` lists them all.
//!
//! Helpers used by several files are in `common` (`tests/common/mod.rs`).
//! The tests of all files share a process and run in parallel: a test
//! must not change the process's environment or working directory, and
//! takes its scratch files from a directory of its own (`tempfile`,
//! `common::scratch`) and its ports from the system (`127.0.0.1:0`).

mod common;

mod bench_smoke;
mod conformance;
mod corpus;
mod diagnostics;
mod end_to_end;
mod generated;
mod kafka;
mod lazy;
mod literals;
mod live;
mod native_prefilter;
mod nats;
mod prefilter;
mod reliability;
mod rule_packs;
mod sigma;
mod specialize;
mod starter_pack;
mod tables;
mod threads;
