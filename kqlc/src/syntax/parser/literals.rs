//! Literals: scalar literals and string concatenation, `dynamic(...)`
//! values, and type names.

use super::Parser;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{DynamicLiteral, Expr, ExprKind, Ident, Literal, Span};
use crate::syntax::lexer::{self, Keyword, PResult, TokenKind};
use crate::types::ScalarType;

impl Parser {
    pub(super) fn parse_type(&mut self) -> PResult<ScalarType> {
        if let Some(word) = self.word_at(0) {
            if let Some(scalar_type) = ScalarType::from_name(word) {
                self.advance();
                return Ok(scalar_type);
            }
            if lexer::is_typed_literal_keyword(word) {
                return Err(Diagnostic::new(
                    Code::Unsupported,
                    format!("the {word} type is not supported yet"),
                    self.peek().span,
                )
                .into());
            }
        }
        Err(self
            .unexpected(
                "a type (bool, int, long, real, string, datetime, timespan, guid or dynamic)",
            )
            .into())
    }

    /// A literal token (or adjacent strings, or `true`/`false`).
    #[inline(never)]
    pub(super) fn parse_literal(&mut self) -> PResult<Expr> {
        let token = self.peek();
        let span = token.span;
        let literal = match &token.kind {
            TokenKind::Long(value) => Literal::Long(*value),
            TokenKind::Real(value) => Literal::Real(*value),
            TokenKind::TimeSpan(ticks) => Literal::TimeSpan(*ticks),
            TokenKind::String(_) => return Ok(self.parse_strings()),
            TokenKind::TypedLiteral {
                type_name, content, ..
            } => {
                let (type_name, content) = (type_name.clone(), content.clone());
                self.advance();
                if ScalarType::from_name(&type_name) == Some(ScalarType::DateTime)
                    && content.trim().is_empty()
                {
                    // `datetime()` is the current time (datetime.md).
                    let name = Ident {
                        name: "now".to_string(),
                        span,
                    };
                    return Ok(Expr {
                        kind: ExprKind::Call { name, args: vec![] },
                        span,
                    });
                }
                let kind = match lexer::decode_typed_literal(&type_name, &content, span) {
                    Ok(literal) => ExprKind::Literal(literal),
                    Err(diagnostic) => ExprKind::InvalidLiteral {
                        text: self
                            .source
                            .get(span.start..span.end)
                            .unwrap_or_default()
                            .to_string(),
                        diagnostic,
                    },
                };
                return Ok(Expr { kind, span });
            }
            TokenKind::Ident(word) if Keyword::from_word(word) == Some(Keyword::True) => {
                Literal::Bool(true)
            }
            TokenKind::Ident(word) if Keyword::from_word(word) == Some(Keyword::False) => {
                Literal::Bool(false)
            }
            _ => return Err(self.unexpected("a literal").into()),
        };
        self.advance();
        Ok(Expr {
            kind: ExprKind::Literal(literal),
            span,
        })
    }

    /// Adjacent string literals are one string: `"a" 'b'` is `"ab"`.
    pub(super) fn parse_strings(&mut self) -> Expr {
        let start = self.peek().span;
        let mut text = String::new();
        while let TokenKind::String(part) = self.kind_at(0) {
            text.push_str(part);
            self.advance();
        }
        Expr {
            kind: ExprKind::Literal(Literal::String(text)),
            span: Span::new(start.start, self.last_end),
        }
    }

    /// `dynamic(VALUE)`; `dynamic(null)` is the typed null.
    pub(super) fn parse_dynamic(&mut self) -> PResult<Expr> {
        let start = self.advance();
        self.expect(&TokenKind::LParen, "`(`")?;
        let value = self.parse_dynamic_value()?;
        let close = self.expect(&TokenKind::RParen, "`)`")?;
        let literal = match value {
            DynamicLiteral::Null => Literal::Null(ScalarType::Dynamic),
            value => Literal::Dynamic(value),
        };
        Ok(Expr {
            kind: ExprKind::Literal(literal),
            span: start.to(close),
        })
    }

    /// One JSON-like value: null, true, false, a number, a timespan, a
    /// string, a typed literal, an array, a property bag, or a nested
    /// `dynamic(...)`.
    fn parse_dynamic_value(&mut self) -> PResult<DynamicLiteral> {
        self.enter(self.peek().span)?;
        let value = match self.kind_at(0) {
            TokenKind::LBracket => self.parse_dynamic_array(),
            TokenKind::LBrace => self.parse_dynamic_bag(),
            TokenKind::Ident(word)
                if Keyword::from_word(word) == Some(Keyword::Dynamic)
                    && *self.kind_at(1) == TokenKind::LParen =>
            {
                self.parse_nested_dynamic()
            }
            _ => self.parse_dynamic_scalar(),
        };
        self.depth -= 1;
        value
    }

    /// `dynamic(VALUE)` inside a dynamic value is just the value.
    fn parse_nested_dynamic(&mut self) -> PResult<DynamicLiteral> {
        self.advance();
        self.advance();
        let value = self.parse_dynamic_value()?;
        self.expect(&TokenKind::RParen, "`)`")?;
        Ok(value)
    }

    fn parse_dynamic_array(&mut self) -> PResult<DynamicLiteral> {
        self.advance();
        let mut items = Vec::new();
        if self.eat(&TokenKind::RBracket).is_some() {
            return Ok(DynamicLiteral::Array(items));
        }
        loop {
            items.push(self.parse_dynamic_value()?);
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(&TokenKind::RBracket, "`,` or `]`")?;
        Ok(DynamicLiteral::Array(items))
    }

    fn parse_dynamic_bag(&mut self) -> PResult<DynamicLiteral> {
        self.advance();
        let mut pairs = Vec::new();
        if self.eat(&TokenKind::RBrace).is_some() {
            return Ok(DynamicLiteral::Bag(pairs));
        }
        loop {
            let key = self.parse_dynamic_key()?;
            pairs.push((key, self.parse_dynamic_value()?));
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(&TokenKind::RBrace, "`,` or `}`")?;
        Ok(DynamicLiteral::Bag(pairs))
    }

    /// `"key":` in a property bag.
    #[inline(never)]
    fn parse_dynamic_key(&mut self) -> PResult<String> {
        let TokenKind::String(key) = self.kind_at(0).clone() else {
            return Err(self.unexpected("a property name in quotes").into());
        };
        self.advance();
        self.expect(&TokenKind::Colon, "`:`")?;
        Ok(key)
    }

    /// A scalar inside `dynamic(...)`: null, true, false, a (negative)
    /// number, a timespan, strings or a typed literal.
    #[inline(never)]
    fn parse_dynamic_scalar(&mut self) -> PResult<DynamicLiteral> {
        let token = self.peek();
        let span = token.span;
        let literal = match &token.kind {
            TokenKind::Minus => {
                self.advance();
                let literal = match self.kind_at(0) {
                    TokenKind::Long(value) => Literal::Long(-value),
                    TokenKind::Real(value) => Literal::Real(-value),
                    _ => return Err(self.unexpected("a number after `-`").into()),
                };
                self.advance();
                literal
            }
            TokenKind::Long(value) => {
                let literal = Literal::Long(*value);
                self.advance();
                literal
            }
            TokenKind::Real(value) => {
                let literal = Literal::Real(*value);
                self.advance();
                literal
            }
            TokenKind::TimeSpan(ticks) => {
                let literal = Literal::TimeSpan(*ticks);
                self.advance();
                literal
            }
            TokenKind::String(_) => match self.parse_strings().kind {
                ExprKind::Literal(literal) => literal,
                _ => return Err(self.unexpected("a string").into()),
            },
            TokenKind::TypedLiteral {
                type_name, content, ..
            } => {
                let literal = lexer::decode_typed_literal(type_name, content, span)?;
                self.advance();
                // Inside a dynamic value a typed null is JSON's null.
                if let Literal::Null(_) = literal {
                    return Ok(DynamicLiteral::Null);
                }
                literal
            }
            TokenKind::Ident(word) => {
                let literal = match Keyword::from_word(word) {
                    Some(Keyword::Null) => {
                        self.advance();
                        return Ok(DynamicLiteral::Null);
                    }
                    Some(Keyword::True) => Literal::Bool(true),
                    Some(Keyword::False) => Literal::Bool(false),
                    _ => return Err(self.dynamic_value_expected().into()),
                };
                self.advance();
                literal
            }
            _ => return Err(self.dynamic_value_expected().into()),
        };
        Ok(DynamicLiteral::Scalar(Box::new(literal)))
    }

    fn dynamic_value_expected(&self) -> Diagnostic {
        self.unexpected("a dynamic value (null, true, false, a number, a string, [...] or {...})")
            .with_note("dynamic(...) holds literal values only; use pack_array() or bag_pack() to build values from columns")
    }
}
