//! kqlc: a compiler from KQL (Kusto Query Language) to native Rust.
//!
//! A query goes through these stages, each with its own data type (see
//! `ARCHITECTURE.md` at the repository root):
//!
//! | stage | input → output | module |
//! |---|---|---|
//! | lex + parse | `&str` → [`syntax::ast::Query`] | [`syntax`] |
//! | check | AST + [`sema::Schema`] → [`sema::CheckedQuery`] + diagnostics | [`sema`] |
//! | plan | checked query → [`plan::ir::Pipeline`] | [`plan`] |
//! | codegen | pipeline → formatted Rust | [`codegen`] |
//!
//! [`diag`] renders diagnostics and [`embed`] serves the `kql!` macro. The
//! `kqlc` command (build driver, rule packs, rule tests, bench) is the
//! `kqlc-cli` crate in `kqlc/cli/`.
#![forbid(unsafe_code)]

pub mod codegen;
pub mod diag;
pub mod embed;
pub mod plan;
pub mod sema;
pub mod syntax;
pub mod types;

use diag::Diagnostic;
use plan::ir::Pipeline;
use sema::Schema;

/// Parses, desugars, checks and plans one query: the front half of every path
/// (`kqlc check`, `emit`, `build`, `run`).
pub fn compile(kql: &str, schema: &Schema) -> Result<Pipeline, Vec<Diagnostic>> {
    let mut query = syntax::parse(kql).map_err(|d| vec![d])?;
    sema::desugar::query(&mut query);
    let checked = sema::check(&query, schema, kql)?;
    Ok(plan::plan(&checked))
}
