//! Literal prefilter derivation: which byte strings must an input line
//! contain for the query to produce a row from it?
//!
//! Only `where` clauses before the first stateful operator count (an operator
//! such as `take` or `count` sees every row, so skipping a line could change
//! its result). Within a clause, `and` needs both sides, `or` either; a
//! positive string test (`==`, `=~`, `in`, `has`, `contains`, `startswith`,
//! ...) of a *raw* value against a constant needs the constant. A raw value
//! is text copied verbatim from the line: a string or dynamic input column,
//! a property or element of one, `tostring` of one, or a column an earlier
//! `extend`, `project` or `mv-expand` made from one. Negations and anything
//! else need nothing. A needle is kept only when no JSON spelling of the
//! line can hide it from a byte search beyond what the runtime checks for
//! (escapes, see `kql_runtime::prefilter`): it must not contain JSON
//! structure (`"{}[]:,\`), control characters, or be spelled only with the
//! characters of numbers (number text is reformatted by parsing).

use super::ir::{Arg, Const, Expr, Input, Op, Pipeline, Prefilter};
use crate::types::ScalarType;

/// The prefilter of a pipeline.
pub fn derive(pipeline: &Pipeline) -> Prefilter {
    let Input::Table { columns, .. } = &pipeline.input else {
        return Prefilter::Always;
    };
    // raw[i]: position i of the current row holds text copied from the line.
    let mut raw: Vec<bool> = columns
        .iter()
        .map(|(_, ty)| matches!(ty, ScalarType::String | ScalarType::Dynamic))
        .collect();
    let mut required = Vec::new();
    for stage in &pipeline.stages {
        match &stage.op {
            Op::Filter(predicate) => required.push(requirement(predicate, &raw)),
            Op::Extend(items) => {
                for (position, expr) in items {
                    let is_raw = is_raw(expr, &raw);
                    if *position < raw.len() {
                        raw[*position] = is_raw;
                    } else {
                        raw.push(is_raw);
                    }
                }
            }
            Op::MvExpand { items, .. } => {
                for (position, expr) in items {
                    // Elements of a raw array are raw too.
                    let is_raw = is_raw(expr, &raw);
                    if *position < raw.len() {
                        raw[*position] = is_raw;
                    } else {
                        raw.push(is_raw);
                    }
                }
            }
            Op::Parse { targets, .. } => {
                // Captures come from the line but are converted: not raw.
                for (position, _) in targets {
                    if *position < raw.len() {
                        raw[*position] = false;
                    } else {
                        raw.push(false);
                    }
                }
            }
            Op::Project(values) => raw = values.iter().map(|e| is_raw(e, &raw)).collect(),
            Op::Select(indices) => {
                raw = indices
                    .iter()
                    .map(|&i| raw.get(i).copied().unwrap_or(false))
                    .collect()
            }
            // Row functions see every row that reaches them: a later
            // condition must not skip lines before them.
            Op::Take(_)
            | Op::Window(_)
            | Op::Sample(_)
            | Op::Count
            | Op::Summarize { .. }
            | Op::Sort { .. }
            | Op::Distinct(_)
            | Op::Join { .. }
            | Op::Union { .. }
            | Op::MvApply { .. } => break,
        }
    }
    let main = simplify(Prefilter::All(required));
    // A line the main pipeline cannot use may still feed a join's right side
    // or a union leg that reads the table.
    let mut alternatives = vec![main];
    for stage in &pipeline.stages {
        let subs: Vec<&Pipeline> = match &stage.op {
            Op::Join { right, .. } => vec![right],
            Op::Union { legs, .. } => legs.iter().map(|(leg, _)| leg).collect(),
            _ => continue,
        };
        for sub in subs {
            if matches!(sub.input, Input::Table { .. }) {
                alternatives.push(sub.prefilter.clone());
            }
        }
    }
    simplify(Prefilter::Any(alternatives))
}

/// True when `expr` is text copied verbatim from the input line.
fn is_raw(expr: &Expr, raw: &[bool]) -> bool {
    match expr {
        Expr::Column(i) => raw.get(*i).copied().unwrap_or(false),
        Expr::Member(target, _) => is_raw(target, raw),
        Expr::Index(target, index) => is_raw(target, raw) && matches!(**index, Expr::Const(_)),
        Expr::Call { path, args } if path == "functions::tostring" => {
            matches!(args.as_slice(), [Arg::Value(e)] if is_raw(e, raw))
        }
        _ => false,
    }
}

fn constant_text(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Const(Const::String(text)) => Some(text),
        _ => None,
    }
}

/// A needle for `text`, or `Always` when a byte search could miss it.
fn needle(text: &str, case_insensitive: bool) -> Prefilter {
    let structural =
        |c: char| matches!(c, '"' | '\\' | '{' | '}' | '[' | ']' | ':' | ',') || c.is_control();
    let number_like = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'E' | 'e' | '+' | '-'))
        || "-Infinity".contains(text)
        || "NaN".contains(text);
    if text.is_empty()
        || text.chars().any(structural)
        || number_like
        || (case_insensitive && !text.is_ascii())
    {
        return Prefilter::Always;
    }
    Prefilter::Needle {
        text: text.to_string(),
        case_insensitive,
    }
}

/// What must hold of the line for `predicate` to be true.
fn requirement(predicate: &Expr, raw: &[bool]) -> Prefilter {
    let Expr::Call { path, args } = predicate else {
        return Prefilter::Always;
    };
    let value = |i: usize| match args.get(i) {
        Some(Arg::Value(e)) => Some(e),
        _ => None,
    };
    let flag = |i: usize| match args.get(i) {
        Some(Arg::Flag(b)) => Some(*b),
        _ => None,
    };
    // `subject OP "constant"` with a raw subject.
    let test = |subject: Option<&Expr>, constant: Option<&Expr>, ci: bool| match (
        subject,
        constant.and_then(constant_text),
    ) {
        (Some(subject), Some(text)) if is_raw(subject, raw) => needle(text, ci),
        _ => Prefilter::Always,
    };
    match path.as_str() {
        "ops::and" => Prefilter::All(vec![
            value(0).map_or(Prefilter::Always, |e| requirement(e, raw)),
            value(1).map_or(Prefilter::Always, |e| requirement(e, raw)),
        ]),
        "ops::or" => Prefilter::Any(vec![
            value(0).map_or(Prefilter::Always, |e| requirement(e, raw)),
            value(1).map_or(Prefilter::Always, |e| requirement(e, raw)),
        ]),
        "ops::eq" => match test(value(0), value(1), false) {
            Prefilter::Always => test(value(1), value(0), false),
            found => found,
        },
        "ops::eq_ci" => match test(value(0), value(1), true) {
            Prefilter::Always => test(value(1), value(0), true),
            found => found,
        },
        "ops::contains" | "ops::has" | "ops::hasprefix" | "ops::hassuffix" | "ops::startswith"
        | "ops::endswith" => test(value(0), value(1), !flag(2).unwrap_or(false)),
        "ops::in_list" | "ops::has_any" | "ops::has_all" => {
            let Some(subject) = value(0).filter(|e| is_raw(e, raw)) else {
                return Prefilter::Always;
            };
            let _ = subject;
            let Some(Arg::Slice(items)) = args.get(1) else {
                return Prefilter::Always;
            };
            let ci = match path.as_str() {
                "ops::in_list" => flag(2).unwrap_or(false),
                _ => true,
            };
            let needles: Option<Vec<Prefilter>> = items
                .iter()
                .map(|item| constant_text(item).map(|text| needle(text, ci)))
                .collect();
            match (needles, path.as_str()) {
                (None, _) => Prefilter::Always,
                (Some(needles), "ops::has_all") if !needles.is_empty() => Prefilter::All(needles),
                (Some(needles), _) => Prefilter::Any(needles),
            }
        }
        _ => Prefilter::Always,
    }
}

/// Removes `Always` from conjunctions, makes a disjunction with an `Always`
/// branch `Always`, and flattens single-element lists.
fn simplify(filter: Prefilter) -> Prefilter {
    match filter {
        Prefilter::All(items) => {
            let mut kept: Vec<Prefilter> = items
                .into_iter()
                .map(simplify)
                .filter(|p| *p != Prefilter::Always)
                .collect();
            match kept.len() {
                0 => Prefilter::Always,
                1 => kept.remove(0),
                _ => Prefilter::All(kept),
            }
        }
        Prefilter::Any(items) => {
            let mut kept: Vec<Prefilter> = items.into_iter().map(simplify).collect();
            if kept.is_empty() || kept.contains(&Prefilter::Always) {
                return Prefilter::Always;
            }
            if kept.len() == 1 {
                kept.remove(0)
            } else {
                Prefilter::Any(kept)
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sema::Schema;

    fn prefilter(kql: &str) -> Prefilter {
        derive(&crate::compile(kql, &Schema::builtin()).unwrap_or_else(|d| panic!("{d:?}")))
    }

    fn n(text: &str, ci: bool) -> Prefilter {
        Prefilter::Needle {
            text: text.into(),
            case_insensitive: ci,
        }
    }

    #[test]
    fn and_needs_both_literals_and_or_either() {
        assert_eq!(
            prefilter("CloudAuditEvents | where RawEventData.ObjectRef.resource == 'clusterrolebindings' and OperationName == 'create'"),
            Prefilter::All(vec![n("clusterrolebindings", false), n("create", false)])
        );
        assert_eq!(
            prefilter(
                "CloudAuditEvents | where OperationName =~ 'create' or OperationName has 'delete'"
            ),
            Prefilter::Any(vec![n("create", true), n("delete", true)])
        );
    }

    #[test]
    fn negations_numbers_and_computed_values_give_no_needle() {
        for query in [
            "CloudAuditEvents | where OperationName != 'create'",
            "CloudAuditEvents | where OperationName !has 'create'",
            "CloudAuditEvents | where RawEventData.ResponseStatus.code startswith '20'",
            "CloudAuditEvents | where tolower(OperationName) == 'create'",
            "CloudAuditEvents | where OperationName == 'create' or Timestamp > ago(1d)",
            "CloudAuditEvents | take 1 | where OperationName == 'create'",
            "CloudAuditEvents | where tostring(RawEventData) contains '\"a\":1'",
        ] {
            assert_eq!(prefilter(query), Prefilter::Always, "{query}");
        }
    }

    #[test]
    fn derived_columns_stay_raw_through_extend_and_mv_expand() {
        assert_eq!(
            prefilter("CloudAuditEvents | extend Name = tostring(RawEventData.ObjectRef.name) | mv-expand S = RawEventData.subjects | where Name startswith 'tunnel' and S.kind == 'User'"),
            Prefilter::All(vec![n("tunnel", true), n("User", false)])
        );
    }

    #[test]
    fn reference_rules_have_selective_prefilters() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rules");
        for rule in [
            "cluster-admin-binding",
            "exec-in-kube-system",
            "privileged-pod",
        ] {
            let text = std::fs::read_to_string(root.join(format!("{rule}.kql"))).unwrap();
            let filter = prefilter(&text);
            assert!(matches!(filter, Prefilter::All(_)), "{rule}: {filter:?}");
        }
    }
}
