//! Desugaring: operators that are shorthand for others are rewritten, on
//! the AST, into the operators they stand for. This is a pass of its own,
//! run on the whole query after parsing and before checking
//! ([`query`]): every pipeline is rewritten, including those nested in
//! expressions (`toscalar`, `in (T | ...)`), joins, unions, `let` bindings,
//! function bodies, `mv-apply` and `partition` subqueries. A rewritten
//! operator's replacements carry the original operator's span, so the
//! checker's messages point at what the user wrote.
//!
//! What stays in the checker, and why:
//! - **Row functions** (`row_number`, `prev`, ...; `check/windows.rs`): the
//!   `Window` stage's columns take the types of the calls' checked
//!   arguments, and the operator that reads them must be checked with
//!   those columns in scope.
//! - **`let` and user-defined function inlining** (`check/user_functions.rs`):
//!   a binding is checked once in its own scope, and an argument is bound
//!   in the caller's scope; both need the checker's scopes and types.
//! - **`pack_all()` / `bag_pack_columns()`** (`check/calls.rs`): they stand
//!   for the columns of the row, known only after the operators before them
//!   are checked.

use super::aggregates;
use super::names::item_name;
use crate::syntax::ast::{
    self, Argument, Expr, ExprKind, FunctionBody, Ident, LetValue, OperatorKind, ParamKind, Source,
    Span, Statement, TabularExpr,
};

/// Desugars every pipeline of `query`, in place.
pub fn query(query: &mut ast::Query) {
    for statement in &mut query.statements {
        match statement {
            Statement::Let(binding) => let_binding(binding),
            Statement::Tabular(tabular) => self::tabular(tabular),
            Statement::Set(option) => expr(&mut option.value),
            Statement::Unimplemented(_) => {}
        }
    }
}

fn let_binding(binding: &mut ast::Let) {
    match &mut binding.value {
        LetValue::Scalar(e) => expr(e),
        LetValue::Tabular(t) => tabular(t),
        LetValue::Function(function) => {
            for param in &mut function.params {
                if let ParamKind::Scalar {
                    default: Some(e), ..
                } = &mut param.kind
                {
                    expr(e);
                }
            }
            function.lets.iter_mut().for_each(let_binding);
            match &mut function.body {
                FunctionBody::Scalar(e) => expr(e),
                FunctionBody::Tabular(t) => tabular(t),
            }
        }
    }
}

fn tabular(tabular: &mut TabularExpr) {
    if let Source::Search(search, span) = &mut tabular.source {
        // `search [in (T, ...)] P`: the tables' rows (the checker makes
        // them a `union withsource=$table`), then `where P`.
        let predicate = std::mem::replace(
            &mut search.predicate,
            Expr {
                kind: ExprKind::Star,
                span: *span,
            },
        );
        let filter = search_predicate(&predicate, search.case_sensitive);
        tabular.operators.insert(
            0,
            ast::Operator {
                kind: OperatorKind::Where(filter),
                span: predicate.span,
            },
        );
    }
    if let Source::Find(find, _) = &mut tabular.source {
        // A term where a condition stands tests every column, as in
        // `search` (find-operator.md, predicate syntax).
        find.predicate = search_predicate(&find.predicate, false);
    }
    source(&mut tabular.source);
    let table = match &tabular.source {
        Source::Named(name) => Some(name.name.clone()),
        // Its rows have `$table` already.
        Source::Search(..) => None,
        _ => Some(String::new()),
    };
    pipeline(&mut tabular.operators, table.as_deref());
}

/// Rewrites each shorthand operator of `operators` into what it stands for,
/// then walks every operator for nested pipelines.
///
/// `table` names the pipeline's rows for `search`'s `$table` column: the
/// source table's name, empty for rows of another source, `None` when they
/// have a `$table` column already.
fn pipeline(operators: &mut Vec<ast::Operator>, table: Option<&str>) {
    let mut desugared = Vec::with_capacity(operators.len());
    for op in std::mem::take(operators) {
        match operator(&op, table) {
            Some(replacements) => desugared.extend(replacements),
            None => desugared.push(op),
        }
    }
    *operators = desugared;
    operators.iter_mut().for_each(nested);
}

fn source(source: &mut Source) {
    match source {
        Source::Named(_) | Source::Unimplemented(_) => {}
        Source::Print(items, _) => named(items),
        Source::Datatable(table) => table.values.iter_mut().for_each(expr),
        Source::Union(union, _) => union.tables.iter_mut().for_each(tabular),
        Source::Nested(t) => tabular(t),
        Source::Range(range) => {
            expr(&mut range.from);
            expr(&mut range.to);
            expr(&mut range.step);
        }
        Source::Call(c) => call(c),
        Source::Search(search, _) => search.tables.iter_mut().for_each(tabular),
        Source::Find(find, _) => {
            find.tables.iter_mut().flatten().for_each(tabular);
            expr(&mut find.predicate);
        }
        Source::ExternalData(data) => {
            data.uris.iter_mut().for_each(expr);
            data.options.iter_mut().for_each(|(_, e)| expr(e));
        }
    }
}

fn call(call: &mut ast::Call) {
    for arg in &mut call.args {
        match arg {
            Argument::Scalar(e) => expr(e),
            Argument::Tabular(t) => tabular(t),
        }
    }
}

fn named(items: &mut [ast::NamedExpr]) {
    items.iter_mut().for_each(|item| expr(&mut item.expr));
}

fn sort(key: &mut ast::SortExpr) {
    expr(&mut key.expr);
}

fn mv_expand(expand: &mut ast::MvExpand) {
    expand
        .items
        .iter_mut()
        .for_each(|item| expr(&mut item.expr));
    if let Some(limit) = &mut expand.limit {
        expr(limit);
    }
}

/// The pipelines and expressions inside one (already desugared) operator.
fn nested(operator: &mut ast::Operator) {
    match &mut operator.kind {
        OperatorKind::Where(e) | OperatorKind::Take(e) | OperatorKind::Sample(e) => expr(e),
        OperatorKind::Extend(items)
        | OperatorKind::Project(items)
        | OperatorKind::Serialize(items)
        | OperatorKind::Distinct(items) => named(items),
        OperatorKind::Summarize { aggregates, by } => {
            named(aggregates);
            named(by);
        }
        OperatorKind::MakeSeries(series) => {
            series.aggregates.iter_mut().for_each(|aggregate| {
                expr(&mut aggregate.item.expr);
                if let Some(default) = &mut aggregate.default {
                    expr(default);
                }
            });
            expr(&mut series.axis);
            match &mut series.range {
                ast::SeriesRange::Step { from, to, step } => {
                    from.iter_mut().chain(to.iter_mut()).for_each(expr);
                    expr(step);
                }
                ast::SeriesRange::InRange { start, stop, step } => {
                    expr(start);
                    expr(stop);
                    expr(step);
                }
            }
            named(&mut series.by);
        }
        OperatorKind::Sort(keys) => keys.iter_mut().for_each(sort),
        OperatorKind::Top { count, by } => {
            expr(count);
            sort(by);
        }
        OperatorKind::Join(join) | OperatorKind::Lookup(join) => tabular(&mut join.right),
        OperatorKind::Union(union) => union.tables.iter_mut().for_each(tabular),
        OperatorKind::Parse(parse) => expr(&mut parse.expr),
        OperatorKind::ParseKv(kv) => expr(&mut kv.expr),
        OperatorKind::MvExpand(expand) => mv_expand(expand),
        OperatorKind::MvApply(apply) => {
            mv_expand(&mut apply.expand);
            pipeline(&mut apply.subquery, Some(""));
        }
        OperatorKind::Invoke(c) => call(c),
        OperatorKind::Evaluate(evaluate) => call(&mut evaluate.call),
        OperatorKind::ProjectByNames(specifiers) => specifiers.iter_mut().for_each(expr),
        OperatorKind::Scan(scan) => {
            scan.declare
                .iter_mut()
                .filter_map(|d| d.default.as_mut())
                .for_each(expr);
            for step in &mut scan.steps {
                expr(&mut step.condition);
                step.assignments.iter_mut().for_each(|(_, e)| expr(e));
            }
        }
        OperatorKind::TopNested(levels) => {
            for level in levels {
                level
                    .count
                    .iter_mut()
                    .chain(level.others.iter_mut())
                    .for_each(expr);
                expr(&mut level.of.expr);
                expr(&mut level.by.expr);
            }
        }
        OperatorKind::TopHitters { count, of, by } => {
            expr(count);
            expr(of);
            by.iter_mut().for_each(expr);
        }
        OperatorKind::SampleDistinct { count, .. } => expr(count),
        OperatorKind::Render(render) => render
            .properties
            .iter_mut()
            .for_each(|(_, values)| values.iter_mut().for_each(expr)),
        OperatorKind::Partition(partition) => pipeline(&mut partition.subquery, Some("")),
        OperatorKind::MakeGraph(graph) => {
            graph.nodes.iter_mut().for_each(|(t, _)| tabular(t));
            if let Some((_, operators)) = &mut graph.partitioned_by {
                pipeline(operators, Some(""));
            }
        }
        OperatorKind::GraphMatch(graph) => {
            graph.predicate.iter_mut().for_each(expr);
            named(&mut graph.project);
        }
        OperatorKind::GraphToTable(_) | OperatorKind::GraphMarkComponents { .. } => {}
        OperatorKind::ProjectAway(_)
        | OperatorKind::ProjectRename(_)
        | OperatorKind::Count
        | OperatorKind::ProjectKeep(_)
        | OperatorKind::ProjectReorder(_)
        | OperatorKind::As(_)
        | OperatorKind::GetSchema
        | OperatorKind::Unimplemented(_) => {}
        // Rewritten into `where` by `operator`.
        OperatorKind::Search(search) => expr(&mut search.predicate),
    }
}

/// The pipelines nested in an expression (`toscalar(T | ...)`,
/// `x in (T | ...)`).
fn expr(e: &mut Expr) {
    match &mut e.kind {
        ExprKind::Tabular(t) => tabular(t),
        ExprKind::Member { target, .. } => expr(target),
        ExprKind::Index { target, index } => {
            expr(target);
            expr(index);
        }
        ExprKind::NamedArgument { value, .. } => expr(value),
        ExprKind::Call { args, .. } => args.iter_mut().for_each(expr),
        ExprKind::Unary { operand, .. } => expr(operand),
        ExprKind::Binary { lhs, rhs, .. } => {
            expr(lhs);
            expr(rhs);
        }
        ExprKind::Chain { first, rest } => {
            expr(first);
            rest.iter_mut().for_each(|(_, e)| expr(e));
        }
        ExprKind::List { expr: e, items, .. } => {
            expr(e);
            items.iter_mut().for_each(expr);
        }
        ExprKind::Between {
            expr: e, low, high, ..
        } => {
            expr(e);
            expr(low);
            expr(high);
        }
        ExprKind::Literal(_)
        | ExprKind::Name(_)
        | ExprKind::Unimplemented(_)
        | ExprKind::Star
        | ExprKind::InvalidLiteral { .. }
        | ExprKind::TypeOf(_) => {}
    }
}

/// The operators `operator` stands for, or `None` when it is not shorthand
/// (it is kept as written).
fn operator(operator: &ast::Operator, table: Option<&str>) -> Option<Vec<ast::Operator>> {
    match &operator.kind {
        // The rows are already in order: `serialize` only extends.
        OperatorKind::Serialize(items) if items.is_empty() => Some(Vec::new()),
        OperatorKind::Serialize(items) => Some(vec![ast::Operator {
            kind: OperatorKind::Extend(items.clone()),
            span: operator.span,
        }]),
        // `where` with each term a test of every column
        // (search-operator.md's table of equivalents).
        // `$table` first, naming the input's table (search-operator.md:
        // the output always has it). `in (...)` after a pipe stays, for
        // the checker to refuse.
        OperatorKind::Search(search) if search.tables.is_empty() => {
            let span = operator.span;
            let mut operators = vec![ast::Operator {
                kind: OperatorKind::Where(search_predicate(
                    &search.predicate,
                    search.case_sensitive,
                )),
                span,
            }];
            if let Some(table) = table {
                let column = Ident {
                    name: "$table".to_string(),
                    span,
                };
                operators.push(ast::Operator {
                    kind: OperatorKind::Extend(vec![ast::NamedExpr {
                        name: Some(column.clone()),
                        more_names: Vec::new(),
                        expr: Expr {
                            kind: ExprKind::Literal(ast::Literal::String(table.to_string())),
                            span,
                        },
                    }]),
                    span,
                });
                operators.push(ast::Operator {
                    kind: OperatorKind::ProjectReorder(vec![(
                        ast::ColumnPattern {
                            name: column,
                            wildcard: false,
                        },
                        None,
                    )]),
                    span,
                });
            }
            Some(operators)
        }
        OperatorKind::Summarize { aggregates, by } => {
            summarize_over_aggregates(aggregates, by, operator.span)
        }
        // `summarize` then `top`, as the reference defines it.
        OperatorKind::TopHitters { count, of, by } => {
            Some(top_hitters(count, of, by.as_ref(), operator.span))
        }
        // `distinct` then `take`: the first N distinct values in the order
        // they first appear (the reference leaves the choice open; this one
        // is deterministic).
        OperatorKind::SampleDistinct { count, of } => Some(vec![
            ast::Operator {
                kind: OperatorKind::Distinct(vec![ast::NamedExpr {
                    name: None,
                    more_names: Vec::new(),
                    expr: Expr {
                        kind: ExprKind::Name(of.clone()),
                        span: of.span,
                    },
                }]),
                span: operator.span,
            },
            ast::Operator {
                kind: OperatorKind::Take(count.clone()),
                span: operator.span,
            },
        ]),
        // `distinct` of computed values: `project` them, then `distinct *`.
        OperatorKind::Distinct(items)
            if items
                .iter()
                .any(|i| i.name.is_some() || !matches!(i.expr.kind, ExprKind::Name(_))) =>
        {
            Some(vec![
                ast::Operator {
                    kind: OperatorKind::Project(items.clone()),
                    span: operator.span,
                },
                ast::Operator {
                    kind: OperatorKind::Distinct(Vec::new()),
                    span: operator.span,
                },
            ])
        }
        _ => None,
    }
}

/// The `where` predicate a `search` predicate stands for: a string
/// literal where a condition stands (the whole predicate, an operand of
/// `and`/`or`, the argument of `not`) is a term tested against every
/// column, by the operator its `*`s select; `*` alone passes every row.
/// With `kind=case_sensitive` every string test is case-sensitive.
fn search_predicate(predicate: &Expr, case_sensitive: bool) -> Expr {
    let span = predicate.span;
    let kind = match &predicate.kind {
        ExprKind::Star => ExprKind::Literal(ast::Literal::Bool(true)),
        // `"*"`: any text, every row.
        ExprKind::Literal(ast::Literal::String(text))
            if !text.is_empty() && text.chars().all(|c| c == '*') =>
        {
            ExprKind::Literal(ast::Literal::Bool(true))
        }
        ExprKind::Literal(ast::Literal::String(text)) => search_term(text, case_sensitive, span),
        ExprKind::Binary {
            op: op @ (ast::BinaryOp::And | ast::BinaryOp::Or),
            lhs,
            rhs,
        } => ExprKind::Binary {
            op: *op,
            lhs: Box::new(search_predicate(lhs, case_sensitive)),
            rhs: Box::new(search_predicate(rhs, case_sensitive)),
        },
        ExprKind::Call { name, args } if name.name == "not" && args.len() == 1 => ExprKind::Call {
            name: name.clone(),
            args: vec![search_predicate(&args[0], case_sensitive)],
        },
        _ if case_sensitive => return case_sensitive_tests(predicate),
        _ => return predicate.clone(),
    };
    Expr { kind, span }
}

/// `* OP "TEXT"` for a search term: `has` without `*`, `hasprefix` for
/// `t*`, `hassuffix` for `*t`, `contains` for `*t*`, and otherwise a
/// regular expression with `.*` for each `*`, bounded by `\b` where the
/// term has no `*` at that end.
fn search_term(term: &str, case_sensitive: bool, span: Span) -> ExprKind {
    let leading = term.starts_with('*');
    let trailing = term.len() > 1 && term.ends_with('*');
    let core = &term[usize::from(leading)..term.len() - usize::from(trailing)];
    let (kind, text) = match (leading, trailing) {
        _ if core.contains('*') => {
            let pattern: Vec<String> = core.split('*').map(regex::escape).collect();
            let regex = format!(
                "{}{}{}{}",
                if case_sensitive { "" } else { "(?i)" },
                if leading { "" } else { "\\b" },
                pattern.join(".*"),
                if trailing { "" } else { "\\b" },
            );
            (ast::StringOpKind::MatchesRegex, regex)
        }
        (false, false) => (ast::StringOpKind::Has, core.to_string()),
        (false, true) => (ast::StringOpKind::HasPrefix, core.to_string()),
        (true, false) => (ast::StringOpKind::HasSuffix, core.to_string()),
        (true, true) => (ast::StringOpKind::Contains, core.to_string()),
    };
    ExprKind::Binary {
        op: ast::BinaryOp::Str(ast::StringOp {
            kind,
            negated: false,
            case_sensitive: case_sensitive || kind == ast::StringOpKind::MatchesRegex,
        }),
        lhs: Box::new(Expr {
            kind: ExprKind::Star,
            span,
        }),
        rhs: Box::new(Expr {
            kind: ExprKind::Literal(ast::Literal::String(text)),
            span,
        }),
    }
}

/// Whether `e` is an aggregate call (`count()`, `sum(x)`).
fn is_aggregate_call(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Call { name, .. } if aggregates::lookup(&name.name).is_some())
}

/// `summarize ..., N = F(agg(x), ...) by K`: a named scalar expression
/// over aggregates (summarize-operator.md allows any expression over
/// aggregation functions), or a constant, is `summarize` of the
/// aggregates under hidden names, then `extend N = F(...)` of them, then `project-away` of the
/// hidden columns. Only when such items come last, so that the extended
/// columns land where `summarize` would have put them; otherwise (or
/// unnamed) the checker refuses the item as before.
fn summarize_over_aggregates(
    items: &[ast::NamedExpr],
    by: &[ast::NamedExpr],
    span: ast::Span,
) -> Option<Vec<ast::Operator>> {
    let first = items.iter().position(|i| !is_aggregate_call(&i.expr))?;
    let mut hidden = Vec::new();
    let mut extended = Vec::new();
    for item in &items[first..] {
        // Each item after the plain aggregates must be named, and hold an
        // aggregate call (hidden here) or be a constant.
        if item.name.is_none() || !item.more_names.is_empty() || is_aggregate_call(&item.expr) {
            return None;
        }
        let before = hidden.len();
        let mut value = item.expr.clone();
        hide_aggregate_calls(&mut value, &mut hidden);
        if hidden.len() == before && !is_constant(&item.expr) {
            return None;
        }
        extended.push(ast::NamedExpr {
            name: item.name.clone(),
            more_names: Vec::new(),
            expr: value,
        });
    }
    let away: Vec<ast::ColumnPattern> = hidden
        .iter()
        .filter_map(|h: &ast::NamedExpr| h.name.clone())
        .map(|name| ast::ColumnPattern {
            name,
            wildcard: false,
        })
        .collect();
    let mut summarized = items[..first].to_vec();
    summarized.extend(hidden);
    let op = |kind| ast::Operator { kind, span };
    let mut operators = vec![
        op(OperatorKind::Summarize {
            aggregates: summarized,
            by: by.to_vec(),
        }),
        op(OperatorKind::Extend(extended)),
    ];
    if !away.is_empty() {
        operators.push(op(OperatorKind::ProjectAway(away)));
    }
    Some(operators)
}

/// Whether `e` reads nothing (no column, no `let`, no table): the same
/// value for every group (`summarize ..., Seen = ""`).
fn is_constant(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Literal(_) => true,
        ExprKind::Call { args, .. } => args.iter().all(is_constant),
        ExprKind::Unary { operand, .. } => is_constant(operand),
        ExprKind::Binary { lhs, rhs, .. } => is_constant(lhs) && is_constant(rhs),
        _ => false,
    }
}

/// Replaces each aggregate call in `e` by the name of a hidden column,
/// pushing `name = call` onto `hidden`.
fn hide_aggregate_calls(e: &mut Expr, hidden: &mut Vec<ast::NamedExpr>) {
    if is_aggregate_call(e) {
        let name = ast::Ident {
            name: format!("__kqlc_aggregate_{}", hidden.len()),
            span: e.span,
        };
        let call = std::mem::replace(&mut e.kind, ExprKind::Name(name.clone()));
        hidden.push(ast::NamedExpr {
            name: Some(name),
            more_names: Vec::new(),
            expr: Expr {
                kind: call,
                span: e.span,
            },
        });
        return;
    }
    match &mut e.kind {
        ExprKind::Member { target, .. } => hide_aggregate_calls(target, hidden),
        ExprKind::Index { target, index } => {
            hide_aggregate_calls(target, hidden);
            hide_aggregate_calls(index, hidden);
        }
        ExprKind::NamedArgument { value, .. } => hide_aggregate_calls(value, hidden),
        ExprKind::Call { args, .. } => args
            .iter_mut()
            .for_each(|a| hide_aggregate_calls(a, hidden)),
        ExprKind::Unary { operand, .. } => hide_aggregate_calls(operand, hidden),
        ExprKind::Binary { lhs, rhs, .. } => {
            hide_aggregate_calls(lhs, hidden);
            hide_aggregate_calls(rhs, hidden);
        }
        ExprKind::Chain { first, rest } => {
            hide_aggregate_calls(first, hidden);
            rest.iter_mut()
                .for_each(|(_, e)| hide_aggregate_calls(e, hidden));
        }
        ExprKind::List { expr, items, .. } => {
            hide_aggregate_calls(expr, hidden);
            items
                .iter_mut()
                .for_each(|e| hide_aggregate_calls(e, hidden));
        }
        ExprKind::Between {
            expr, low, high, ..
        } => {
            hide_aggregate_calls(expr, hidden);
            hide_aggregate_calls(low, hidden);
            hide_aggregate_calls(high, hidden);
        }
        _ => {}
    }
}

/// `expr` with its string tests (`has`, `contains`, ...) made
/// case-sensitive (`search kind=case_sensitive`).
fn case_sensitive_tests(e: &Expr) -> Expr {
    let mut e = e.clone();
    fn walk(e: &mut Expr) {
        match &mut e.kind {
            ExprKind::Binary { op, lhs, rhs } => {
                if let ast::BinaryOp::Str(string_op) = op {
                    string_op.case_sensitive = true;
                }
                walk(lhs);
                walk(rhs);
            }
            ExprKind::Unary { operand, .. } => walk(operand),
            ExprKind::Call { args, .. } => args.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut e);
    e
}

/// `top-hitters N of EXPR [by SUM]`, as the reference defines it:
/// `summarize approximate_count_EXPR = count() by EXPR` (or
/// `approximate_sum_EXPR = sum(SUM)`), then `top N` by that column.
/// Counts are exact.
fn top_hitters(count: &Expr, of: &Expr, by: Option<&Expr>, span: Span) -> Vec<ast::Operator> {
    let key = ast::NamedExpr {
        name: None,
        more_names: Vec::new(),
        expr: of.clone(),
    };
    let key_name = item_name(&key, &mut 0);
    let ident = |name: &str| Ident {
        name: name.to_string(),
        span,
    };
    let (column, args) = match by {
        Some(sum) => (format!("approximate_sum_{key_name}"), vec![sum.clone()]),
        None => (format!("approximate_count_{key_name}"), Vec::new()),
    };
    let function = if by.is_some() { "sum" } else { "count" };
    let aggregate = ast::NamedExpr {
        name: Some(ident(&column)),
        more_names: Vec::new(),
        expr: Expr {
            kind: ExprKind::Call {
                name: ident(function),
                args,
            },
            span,
        },
    };
    vec![
        ast::Operator {
            kind: OperatorKind::Summarize {
                aggregates: vec![aggregate],
                by: vec![key],
            },
            span,
        },
        ast::Operator {
            kind: OperatorKind::Top {
                count: count.clone(),
                by: ast::SortExpr {
                    expr: Expr {
                        kind: ExprKind::Name(ident(&column)),
                        span,
                    },
                    descending: true,
                    nulls_first: None,
                },
            },
            span,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `query` after the desugar pass, as KQL text.
    fn desugared(query: &str) -> String {
        let mut parsed = crate::syntax::parse(query).expect("parses");
        super::query(&mut parsed);
        parsed
            .statements
            .iter()
            .map(|statement| match statement {
                Statement::Tabular(tabular) => tabular.to_string(),
                Statement::Let(binding) => match &binding.value {
                    LetValue::Tabular(tabular) => format!("let {} = {tabular}", binding.name.name),
                    other => panic!("unexpected binding {other:?}"),
                },
                Statement::Set(option) => format!("set {} = {}", option.name, option.value),
                Statement::Unimplemented(opaque) => opaque.text.clone(),
            })
            .collect::<Vec<_>>()
            .join("; ")
            .replace('\n', " ")
    }

    #[test]
    fn shorthand_operators_become_the_operators_they_stand_for() {
        assert_eq!(
            desugared("T | serialize | serialize n = 1 | where x"),
            "T | extend n = 1 | where x"
        );
        assert_eq!(
            desugared("T | distinct a, b | distinct c = tolower(a)"),
            "T | distinct a, b | project c = tolower(a) | distinct *"
        );
        assert_eq!(
            desugared("T | top-hitters 3 of a.b by n"),
            "T | summarize approximate_sum_a_b = sum(n) by a.b | top 3 by approximate_sum_a_b desc"
        );
        assert_eq!(
            desugared("T | sample-distinct 10 of ['a b']"),
            "T | distinct [\"a b\"] | take 10"
        );
    }

    #[test]
    fn trailing_expressions_over_aggregates_become_extend_of_hidden_columns() {
        assert_eq!(
            desugared("T | summarize n = dcount(q), gb = sum(q) / 1000 + max(q) by k"),
            "T | summarize n = dcount(q), __kqlc_aggregate_0 = sum(q), __kqlc_aggregate_1 = max(q) by k \
             | extend gb = (__kqlc_aggregate_0 / 1000) + __kqlc_aggregate_1 \
             | project-away __kqlc_aggregate_0, __kqlc_aggregate_1"
        );
        // Left for the checker to refuse: before a plain aggregate (the
        // column would move), and unnamed (no name to give it).
        assert_eq!(
            desugared("T | summarize last = max(t), seen = strcat(\"\", \"-\") by k"),
            "T | summarize last = max(t) by k | extend seen = strcat(\"\", \"-\")"
        );
        for kept in [
            "T | summarize gb = sum(q) / 1000, n = dcount(q) by k",
            "T | summarize last = max(t), seen = q by k",
            "T | summarize sum(q) / 1000 by k",
        ] {
            assert_eq!(desugared(kept), kept);
        }
    }

    #[test]
    fn search_becomes_where_with_terms_tested_against_every_column() {
        assert_eq!(
            desugared(
                r#"T | search "a" and ("b*" or "*c" or "*d*" or "e*f") and C: "x" and not("g")"#
            ),
            r#"T | where (((* has "a") and ((((* hasprefix "b") or (* hassuffix "c")) or (* contains "d")) or (* matches regex "(?i)\\be.*f\\b"))) and (C has "x")) and not(* has "g") | extend $table = "T" | project-reorder $table"#
        );
        assert_eq!(
            desugared(r#"search kind=case_sensitive in (T, U) "a" or x has "b""#),
            r#"search kind=case_sensitive in (T, U) * | where (* has_cs "a") or (x has_cs "b")"#
        );
        assert_eq!(
            desugared("print x = 1 | search *"),
            r#"print x = 1 | where true | extend $table = "" | project-reorder $table"#
        );
    }

    #[test]
    fn nested_pipelines_are_desugared_too() {
        let text = desugared(
            "let L = U | serialize k = 1; \
             T | where x in ((V | distinct y = tolower(z)))\
               | join (W | serialize) on k \
               | mv-apply e = d on (serialize m = 2) \
               | union (X | top-hitters 1 of q)",
        );
        for shorthand in ["serialize", "top-hitters", "distinct y ="] {
            assert!(!text.contains(shorthand), "{shorthand} left in {text}");
        }
        for rewritten in [
            "let L = U | extend k = 1",
            "project y = tolower(z) | distinct *",
            "extend m = 2",
            "summarize approximate_count_q = [\"count\"]() by q",
        ] {
            assert!(text.contains(rewritten), "{rewritten} missing from {text}");
        }
    }
}
