//! The parser: tokens → [`Query`](super::ast::Query).
//!
//! Recursive descent over statements and tabular operators, with a Pratt loop
//! for binary operators whose precedence lives in one table (`expr::precedence`).
//! Before parsing, [`check_delimiters`] pairs every bracket, so an unbalanced
//! one is reported where it is rather than where parsing gets lost. Nesting
//! (brackets, operands, operator chains) is limited to [`MAX_DEPTH`], so deep
//! input gives [`Code::NestingTooDeep`] instead of overflowing the stack, and
//! every later stage can walk the tree recursively.

mod expand;
mod expr;
mod graph;
mod grouping;
mod literals;
mod operators;
mod sources;
mod statements;

use super::ast::Span;
use super::lexer::{self, Keyword, PResult, Token, TokenKind};
use crate::diag::{Code, Diagnostic};
use crate::types::ScalarType;
use operators::TABULAR_OPERATORS;
use sources::UNSUPPORTED_SOURCES;
use statements::UNSUPPORTED_STATEMENTS;

/// How deep brackets and expressions may nest. Each bracket, each operand
/// and each operator of a chain (`a + b + c`) counts one level.
pub(crate) const MAX_DEPTH: usize = 128;

/// True if `word` has a meaning somewhere in the grammar, so printing it as a
/// name must bracket it (`['where']`) to be read back as a name.
pub(crate) fn is_reserved_word(word: &str) -> bool {
    Keyword::from_word(word).is_some()
        || lexer::is_typed_literal_keyword(word)
        || ScalarType::from_name(word).is_some()
        || TABULAR_OPERATORS.iter().any(|(name, _)| *name == word)
        || UNSUPPORTED_SOURCES.contains(&word)
        || UNSUPPORTED_STATEMENTS.contains(&word)
        || matches!(word, "externaldata" | "external_data")
}

/// A recursive-descent parser over the tokens of one query.
pub(crate) struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Where the last consumed token ends, for node spans.
    last_end: usize,
    /// Current nesting, checked against [`MAX_DEPTH`].
    depth: usize,
    /// Returned when peeking past the end.
    eof: Token,
    /// The query text (option values are copied from it).
    source: String,
    /// Inside a `search` predicate, where `COL: "x"` means `COL has "x"`.
    search_predicate: bool,
}

impl Parser {
    /// Lexes `source` and checks its brackets pair up.
    // The diagnostic is returned by value: that is `syntax::parse`'s API.
    #[allow(clippy::result_large_err)]
    pub(crate) fn new(source: &str) -> Result<Parser, Diagnostic> {
        let tokens = lexer::tokenize(source).map_err(|diagnostic| *diagnostic)?;
        check_delimiters(&tokens).map_err(|diagnostic| *diagnostic)?;
        let end = source.len();
        Ok(Parser {
            source: source.to_string(),
            tokens,
            pos: 0,
            last_end: 0,
            depth: 0,
            search_predicate: false,
            eof: Token {
                kind: TokenKind::Eof,
                span: Span::new(end, end),
            },
        })
    }

    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    fn peek_at(&self, offset: usize) -> &Token {
        self.tokens.get(self.pos + offset).unwrap_or(&self.eof)
    }

    fn kind_at(&self, offset: usize) -> &TokenKind {
        &self.peek_at(offset).kind
    }

    fn at(&self, kind: &TokenKind) -> bool {
        self.kind_at(0) == kind
    }

    /// Consumes the next token; returns its span.
    fn advance(&mut self) -> Span {
        let span = self.peek().span;
        if self.pos < self.tokens.len() {
            self.pos += 1;
            self.last_end = span.end;
        }
        span
    }

    fn eat(&mut self, kind: &TokenKind) -> Option<Span> {
        if self.at(kind) {
            Some(self.advance())
        } else {
            None
        }
    }

    /// Consumes a `kind` token or reports "expected {expected}, found ...".
    fn expect(&mut self, kind: &TokenKind, expected: &str) -> PResult<Span> {
        self.eat(kind)
            .ok_or_else(|| self.unexpected(expected).into())
    }

    /// The keyword a word token stands for, if any.
    fn keyword_at(&self, offset: usize) -> Option<Keyword> {
        match self.kind_at(offset) {
            TokenKind::Ident(word) => Keyword::from_word(word),
            TokenKind::Keyword(keyword) => Some(*keyword),
            _ => None,
        }
    }

    fn eat_keyword(&mut self, keyword: Keyword) -> Option<Span> {
        if self.keyword_at(0) == Some(keyword) {
            Some(self.advance())
        } else {
            None
        }
    }

    fn word_at(&self, offset: usize) -> Option<&str> {
        match self.kind_at(offset) {
            TokenKind::Ident(word) => Some(word),
            _ => None,
        }
    }

    /// True if a name starts at `offset`: a word or `['bracketed']`.
    fn starts_name(&self, offset: usize) -> bool {
        match self.kind_at(offset) {
            TokenKind::Ident(_) => true,
            TokenKind::LBracket => {
                matches!(self.kind_at(offset + 1), TokenKind::String(_))
                    && *self.kind_at(offset + 2) == TokenKind::RBracket
            }
            _ => false,
        }
    }

    /// Length in tokens of the name at `offset` (see [`Self::starts_name`]).
    fn name_length(&self, offset: usize) -> usize {
        if *self.kind_at(offset) == TokenKind::LBracket {
            3
        } else {
            1
        }
    }

    /// "expected {expected}, found ..." at the next token.
    #[cold]
    #[inline(never)]
    fn unexpected(&self, expected: &str) -> Diagnostic {
        let token = self.peek();
        let diagnostic = Diagnostic::new(
            Code::UnexpectedToken,
            format!("expected {expected}, found {}", token.kind.describe()),
            token.span,
        )
        .with_label(format!("expected {expected}"));
        match token.kind {
            TokenKind::Bang => diagnostic.with_help("KQL negates a condition with not(...)"),
            _ => diagnostic,
        }
    }

    /// Enters one nesting level; `span` is blamed if that is one too many.
    fn enter(&mut self, span: Span) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(too_deep(span).into());
        }
        Ok(())
    }

    /// True when the next token is the word `word` (operator words such as
    /// `by` and `asc` are not reserved: they are names elsewhere).
    fn at_word(&self, word: &str) -> bool {
        self.word_at(0) == Some(word)
    }

    fn expect_word(&mut self, word: &str) -> PResult<Span> {
        if self.at_word(word) {
            Ok(self.advance())
        } else {
            Err(self.unexpected(&format!("`{word}`")).into())
        }
    }
}

/// What an unsupported-construct diagnostic of the parser is about, for
/// the checker's "... is not supported yet".
fn unsupported_what(diagnostic: &Diagnostic) -> String {
    let message = diagnostic.message.as_str();
    message
        .strip_suffix(" is not supported yet")
        .or_else(|| message.strip_suffix(" are not supported yet"))
        .or_else(|| message.strip_suffix(" is not supported"))
        .or_else(|| message.strip_suffix(" are not supported"))
        .unwrap_or(message)
        .to_string()
}

#[cold]
#[inline(never)]
fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::NestingTooDeep,
        format!("expression nested more than {MAX_DEPTH} levels deep"),
        span,
    )
    .with_label("too deep here")
    .with_help("split the expression with `let` statements")
}

/// Keywords Kusto never reads as a bare name in an expression, a table name
/// or a property name (they must be bracketed there, as in `['long']`): the
/// operator words, a few tabular keywords, and the type names other than
/// `bool` and `guid`.
fn is_keyword_not_name(word: &str) -> bool {
    match Keyword::from_word(word) {
        Some(
            Keyword::And
            | Keyword::Or
            | Keyword::Between
            | Keyword::NotBetween
            | Keyword::In
            | Keyword::NotIn
            | Keyword::InCi
            | Keyword::NotInCi
            | Keyword::HasAny
            | Keyword::HasAll
            | Keyword::StringOp(_)
            | Keyword::Print
            | Keyword::Datatable
            | Keyword::Dynamic
            | Keyword::To
            | Keyword::BagExpansion
            | Keyword::WithItemIndex,
        ) => true,
        Some(_) => false,
        None => {
            (ScalarType::from_name(word).is_some() || lexer::is_typed_literal_keyword(word))
                && !matches!(word, "bool" | "guid")
        }
    }
}

/// Pairs every `(`, `[` and `{` with its closer before parsing, so that an
/// unbalanced one is reported at the bracket itself, and limits how deep
/// brackets nest.
fn check_delimiters(tokens: &[Token]) -> PResult<()> {
    let mut open: Vec<&Token> = Vec::new();
    for token in tokens {
        let closer = match token.kind {
            TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => {
                open.push(token);
                if open.len() > MAX_DEPTH {
                    return Err(Diagnostic::new(
                        Code::NestingTooDeep,
                        format!("brackets nested more than {MAX_DEPTH} levels deep"),
                        token.span,
                    )
                    .with_label("too deep here")
                    .into());
                }
                continue;
            }
            TokenKind::RParen => TokenKind::LParen,
            TokenKind::RBracket => TokenKind::LBracket,
            TokenKind::RBrace => TokenKind::LBrace,
            _ => continue,
        };
        match open.pop() {
            None => {
                return Err(Diagnostic::new(
                    Code::UnbalancedDelimiter,
                    format!("unexpected closing delimiter {}", token.kind.describe()),
                    token.span,
                )
                .with_label("unexpected closing delimiter")
                .into())
            }
            Some(opener) if opener.kind != closer => {
                return Err(Diagnostic::new(
                    Code::UnbalancedDelimiter,
                    format!("mismatched closing delimiter {}", token.kind.describe()),
                    token.span,
                )
                .with_label("mismatched closing delimiter")
                .with_secondary(opener.span, "unclosed delimiter")
                .into())
            }
            Some(_) => {}
        }
    }
    match open.last() {
        Some(opener) => Err(Diagnostic::new(
            Code::UnbalancedDelimiter,
            format!("unclosed delimiter {}", opener.kind.describe()),
            opener.span,
        )
        .with_label("unclosed delimiter")
        .into()),
        None => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests;
