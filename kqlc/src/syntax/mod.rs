//! Lexing and parsing: `&str` → [`ast::Query`].

pub mod ast;
mod display;
mod lexer;
mod parser;

pub use lexer::{Token, TokenKind};

use crate::diag::Diagnostic;

/// Parses a whole query. Stops at the first error.
pub fn parse(source: &str) -> Result<ast::Query, Diagnostic> {
    parser::Parser::new(source)?.parse_query()
}
