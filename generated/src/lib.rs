//! The Rust that `kqlc emit` generates for each rule in `examples/rules/`,
//! checked in so a change to the code generator shows up as a reviewable
//! diff. The modules are generated: do not edit them by hand. Regenerate all
//! of them with
//!
//! ```text
//! KQLC_BLESS=1 cargo test -p kqlc-cli --test integration generated::
//! ```
//!
//! (that test fails when a module differs from what `kqlc emit` produces
//! now). Each module's `Rule` implements `kql_runtime::query::Query`.
#![forbid(unsafe_code)]

// Formatted by prettyplease when generated; rustfmt would reformat it and
// make the freshness test fail.
#[rustfmt::skip]
pub mod cluster_admin_binding;
// The function table's runtime functions as typed references: this crate
// compiles only if each exists with the signature the planner calls.
#[rustfmt::skip]
pub mod catalog;
#[rustfmt::skip]
pub mod exec_in_kube_system;
#[rustfmt::skip]
pub mod privileged_pod;
