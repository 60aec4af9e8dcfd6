//! kqlc-cli: what the `kqlc` command does around the compiler library.
//!
//! - [`build`]: generated Rust → a cargo project → a native detector (with
//!   [`manifest`], what the detector says about itself, and an SBOM);
//! - [`rules`]: rule packs (`.kql` files, Sentinel YAML and Sigma rules, with their metadata);
//! - [`sigma`]: Sigma rules translated to KQL;
//! - [`ruletest`]: a rule's fixtures run through its detector (`kqlc test`);
//! - [`bench`](mod@bench): `kqlc bench`: selective detectors against `cat`, `grep`, jq and
//!   DuckDB (`--suite detect`), and full-scan hunting queries against DuckDB, chdb and
//!   polars (`--suite hunting`).
//!
//! The compiler itself (syntax → sema → plan → codegen) is the `kqlc`
//! library crate; the sample generator is `kql-sample`.
#![forbid(unsafe_code)]

pub mod bench;
pub mod build;
pub mod manifest;
pub mod rules;
pub mod ruletest;
pub mod sigma;
