//! Operators that make rows or columns from a value: `mv-expand` (and
//! `mv-apply`'s expansion) and `parse`.

use super::Parser;
use crate::syntax::ast::{self, Expr, ExprKind, Literal, MvExpand, MvExpandItem};
use crate::syntax::lexer::{Keyword, PResult, TokenKind};

impl Parser {
    /// `mv-expand [kind=bag] [NAME =] EXPR [to typeof(TYPE)], ... [limit N]`.
    pub(super) fn parse_mv_expand(&mut self) -> PResult<MvExpand> {
        // Options come first: `kind=bag|array` (or `bagexpansion=`) and
        // `with_itemindex=NAME`.
        let mut bag_as_array = false;
        let mut item_index = None;
        while *self.kind_at(1) == TokenKind::Assign {
            match self.keyword_at(0) {
                Some(Keyword::Kind | Keyword::BagExpansion) => {
                    self.advance();
                    self.advance();
                    match self.word_at(0) {
                        Some("bag") => bag_as_array = false,
                        Some("array") => bag_as_array = true,
                        _ => return Err(self.unexpected("`bag` or `array`").into()),
                    }
                    self.advance();
                }
                Some(Keyword::WithItemIndex) => {
                    self.advance();
                    self.advance();
                    item_index = Some(self.parse_name("a column name for the item index")?);
                }
                _ => break,
            }
        }
        let mut items = Vec::new();
        loop {
            let name = if self.at_name_then_assign() {
                let name = self.parse_name("a column name")?;
                self.advance();
                Some(name)
            } else {
                None
            };
            let expr = self.parse_expr()?;
            let to_type = if self.eat_keyword(Keyword::To).is_some() {
                if self.eat_keyword(Keyword::Typeof).is_none() {
                    return Err(self.unexpected("`typeof`").into());
                }
                self.expect(&TokenKind::LParen, "`(`")?;
                let to_type = self.parse_type()?;
                self.expect(&TokenKind::RParen, "`)`")?;
                Some(to_type)
            } else {
                None
            };
            items.push(MvExpandItem {
                name,
                expr,
                to_type,
            });
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        let limit = if self.eat_keyword(Keyword::Limit).is_some() {
            Some(self.parse_expr()?)
        } else {
            None
        };
        Ok(MvExpand {
            items,
            limit,
            item_index,
            bag_as_array,
        })
    }

    /// `parse` after its name: `[kind=K] [flags=F] EXPR with PATTERN`.
    /// Or, with an option kqlc does not implement, what to report, the
    /// position back before the options.
    /// `parse-kv EXPR as (KEY: TYPE, ...) [with (NAME = VALUE, ...)]`.
    pub(super) fn parse_parse_kv(&mut self) -> PResult<ast::ParseKv> {
        let expr = self.parse_expr()?;
        self.expect_word("as")?;
        self.expect(&TokenKind::LParen, "`(`")?;
        let mut keys = Vec::new();
        loop {
            let name = self.parse_name("a key name")?;
            self.expect(&TokenKind::Colon, "`:` and the key's type")?;
            keys.push((name, self.parse_type()?));
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(&TokenKind::RParen, "`)`")?;
        let mut options = Vec::new();
        if self.at_word("with") {
            self.advance();
            self.expect(&TokenKind::LParen, "`(`")?;
            if self.eat(&TokenKind::RParen).is_none() {
                loop {
                    let mut name = self.parse_name("an option name")?;
                    name.name = name.name.to_ascii_lowercase();
                    self.expect(&TokenKind::Assign, "`=`")?;
                    options.push((name, self.parse_expr()?));
                    if self.eat(&TokenKind::Comma).is_none() {
                        break;
                    }
                }
                self.expect(&TokenKind::RParen, "`)`")?;
            }
        }
        Ok(ast::ParseKv {
            expr,
            keys,
            options,
        })
    }

    pub(super) fn parse_parse(
        &mut self,
        drop_unmatched: bool,
    ) -> PResult<Result<ast::Parse, String>> {
        let (pos, last_end) = (self.pos, self.last_end);
        let mut kind = ast::ParseKind::Simple;
        let mut flags = None;
        for (name, value, _) in self.parse_options()? {
            match (name.as_str(), value.as_str()) {
                ("kind", "simple") => kind = ast::ParseKind::Simple,
                ("kind", "regex") => kind = ast::ParseKind::Regex,
                ("kind", "relaxed") => kind = ast::ParseKind::Relaxed,
                ("flags", _) => {
                    flags = Some(value.trim_matches(|c| c == '"' || c == '\'').to_string())
                }
                _ => {
                    (self.pos, self.last_end) = (pos, last_end);
                    return Ok(Err(format!("parse option '{name}={value}'")));
                }
            }
        }
        let expr = self.parse_expr()?;
        self.expect_word("with")?;
        let mut pattern = Vec::new();
        loop {
            match self.kind_at(0) {
                TokenKind::Star => {
                    self.advance();
                    pattern.push(ast::ParsePart::Any);
                }
                TokenKind::String(_) => {
                    let Expr {
                        kind: ExprKind::Literal(Literal::String(text)),
                        span,
                    } = self.parse_strings()
                    else {
                        return Err(self.unexpected("a string").into());
                    };
                    pattern.push(ast::ParsePart::Text(text, span));
                }
                _ if self.starts_name(0) => {
                    let name = self.parse_name("a column name")?;
                    let ty = if self.eat(&TokenKind::Colon).is_some() {
                        Some(self.parse_type()?)
                    } else {
                        None
                    };
                    pattern.push(ast::ParsePart::Column(name, ty));
                }
                _ => break,
            }
            self.eat(&TokenKind::Comma);
        }
        if !pattern
            .iter()
            .any(|p| matches!(p, ast::ParsePart::Column(..)))
        {
            return Err(self.unexpected("a column name in the parse pattern").into());
        }
        Ok(Ok(ast::Parse {
            drop_unmatched,
            kind,
            flags,
            expr,
            pattern,
        }))
    }
}
