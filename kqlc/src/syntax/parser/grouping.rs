//! Grouping operators: `summarize`, `make-series`, `top-nested` and
//! `partition`.

use super::Parser;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{
    self, Expr, ExprKind, MakeSeries, NamedExpr, OperatorKind, SeriesAggregate, SeriesRange,
};
use crate::syntax::lexer::{Keyword, PResult, TokenKind};

impl Parser {
    /// The clauses of `top-nested` after the first operator name:
    /// `[N] of [NAME =] EXPR [with others = VALUE] by [NAME =] AGGREGATE
    /// [asc|desc]`, then `, top-nested ...` for each further level.
    pub(super) fn parse_top_nested(&mut self) -> PResult<Vec<ast::TopNestedLevel>> {
        let mut levels = Vec::new();
        loop {
            let count = if self.at_word("of") {
                None
            } else {
                Some(self.parse_expr()?)
            };
            self.expect_word("of")?;
            let of = self.parse_named_expr()?;
            let others = if self.at_word("with") {
                self.advance();
                self.expect_word("others")?;
                self.expect(&TokenKind::Assign, "`=`")?;
                Some(self.parse_expr()?)
            } else {
                None
            };
            self.expect_word("by")?;
            let by = self.parse_named_expr()?;
            let descending = if self.at_word("asc") {
                self.advance();
                false
            } else {
                if self.at_word("desc") {
                    self.advance();
                }
                true
            };
            levels.push(ast::TopNestedLevel {
                count,
                of,
                others,
                by,
                descending,
            });
            if self.eat(&TokenKind::Comma).is_none() {
                return Ok(levels);
            }
            let (name, span) = self.operator_name()?;
            if name != "top-nested" {
                return Err(Diagnostic::new(
                    Code::UnexpectedToken,
                    format!("expected `top-nested`, found `{name}`"),
                    span,
                )
                .with_label("each level of `top-nested` starts with `top-nested`")
                .into());
            }
        }
    }

    /// `partition [hint.NAME = VALUE ...] by COL (SUBQUERY)`; the legacy
    /// form with a source in braces is kept opaque, as not supported.
    pub(super) fn parse_partition(&mut self) -> PResult<ast::Partition> {
        let mut hints = Vec::new();
        for (name, value, span) in self.parse_options()? {
            if !name.starts_with("hint.") {
                return Err(Diagnostic::new(
                    Code::UnexpectedToken,
                    format!("`partition` has no option '{name}'"),
                    span,
                )
                .with_label("only `hint.*` options")
                .into());
            }
            hints.push((name, value));
        }
        self.expect_word("by")?;
        let by = self.parse_name("the partition column")?;
        if self.at(&TokenKind::LBrace) {
            return Err(Diagnostic::new(
                Code::Unsupported,
                "`partition ... { subquery with a source }` is not supported yet",
                self.peek().span,
            )
            .into());
        }
        self.expect(&TokenKind::LParen, "`(` and the subquery")?;
        let mut subquery = vec![self.parse_operator()?];
        while self.eat(&TokenKind::Pipe).is_some() {
            subquery.push(self.parse_operator()?);
        }
        self.expect(&TokenKind::RParen, "`|` or `)`")?;
        Ok(ast::Partition {
            hints,
            by,
            subquery,
        })
    }

    /// `summarize [AGGREGATES] [by GROUPS]`.
    pub(super) fn parse_summarize(&mut self) -> PResult<OperatorKind> {
        let aggregates = if self.at_word("by") && self.starts_name(1) {
            Vec::new()
        } else {
            self.parse_aggregate_list()?
        };
        let by = if self.at_word("by") {
            self.advance();
            self.parse_named_list()?
        } else {
            Vec::new()
        };
        Ok(OperatorKind::Summarize { aggregates, by })
    }

    /// `make-series` after the operator name: options, aggregates with
    /// their defaults, the axis and its range, `by` groups.
    pub(super) fn parse_make_series(&mut self) -> PResult<MakeSeries> {
        let mut nonempty = false;
        loop {
            if self.keyword_at(0) == Some(Keyword::Kind)
                && *self.kind_at(1) == TokenKind::Assign
                && *self.kind_at(3) != TokenKind::LParen
            {
                self.advance();
                self.advance();
                match self.word_at(0) {
                    Some("nonempty") => nonempty = true,
                    _ => return Err(self.unexpected("`nonempty`").into()),
                }
                self.advance();
            } else if self.word_at(0) == Some("hint") && *self.kind_at(1) == TokenKind::Dot {
                let before = self.pos;
                self.skip_hints()?;
                if self.pos == before {
                    break;
                }
            } else {
                break;
            }
        }
        let mut aggregates = Vec::new();
        loop {
            let name = if self.at_name_then_assign() {
                let name = self.parse_name("a column name")?;
                self.advance();
                Some(name)
            } else {
                None
            };
            let expr = self.parse_expr()?;
            let default = if self.at_word("default") && *self.kind_at(1) == TokenKind::Assign {
                self.advance();
                self.advance();
                Some(self.parse_expr()?)
            } else {
                None
            };
            aggregates.push(SeriesAggregate {
                item: NamedExpr {
                    name,
                    more_names: Vec::new(),
                    expr,
                },
                default,
            });
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect_word("on")?;
        let range_form = self.starts_name(0)
            && self.keyword_at(self.name_length(0)) == Some(Keyword::In)
            && self.word_at(self.name_length(0) + 1) == Some("range")
            && *self.kind_at(self.name_length(0) + 2) == TokenKind::LParen;
        let (axis, range) = if range_form {
            let name = self.parse_name("the axis column")?;
            let axis = Expr {
                span: name.span,
                kind: ExprKind::Name(name),
            };
            self.advance(); // `in`
            self.advance(); // `range`
            self.advance(); // `(`
            let start = self.parse_expr()?;
            self.expect(&TokenKind::Comma, "`,`")?;
            let stop = self.parse_expr()?;
            self.expect(&TokenKind::Comma, "`,`")?;
            let step = self.parse_expr()?;
            self.expect(&TokenKind::RParen, "`)`")?;
            (axis, SeriesRange::InRange { start, stop, step })
        } else {
            let axis = self.parse_expr()?;
            let from = if self.at_word("from") {
                self.advance();
                Some(self.parse_expr()?)
            } else {
                None
            };
            let to = if self.eat_keyword(Keyword::To).is_some() {
                Some(self.parse_expr()?)
            } else {
                None
            };
            self.expect_word("step")?;
            let step = self.parse_expr()?;
            (axis, SeriesRange::Step { from, to, step })
        };
        let by = if self.at_word("by") {
            self.advance();
            self.parse_named_list()?
        } else {
            Vec::new()
        };
        Ok(MakeSeries {
            nonempty,
            aggregates,
            axis,
            range,
            by,
        })
    }
}
