//! User-defined functions (`let f = (x: long) { ... }`): arguments bound in
//! the caller's scope, bodies inlined at each call.

use super::expr::comparable;
use super::{empty_query, poisoned, Checker};
use crate::diag::{closest_name, Code, Diagnostic};
use crate::sema::{CheckedQuery, TypedExpr};
use crate::syntax::ast::{self, Expr, ExprKind, Ident, Source, Span, TabularExpr};
use std::collections::HashMap;

/// An argument of a user-defined function, checked in the caller's scope.
enum BoundArg {
    Scalar(TypedExpr),
    Tabular(Box<CheckedQuery>),
}

/// The names a function body sees, saved while it is checked.
struct Scope {
    scalars: HashMap<String, TypedExpr>,
    tabulars: HashMap<String, CheckedQuery>,
    user_functions: HashMap<String, ast::Function>,
}

impl Checker<'_> {
    /// A scalar call of a user-defined function: its body checked with the
    /// parameters bound to the arguments (the body is inlined).
    /// The arguments of a call of a user-defined function in parameter
    /// order: named ones (`f(x, limit = 5)`) go to their parameter; a
    /// skipped parameter takes its default. `skip`: parameters already
    /// bound (the input of `invoke`). `None` after reporting an error.
    pub(super) fn positional_arguments(
        &mut self,
        name: &Ident,
        function: &ast::Function,
        args: Vec<ast::Argument>,
        skip: usize,
    ) -> Option<Vec<ast::Argument>> {
        let named = |arg: &ast::Argument| {
            matches!(
                arg,
                ast::Argument::Scalar(Expr {
                    kind: ExprKind::NamedArgument { .. },
                    ..
                })
            )
        };
        if !args.iter().any(named) {
            return Some(args);
        }
        let params = function.params.get(skip..).unwrap_or_default();
        let mut slots: Vec<Option<ast::Argument>> = vec![None; params.len()];
        let mut position = 0;
        for arg in args {
            let (slot, arg) = match arg {
                ast::Argument::Scalar(Expr {
                    kind: ExprKind::NamedArgument { name: param, value },
                    ..
                }) => {
                    let Some(slot) = params.iter().position(|p| p.name.name == param.name) else {
                        self.error(
                            Diagnostic::new(
                                Code::WrongArgumentCount,
                                format!(
                                    "function '{}' has no parameter '{}'",
                                    name.name, param.name
                                ),
                                param.span,
                            )
                            .with_label("no such parameter"),
                        );
                        return None;
                    };
                    (slot, ast::Argument::Scalar(*value))
                }
                positional => {
                    position += 1;
                    (position - 1, positional)
                }
            };
            if slot >= slots.len() || slots[slot].is_some() {
                let label = if slot >= slots.len() {
                    let n = slots.len();
                    format!(
                        "'{}' takes {n} argument{}",
                        name.name,
                        if n == 1 { "" } else { "s" }
                    )
                } else {
                    format!("parameter '{}' is given twice", params[slot].name.name)
                };
                self.error(
                    Diagnostic::new(
                        Code::WrongArgumentCount,
                        format!(
                            "too many arguments, or one given twice, in the call of '{}'",
                            name.name
                        ),
                        name.span,
                    )
                    .with_label(label),
                );
                return None;
            }
            slots[slot] = Some(arg);
        }
        let given = slots.iter().rposition(Option::is_some).map_or(0, |i| i + 1);
        let mut ordered = Vec::new();
        for (slot, param) in slots.into_iter().take(given).zip(params) {
            match (slot, &param.kind) {
                (Some(arg), _) => ordered.push(arg),
                (
                    None,
                    ast::ParamKind::Scalar {
                        default: Some(default),
                        ..
                    },
                ) => ordered.push(ast::Argument::Scalar(default.clone())),
                (None, _) => {
                    self.error(
                        Diagnostic::new(
                            Code::WrongArgumentCount,
                            format!(
                                "the call of '{}' gives no value for parameter '{}'",
                                name.name, param.name.name
                            ),
                            name.span,
                        )
                        .with_label("missing argument"),
                    );
                    return None;
                }
            }
        }
        Some(ordered)
    }

    pub(super) fn inline_call(
        &mut self,
        name: &Ident,
        function: &ast::Function,
        args: Vec<TypedExpr>,
        span: Span,
    ) -> TypedExpr {
        if let ast::FunctionBody::Tabular(_) = function.body {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("function '{}' returns a table, not a scalar", name.name),
                    span,
                )
                .with_label("a tabular function where a scalar is expected")
                .with_help(format!(
                    "use it as a tabular source: `{}(...) | ...`",
                    name.name
                )),
            );
            return poisoned(span);
        }
        let args = args.into_iter().map(BoundArg::Scalar).collect();
        let Some(scope) = self.enter_function(name, function, args, span) else {
            return poisoned(span);
        };
        let body = match &function.body {
            ast::FunctionBody::Scalar(expr) => self.expr(expr, &[]),
            ast::FunctionBody::Tabular(_) => poisoned(span),
        };
        self.leave_function(scope);
        TypedExpr { span, ..body }
    }

    /// A call of a user-defined function in tabular position: `f(...)`, or
    /// `invoke f(...)` with the rows so far (`input`) as first argument.
    pub(super) fn tabular_call(
        &mut self,
        call: &ast::Call,
        input: Option<CheckedQuery>,
    ) -> CheckedQuery {
        let Some(function) = self.user_functions.get(&call.name.name).cloned() else {
            if call.name.name == "graph" && input.is_none() {
                // `graph("Model")`: a persistent graph of a Kusto database.
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        "the persistent graph source `graph()` is not supported yet",
                        call.span,
                    )
                    .with_label("valid KQL that kqlc cannot compile yet")
                    .with_help("a detector has no graph models: build the graph from rows with `make-graph`"),
                );
                return empty_query();
            }
            let mut diagnostic = Diagnostic::new(
                Code::UnknownFunction,
                format!("unknown tabular function '{}'", call.name.name),
                call.name.span,
            )
            .with_label("not a user-defined function (`let f = (...) { ... }`)");
            let names = self.user_functions.keys().map(String::as_str);
            if let Some(best) = closest_name(&call.name.name, names) {
                diagnostic = diagnostic.with_help(format!("did you mean '{best}'?"));
            }
            self.error(diagnostic);
            return empty_query();
        };
        // Arguments are checked in the caller's scope, before any parameter
        // is bound.
        let mut args: Vec<BoundArg> = input
            .into_iter()
            .map(|q| BoundArg::Tabular(Box::new(q)))
            .collect();
        let Some(written) =
            self.positional_arguments(&call.name, &function, call.args.clone(), args.len())
        else {
            return empty_query();
        };
        for arg in &written {
            let wants_table = matches!(
                function.params.get(args.len()).map(|p| &p.kind),
                Some(ast::ParamKind::Tabular(_))
            );
            args.push(match arg {
                ast::Argument::Tabular(tabular) => {
                    BoundArg::Tabular(Box::new(self.tabular(tabular)))
                }
                ast::Argument::Scalar(Expr {
                    kind: ExprKind::Name(ident),
                    span,
                }) if wants_table && self.is_tabular_name(&ident.name) => {
                    let tabular = TabularExpr {
                        source: Source::Named(ident.clone()),
                        operators: Vec::new(),
                        span: *span,
                    };
                    BoundArg::Tabular(Box::new(self.tabular(&tabular)))
                }
                ast::Argument::Scalar(expr) => BoundArg::Scalar(self.expr(expr, &[])),
            });
        }
        let Some(scope) = self.enter_function(&call.name, &function, args, call.span) else {
            return empty_query();
        };
        let result = match &function.body {
            ast::FunctionBody::Tabular(tabular) => self.tabular(tabular),
            ast::FunctionBody::Scalar(Expr {
                kind: ExprKind::Name(ident),
                span,
            }) if self.is_tabular_name(&ident.name) => {
                let tabular = TabularExpr {
                    source: Source::Named(ident.clone()),
                    operators: Vec::new(),
                    span: *span,
                };
                self.tabular(&tabular)
            }
            ast::FunctionBody::Scalar(expr) => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "function '{}' returns a scalar, not a table",
                            call.name.name
                        ),
                        call.span,
                    )
                    .with_label("used as a tabular source here")
                    .with_note(format!("its body is `{expr}`")),
                );
                empty_query()
            }
        };
        self.leave_function(scope);
        result
    }

    /// Binds a function's parameters to `args` (defaults fill missing
    /// scalar ones) and its body's `let`s; returns the caller's scope to
    /// restore, or `None` after reporting why the call is wrong.
    fn enter_function(
        &mut self,
        name: &Ident,
        function: &ast::Function,
        args: Vec<BoundArg>,
        span: Span,
    ) -> Option<Scope> {
        let required = function
            .params
            .iter()
            .take_while(|p| {
                !matches!(
                    p.kind,
                    ast::ParamKind::Scalar {
                        default: Some(_),
                        ..
                    }
                )
            })
            .count();
        if args.len() < required || args.len() > function.params.len() {
            let count = function.params.len();
            let takes = if required == count {
                format!("{count} argument{}", if count == 1 { "" } else { "s" })
            } else {
                format!("{required} to {count} arguments")
            };
            self.error(
                Diagnostic::new(
                    Code::WrongArgumentCount,
                    format!(
                        "function '{}' takes {takes}, but {} {} given",
                        name.name,
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                    span,
                )
                .with_label(format!(
                    "{} argument{}",
                    args.len(),
                    if args.len() == 1 { "" } else { "s" }
                )),
            );
            return None;
        }
        if self.inline_depth >= 32 {
            self.error(Diagnostic::new(
                Code::Unsupported,
                format!(
                    "function '{}' calls itself too deeply (recursion is not supported)",
                    name.name
                ),
                span,
            ));
            return None;
        }
        let mut bound: Vec<(String, BoundArg)> = Vec::new();
        let mut args = args.into_iter();
        for param in &function.params {
            let arg = match (args.next(), &param.kind) {
                (Some(arg), _) => arg,
                (
                    None,
                    ast::ParamKind::Scalar {
                        default: Some(default),
                        ..
                    },
                ) => BoundArg::Scalar(self.expr(default, &[])),
                (None, _) => return None,
            };
            match (&param.kind, arg) {
                (ast::ParamKind::Scalar { ty, .. }, BoundArg::Scalar(arg)) => {
                    if !comparable(*ty, arg.ty) {
                        self.error(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                format!(
                                    "parameter '{}' of '{}' is {ty}, found {}",
                                    param.name.name, name.name, arg.ty
                                ),
                                arg.span,
                            )
                            .with_label(format!("of type {}", arg.ty)),
                        );
                    }
                    bound.push((param.name.name.clone(), BoundArg::Scalar(arg)));
                }
                (ast::ParamKind::Tabular(columns), BoundArg::Tabular(table)) => {
                    for (column, ty) in columns.iter().flatten() {
                        let found = table.output.iter().find(|c| c.name == column.name);
                        let problem = match found {
                            None => Some("has no such column".to_string()),
                            Some(c) if !comparable(c.ty, *ty) => {
                                Some(format!("has it as {}", c.ty))
                            }
                            Some(_) => None,
                        };
                        if let Some(problem) = problem {
                            self.error(
                                Diagnostic::new(
                                    Code::TypeMismatch,
                                    format!(
                                        "parameter '{}' of '{}' needs a column '{}' of type {ty}, but the table given {problem}",
                                        param.name.name, name.name, column.name
                                    ),
                                    span,
                                )
                                .with_label("in this call"),
                            );
                        }
                    }
                    bound.push((param.name.name.clone(), BoundArg::Tabular(table)));
                }
                (ast::ParamKind::Scalar { .. }, BoundArg::Tabular(_)) => {
                    self.error(Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "parameter '{}' of '{}' is a scalar, but a table was given",
                            param.name.name, name.name
                        ),
                        span,
                    ));
                    return None;
                }
                (ast::ParamKind::Tabular(_), BoundArg::Scalar(arg)) => {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!(
                                "parameter '{}' of '{}' is a table, but a scalar was given",
                                param.name.name, name.name
                            ),
                            arg.span,
                        )
                        .with_label("not a table"),
                    );
                    return None;
                }
            }
        }
        let scope = Scope {
            scalars: self.scalars.clone(),
            tabulars: self.tabulars.clone(),
            user_functions: self.user_functions.clone(),
        };
        for (param, arg) in bound {
            match arg {
                BoundArg::Scalar(value) => {
                    self.tabulars.remove(&param);
                    self.user_functions.remove(&param);
                    self.scalars.insert(param, value);
                }
                BoundArg::Tabular(table) => {
                    self.scalars.remove(&param);
                    self.user_functions.remove(&param);
                    self.tabulars.insert(param, *table);
                }
            }
        }
        self.inline_depth += 1;
        for binding in &function.lets {
            self.bind(binding);
        }
        Some(scope)
    }

    /// Restores the caller's names after a function body.
    fn leave_function(&mut self, scope: Scope) {
        self.inline_depth -= 1;
        self.scalars = scope.scalars;
        self.tabulars = scope.tabulars;
        self.user_functions = scope.user_functions;
    }
}
