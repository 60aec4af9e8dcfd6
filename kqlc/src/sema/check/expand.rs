//! `mv-expand`, `mv-apply` and `parse`: operators that make several rows or
//! columns from one value.

use super::{place, reads_input_table, Checker};
use crate::diag::{Code, Diagnostic};
use crate::sema::names::default_name;
use crate::sema::{ApplyColumn, CheckedOp, CheckedQuery, CheckedSource, Column};
use crate::syntax::ast::{self, ExprKind, Span};
use crate::types::ScalarType;

impl Checker<'_> {
    /// `mv-expand`: the expanded items replace or append columns.
    pub(super) fn mv_expand(
        &mut self,
        expand: &ast::MvExpand,
        input: &[Column],
    ) -> (CheckedOp, Vec<Column>) {
        let mut columns = input.to_vec();
        let mut items = Vec::new();
        for item in &expand.items {
            let typed = self.expr(&item.expr, input);
            if typed.ty != ScalarType::Dynamic {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!("mv-expand needs a dynamic array or bag, found {}", typed.ty),
                        item.expr.span,
                    )
                    .with_label(format!("of type {}", typed.ty)),
                );
            }
            let name = match (&item.name, &item.expr.kind) {
                (Some(name), _) => name.name.clone(),
                (None, ExprKind::Name(ident)) => ident.name.clone(),
                (None, _) => match default_name(&item.expr) {
                    Some(name) => name,
                    None => {
                        self.error(
                            Diagnostic::new(
                                Code::UnexpectedToken,
                                "mv-expand of an expression needs a column name",
                                item.expr.span,
                            )
                            .with_help("write `mv-expand NAME = EXPRESSION`"),
                        );
                        continue;
                    }
                },
            };
            let ty = item.to_type.unwrap_or(ScalarType::Dynamic);
            let position = place(&mut columns, &name, ty);
            items.push((position, typed));
        }
        let limit = expand
            .limit
            .as_ref()
            .map(|e| self.constant_count(e, "mv-expand limit"));
        let item_index = expand
            .item_index
            .as_ref()
            .map(|name| place(&mut columns, &name.name, ScalarType::Long));
        (
            CheckedOp::MvExpand {
                items,
                limit,
                item_index,
                bag_as_array: expand.bag_as_array,
            },
            columns,
        )
    }

    /// `mv-apply`: the subquery is checked over the expanded subtable; the
    /// output is the input's columns that were not expanded, then the
    /// subquery's other columns.
    pub(super) fn mv_apply(
        &mut self,
        apply: &ast::MvApply,
        input: &[Column],
        span: Span,
    ) -> (CheckedOp, Vec<Column>) {
        if apply.expand.bag_as_array {
            self.error(
                Diagnostic::new(
                    Code::Unsupported,
                    "mv-apply has no `kind=array`; expand bags with an `mv-expand` in the subquery",
                    span,
                )
                .with_label("`kind=array` is an option of `mv-expand`, not of `mv-apply`"),
            );
        }
        let (expand, subtable) = self.mv_expand(&apply.expand, input);
        let mut sub = CheckedQuery {
            source: CheckedSource::Rows {
                columns: subtable.clone(),
                rows: Vec::new(),
            },
            stages: Vec::new(),
            output: subtable.clone(),
        };
        let outer = self.graph_refused_in.replace(("mv-apply", false));
        for operator in &apply.subquery {
            sub = self.push_operator(sub, operator);
        }
        self.graph_refused_in = outer;
        if reads_input_table(&sub, true) {
            self.error(Diagnostic::new(
                Code::Unsupported,
                "an mv-apply subquery that reads a table or a file (in a join or union) is not supported yet",
                span,
            ));
        }
        // Input columns replaced by an expanded item (same name) are not
        // carried over: the subquery's columns stand for them.
        let expanded_names: Vec<&str> = match &expand {
            CheckedOp::MvExpand {
                items, item_index, ..
            } => items
                .iter()
                .map(|(position, _)| *position)
                .chain(*item_index)
                .filter_map(|p| subtable.get(p).map(|c| c.name.as_str()))
                .collect(),
            _ => Vec::new(),
        };
        let mut layout = Vec::new();
        let mut output = Vec::new();
        for (i, column) in input.iter().enumerate() {
            if expanded_names.contains(&column.name.as_str()) {
                continue;
            }
            // A column the subquery also returns takes the subquery's value.
            match sub.output.iter().position(|c| c.name == column.name) {
                Some(j) => {
                    layout.push(ApplyColumn::Sub(j));
                    output.push(sub.output[j].clone());
                }
                None => {
                    layout.push(ApplyColumn::Outer(i));
                    output.push(column.clone());
                }
            }
        }
        for (j, column) in sub.output.iter().enumerate() {
            if !output.iter().any(|c: &Column| c.name == column.name) {
                layout.push(ApplyColumn::Sub(j));
                output.push(column.clone());
            }
        }
        (
            CheckedOp::MvApply {
                expand: Box::new(expand),
                sub: Box::new(sub),
                layout,
            },
            output,
        )
    }

    /// `parse`: the pattern as a regular expression, and the new columns.
    pub(super) fn parse_operator(
        &mut self,
        parse: &ast::Parse,
        input: &[Column],
    ) -> (CheckedOp, Vec<Column>) {
        let expr = self.expr(&parse.expr, input);
        let mut columns = input.to_vec();
        let mut targets = Vec::new();
        let mut regex = String::from("^");
        let mut regex_ok = true;
        if let Some(flags) = &parse.flags {
            // RE2's flags, which the regex crate spells the same way.
            let valid = !flags.is_empty() && flags.chars().all(|c| "imsU".contains(c));
            if parse.kind != ast::ParseKind::Regex || !valid {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!("parse flags '{flags}' are not supported"),
                        parse.expr.span,
                    )
                    .with_note("kqlc takes the regex flags i, m, s and U, with kind=regex"),
                );
            } else {
                regex = format!("(?{flags})^");
            }
        }
        let last_column = parse
            .pattern
            .iter()
            .rposition(|p| matches!(p, ast::ParsePart::Column(..)));
        for (i, part) in parse.pattern.iter().enumerate() {
            match part {
                ast::ParsePart::Any => regex.push_str(".*?"),
                ast::ParsePart::Text(text, span) => match parse.kind {
                    ast::ParseKind::Regex => {
                        // Each piece alone first: one that only compiles
                        // inside the wrapping (`a)(b`) would change the
                        // pattern's meaning.
                        regex_ok &= self.check_regex_text(text, *span);
                        regex.push_str(&format!("(?:{text})"));
                    }
                    _ => regex.push_str(&regex::escape(text)),
                },
                ast::ParsePart::Column(name, ty) => {
                    let ty = ty.unwrap_or(ScalarType::String);
                    // A column at the end takes the rest of the text.
                    let ends = Some(i) == last_column && i + 1 == parse.pattern.len();
                    let capture = match (parse.kind, ty) {
                        (ast::ParseKind::Simple, ScalarType::Long | ScalarType::Int) => r"(-?\d+)",
                        (ast::ParseKind::Simple, ScalarType::Real) => {
                            r"(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)"
                        }
                        (ast::ParseKind::Regex, _) | (_, _) if ends => "(.*)",
                        (ast::ParseKind::Regex, _) => "(.*)",
                        _ => "(.*?)",
                    };
                    regex.push_str(capture);
                    targets.push((place(&mut columns, &name.name, ty), ty));
                }
            }
        }
        if let (true, Err(error)) = (regex_ok, regex::Regex::new(&regex)) {
            self.error(
                Diagnostic::new(
                    Code::InvalidLiteral,
                    "invalid parse pattern",
                    parse.expr.span,
                )
                .with_note(
                    error
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .to_string(),
                ),
            );
        }
        (
            CheckedOp::Parse {
                expr,
                regex,
                targets,
                relaxed: parse.kind == ast::ParseKind::Relaxed,
                drop_unmatched: parse.drop_unmatched,
            },
            columns,
        )
    }
}
