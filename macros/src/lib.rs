//! `kql!`: compile a KQL query into Rust when your crate compiles.
//!
//! This crate is a thin shell: parsing, checking and code generation live
//! in the `kqlc` library ([`kqlc::embed`]). Use it through `kql-runtime`,
//! which re-exports the macro (`kql_runtime::kql!`); see its documentation
//! for an example.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

/// Compiles a KQL query at build time into a value implementing
/// `kql_runtime::query::Query`. KQL errors fail the build with the same
/// message `kqlc check` prints.
///
/// Forms: `kql!("QUERY")`, `kql!(file = "rules/x.kql")`,
/// `kql!(schema = "schema.json", "QUERY")`,
/// `kql!(table Name(col: type, ...), "QUERY")`. Paths are relative to the
/// calling crate's `Cargo.toml`.
#[proc_macro]
pub fn kql(input: TokenStream) -> TokenStream {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    match kqlc::embed::expand_kql(input.into(), &manifest_dir) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}
