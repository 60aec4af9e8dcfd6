//! `parse-kv EXPR as (KEY: TYPE, ...) with (OPTIONS)`, rewritten into
//! operators the checker already knows: an `extend` of a hidden column
//! holding the bag of every pair the runtime's `parse_kv` finds, an
//! `extend` of each listed key converted to its type (a missing key, or a
//! value that does not convert, is null; a missing string is `""`), and a
//! `project-away` of the hidden column. The options are checked here, each
//! bad one a located error.

use super::evaluate::{call_expr, converted, ident, index_expr, name_expr, named, string_expr};
use super::Checker;
use crate::diag::{Code, Diagnostic};
use crate::sema::{CheckedQuery, TypedExprKind};
use crate::syntax::ast::{
    self, ColumnPattern, Expr, ExprKind, Literal, Operator, OperatorKind, Span,
};

/// The hidden column of the bag (no KQL name can hold its first character).
const BAG_COLUMN: &str = "\u{1}parse-kv";

/// The options `with (...)` accepts.
const OPTIONS: &[&str] = &[
    "pair_delimiter",
    "kv_delimiter",
    "quote",
    "escape",
    "greedy",
    "regex",
];

/// The checked options, as the runtime's `parse_kv` takes them.
#[derive(Default)]
struct KvOptions {
    pair: Option<String>,
    kv: Option<String>,
    quotes: String,
    escapes: String,
    greedy: bool,
    regex: Option<String>,
}

impl Checker<'_> {
    /// `query | parse-kv ...`.
    pub(super) fn parse_kv(
        &mut self,
        query: CheckedQuery,
        span: Span,
        kv: &ast::ParseKv,
    ) -> CheckedQuery {
        let Some(options) = self.parse_kv_options(kv, span) else {
            return query;
        };
        let text = |t: Option<String>| string_expr(&t.unwrap_or_default(), span);
        let bag = call_expr(
            "parse-kv",
            vec![
                call_expr("tostring", vec![kv.expr.clone()], kv.expr.span),
                text(options.pair),
                text(options.kv),
                string_expr(&options.quotes, span),
                string_expr(&options.escapes, span),
                Expr {
                    kind: ExprKind::Literal(Literal::Bool(options.greedy)),
                    span,
                },
                text(options.regex),
            ],
            span,
        );
        let columns = kv
            .keys
            .iter()
            .map(|(key, ty)| {
                let value = index_expr(
                    name_expr(BAG_COLUMN, key.span),
                    string_expr(&key.name, key.span),
                    key.span,
                );
                named(&key.name, converted(value, *ty, key.span))
            })
            .collect();
        let kinds = vec![
            OperatorKind::Extend(vec![named(BAG_COLUMN, bag)]),
            OperatorKind::Extend(columns),
            OperatorKind::ProjectAway(vec![ColumnPattern {
                name: ident(BAG_COLUMN, span),
                wildcard: false,
            }]),
        ];
        let mut query = query;
        for kind in kinds {
            query = self.push_operator(query, &Operator { kind, span });
        }
        query
    }

    /// The `with (...)` options, or `None` after an error.
    fn parse_kv_options(&mut self, kv: &ast::ParseKv, span: Span) -> Option<KvOptions> {
        let mut options = KvOptions::default();
        let mut ok = true;
        for (name, value) in &kv.options {
            let literal = match self.expr(value, &[]).kind {
                TypedExprKind::Literal(literal) => Some(literal),
                _ => None,
            };
            let text = match &literal {
                Some(Literal::String(text)) => Some(text.clone()),
                _ => None,
            };
            let bad = |what: &str| {
                Diagnostic::new(
                    Code::InvalidLiteral,
                    format!("parse-kv option '{}' needs {what}", name.name),
                    value.span,
                )
                .with_label("not accepted here")
            };
            let error = match (name.name.as_str(), text) {
                ("pair_delimiter" | "kv_delimiter", Some(t)) if !t.is_empty() => {
                    let slot = if name.name == "pair_delimiter" {
                        &mut options.pair
                    } else {
                        &mut options.kv
                    };
                    *slot = Some(t);
                    None
                }
                ("pair_delimiter" | "kv_delimiter", _) => Some(bad("a non-empty string constant")),
                ("quote", Some(t)) if (1..=2).contains(&t.chars().count()) => {
                    let mut chars = t.chars();
                    let open = chars.next().unwrap_or('"');
                    options.quotes.push(open);
                    options.quotes.push(chars.next().unwrap_or(open));
                    None
                }
                ("quote", _) => Some(bad("a string constant of one or two characters")),
                ("escape", Some(t)) if t.chars().count() == 1 => {
                    options.escapes.push_str(&t);
                    None
                }
                ("escape", _) => Some(bad("a string constant of one character")),
                ("greedy", _) => match literal {
                    Some(Literal::Bool(b)) => {
                        options.greedy = b;
                        None
                    }
                    _ => Some(bad("`true` or `false`")),
                },
                ("regex", Some(t)) => match regex::Regex::new(&t) {
                    Ok(re) if re.captures_len() == 3 => {
                        options.regex = Some(t);
                        None
                    }
                    Ok(_) => Some(
                        Diagnostic::new(
                            Code::InvalidLiteral,
                            "the parse-kv regex needs exactly two capturing groups (key and value)",
                            value.span,
                        )
                        .with_label("not two groups"),
                    ),
                    Err(e) => Some(
                        Diagnostic::new(
                            Code::InvalidLiteral,
                            "invalid regular expression",
                            value.span,
                        )
                        .with_label(e.to_string().lines().last().unwrap_or("").to_string()),
                    ),
                },
                ("regex", _) => Some(bad("a string constant")),
                _ => {
                    let mut d = Diagnostic::new(
                        Code::InvalidLiteral,
                        format!("unknown parse-kv option '{}'", name.name),
                        name.span,
                    )
                    .with_label("not an option of parse-kv")
                    .with_note(format!("the options are {}", OPTIONS.join(", ")));
                    if let Some(best) =
                        crate::diag::closest_name(&name.name, OPTIONS.iter().copied())
                    {
                        d = d.with_help(format!("did you mean '{best}'?"));
                    }
                    Some(d)
                }
            };
            if let Some(error) = error {
                self.error(error);
                ok = false;
            }
        }
        let combination = if options.regex.is_some()
            && (options.pair.is_some()
                || options.kv.is_some()
                || !options.quotes.is_empty()
                || !options.escapes.is_empty()
                || options.greedy)
        {
            Some("`regex` cannot be combined with other options")
        } else if options.pair.is_some() != options.kv.is_some() {
            Some("`pair_delimiter` and `kv_delimiter` go together")
        } else if options.greedy && options.pair.is_none() {
            Some("`greedy` needs `pair_delimiter` and `kv_delimiter`")
        } else {
            None
        };
        if let Some(message) = combination {
            self.error(
                Diagnostic::new(Code::InvalidLiteral, message, span)
                    .with_label("these parse-kv options do not fit together"),
            );
            ok = false;
        }
        ok.then_some(options)
    }
}
