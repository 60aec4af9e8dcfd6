//! Lexing and parsing: `&str` → [`ast::Query`].

pub mod ast;
mod display;
mod lexer;
mod parser;

pub use lexer::{Keyword, Token, TokenKind};

use crate::diag::Diagnostic;

/// Parses a whole query. Stops at the first error.
// A parse ends at its first error, so the size of the error value costs
// nothing on the hot path; boxing it would only add noise.
#[allow(clippy::result_large_err)]
pub fn parse(source: &str) -> Result<ast::Query, Diagnostic> {
    parser::Parser::new(source)?.parse_query()
}
