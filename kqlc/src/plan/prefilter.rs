//! Literal prefilter derivation: which byte strings must an input line
//! contain for the query to produce a row from it?
//!
//! Only `where` clauses before the first stateful operator count (an operator
//! such as `take` or `count` sees every row, so skipping a line could change
//! its result). Within a clause, `and` needs both sides, `or` either; a
//! positive string test (`==`, `=~`, `in`, `has`, `contains`, `startswith`,
//! ...) of a *raw* value against a constant needs the constant. A raw value
//! is a value read from the line as it is: a string or dynamic input column
//! that the detector copies from the line (not one it computes, such as a
//! derived table's `Type` or `log_s`: `sema::Table::computed`),
//! a property or element of one, `tostring` of one, or a column an earlier
//! `extend`, `project` or `mv-expand` (without a `to typeof` conversion
//! other than `string`) made from one. Negations and anything else need
//! nothing.
//!
//! A needle is kept only when, whatever JSON value the raw subject holds,
//! the test can be true only if the needle's bytes are in the line, or a
//! spelling the engine counts as present (any `\u` escape, `\/`, and any
//! non-ASCII byte for a case-insensitive needle: see
//! `kql_runtime::prefilter`). The tests compare the `tostring` of the
//! subject, except that `==` and `in` compare a number numerically with
//! text that parses, trimmed, as one (`kql_runtime::ops::eq`). By kind:
//!
//! - string: the line holds its bytes, up to escapes; a needle with JSON
//!   structure (`"{}[]:,\`) or a control character (written as `\n`,
//!   `\"`, ...) is dropped;
//! - number: its text is reformatted (`2.01e2` reads `201`, `1e15` reads
//!   `1E+15`) and `==` parses the constant (`" 201"`, `"+201"`, `"201.0"`,
//!   `"inf"` equal numbers), so a *number-like* constant gives no needle:
//!   one that parses, trimmed, with the same `str::parse::<i64>` /
//!   `str::parse::<f64>` the runtime uses, or is spelled only with the
//!   characters of numbers, or is part of `-Infinity` or `NaN` in any case;
//! - bool: `true` / `false`, exactly as the line spells it;
//! - null: `""`, which only the empty constant (no needle) can match;
//! - array, bag: compact JSON, whose tokens (strings, numbers, `true`,
//!   `false`, `null`) are spelled as above; a constant free of JSON
//!   structure can only match inside one token.
//!
//! A conversion (`mv-expand ... to typeof(bool)` turns `"TRUE"` and `1` into
//! `true`) breaks the link between the value and its text: a converted
//! column is not raw.
//!
//! A table may have a column that holds the whole event re-serialized
//! (`AzureDiagnostics`' `log_s`: `sema::Table::serialized_event`). Its text
//! is not the line's, since its top-level keys are renamed (`Verb` is
//! written `verb`). But `parse_json` (or `todynamic`) of it gives back the
//! event's values, each one read from the line: so every *member* or
//! element of that parse is raw, while the parse itself (whose `tostring`
//! spells the renamed keys) is not. A row-shaped line of the table itself
//! holds `log_s` as a JSON string, whose values are spelled in the line
//! with one more level of escaping: the engine counts any escape as
//! present, so the needle stays sound.

use super::ir::{
    Arg, Builtin, Comparison, Const, Expr, FunctionId, Input, Op, Pipeline, Prefilter,
};
use crate::types::ScalarType;

/// The prefilter of a pipeline.
pub fn derive(pipeline: &Pipeline) -> Prefilter {
    let Input::Table {
        columns,
        computed,
        serialized_event,
        ..
    } = &pipeline.input
    else {
        return Prefilter::Always;
    };
    // raw[i]: whether position i of the current row holds a value read from
    // the line (a computed column, such as `Type` or `log_s`, does not).
    let mut raw: Vec<Raw> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| {
            if Some(i) == *serialized_event {
                Raw::Serialized
            } else if matches!(ty, ScalarType::String | ScalarType::Dynamic)
                && !computed.contains(&i)
            {
                Raw::Yes
            } else {
                Raw::No
            }
        })
        .collect();
    let mut required = Vec::new();
    for stage in &pipeline.stages {
        match &stage.op {
            Op::Filter(predicate) => required.push(requirement(predicate, &raw)),
            Op::Extend(items) => {
                for (position, expr) in items {
                    let rawness = rawness(expr, &raw);
                    set_raw(&mut raw, *position, rawness);
                }
            }
            Op::MvExpand {
                items,
                item_index,
                conversions,
                ..
            } => {
                for (k, (position, expr)) in items.iter().enumerate() {
                    // Elements of a raw array are raw too, unless converted
                    // (`tostring` reads them as the tests do).
                    let kept = match conversions.get(k).copied().flatten() {
                        None | Some(FunctionId::TOSTRING) => true,
                        Some(_) => false,
                    };
                    let rawness = match kept && is_raw(expr, &raw) {
                        true => Raw::Yes,
                        false => Raw::No,
                    };
                    set_raw(&mut raw, *position, rawness);
                }
                if let Some(position) = item_index {
                    set_raw(&mut raw, *position, Raw::No);
                }
            }
            Op::Parse { targets, .. } => {
                // Captures come from the line but are converted: not raw.
                for (position, _) in targets {
                    set_raw(&mut raw, *position, Raw::No);
                }
            }
            Op::Project(values) => raw = values.iter().map(|e| rawness(e, &raw)).collect(),
            Op::Select(indices) => {
                raw = indices
                    .iter()
                    .map(|&i| raw.get(i).copied().unwrap_or(Raw::No))
                    .collect()
            }
            // Row functions see every row that reaches them: a later
            // condition must not skip lines before them.
            Op::Take(_)
            | Op::Window(_)
            | Op::Scan(_)
            | Op::Sample(_)
            | Op::Count
            | Op::Summarize { .. }
            | Op::MakeSeries(_)
            | Op::Sort { .. }
            | Op::Distinct(_)
            | Op::Join { .. }
            | Op::Union { .. }
            | Op::MvApply { .. }
            | Op::TopNested(_)
            | Op::ConstantRows(_)
            | Op::Partition { .. }
            | Op::Graph(_) => break,
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
            Op::Graph(graph) => graph.node_tables.iter().map(|t| &t.pipeline).collect(),
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

/// How a value relates to the text of the input line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Raw {
    /// Computed: its text need not be in the line.
    No,
    /// Read from the line as it is.
    Yes,
    /// The event re-serialized (`log_s`): not raw, but its parse is
    /// [`Raw::Members`].
    Serialized,
    /// The parse of the re-serialized event: its members and elements are
    /// raw, itself is not (its keys are renamed).
    Members,
}

/// Records how position `position` of the row relates to the line.
fn set_raw(raw: &mut Vec<Raw>, position: usize, rawness: Raw) {
    if position >= raw.len() {
        raw.resize(position + 1, Raw::No);
    }
    raw[position] = rawness;
}

/// True when `expr` is a value read from the input line as it is.
fn is_raw(expr: &Expr, raw: &[Raw]) -> bool {
    rawness(expr, raw) == Raw::Yes
}

/// How the value of `expr` relates to the text of the input line.
fn rawness(expr: &Expr, raw: &[Raw]) -> Raw {
    let of_parts = |target: &Expr| match rawness(target, raw) {
        Raw::Yes | Raw::Members => Raw::Yes,
        Raw::No | Raw::Serialized => Raw::No,
    };
    match expr {
        Expr::Column(i, _) => raw.get(*i).copied().unwrap_or(Raw::No),
        Expr::Member(target, _) => of_parts(target),
        Expr::Index(target, index) if matches!(**index, Expr::Const(_)) => of_parts(target),
        Expr::Call {
            builtin: Builtin::Function(f),
            args,
            ..
        } => match (*f, args.as_slice()) {
            (FunctionId::TOSTRING, [Arg::Value(e)]) if is_raw(e, raw) => Raw::Yes,
            (FunctionId::PARSE_JSON, [Arg::Value(e)]) if rawness(e, raw) == Raw::Serialized => {
                Raw::Members
            }
            _ => Raw::No,
        },
        _ => Raw::No,
    }
}

fn constant_text(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Const(Const::String(text)) => Some(text),
        _ => None,
    }
}

/// A needle for `text`, or `Always` when a byte search could miss it (see
/// the module documentation).
fn needle(text: &str, case_insensitive: bool) -> Prefilter {
    let structural =
        |c: char| matches!(c, '"' | '\\' | '{' | '}' | '[' | ']' | ':' | ',') || c.is_control();
    if text.is_empty()
        || text.chars().any(structural)
        || is_number_like(text)
        || (case_insensitive && !text.is_ascii())
    {
        return Prefilter::Always;
    }
    Prefilter::Needle {
        text: text.to_string(),
        case_insensitive,
    }
}

/// True when a test of a JSON number against `text` can hold although the
/// line does not spell `text`: `==` and `in` parse `text`, trimmed, as a
/// number (`kql_runtime::ops`, with these same `str::parse` calls, so the
/// check is exact), and the other tests read the number's reformatted text
/// (`format_real`: digits, `.`, `E`, `+`, `-`, `Infinity`, `NaN`).
fn is_number_like(text: &str) -> bool {
    let trimmed = text.trim();
    let lower = text.to_ascii_lowercase();
    trimmed.parse::<i64>().is_ok()
        || trimmed.parse::<f64>().is_ok()
        || text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        || "-infinity".contains(&lower)
        || "nan".contains(&lower)
}

/// What must hold of the line for `predicate` to be true.
fn requirement(predicate: &Expr, raw: &[Raw]) -> Prefilter {
    let Expr::Call { builtin, args, .. } = predicate else {
        return Prefilter::Always;
    };
    let value = |i: usize| match args.get(i) {
        Some(Arg::Value(e)) => Some(e),
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
    match *builtin {
        Builtin::And => Prefilter::All(vec![
            value(0).map_or(Prefilter::Always, |e| requirement(e, raw)),
            value(1).map_or(Prefilter::Always, |e| requirement(e, raw)),
        ]),
        Builtin::Or => Prefilter::Any(vec![
            value(0).map_or(Prefilter::Always, |e| requirement(e, raw)),
            value(1).map_or(Prefilter::Always, |e| requirement(e, raw)),
        ]),
        Builtin::Compare(Comparison::Eq) => match test(value(0), value(1), false) {
            Prefilter::Always => test(value(1), value(0), false),
            found => found,
        },
        Builtin::Compare(Comparison::EqCi) => match test(value(0), value(1), true) {
            Prefilter::Always => test(value(1), value(0), true),
            found => found,
        },
        Builtin::Text { case_sensitive, .. } => test(value(0), value(1), !case_sensitive),
        Builtin::InList { .. } | Builtin::HasAny | Builtin::HasAll => {
            if !value(0).is_some_and(|e| is_raw(e, raw)) {
                return Prefilter::Always;
            }
            let Some(Arg::Slice(items)) = args.get(1) else {
                return Prefilter::Always;
            };
            let ci = match *builtin {
                Builtin::InList { case_insensitive } => case_insensitive,
                _ => true,
            };
            let needles: Option<Vec<Prefilter>> = items
                .iter()
                .map(|item| constant_text(item).map(|text| needle(text, ci)))
                .collect();
            match (needles, *builtin) {
                (None, _) => Prefilter::Always,
                (Some(needles), Builtin::HasAll) if !needles.is_empty() => Prefilter::All(needles),
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
    fn columns_the_detector_computes_give_no_needle() {
        // `Type` is a constant and `log_s` the event re-serialized: neither
        // is text of the line. `Verb` and `pod_s` are copied from it.
        assert_eq!(
            prefilter("AKSAudit | where Type == 'AKSAudit' and Verb == 'create'"),
            n("create", false)
        );
        assert_eq!(
            prefilter("AzureDiagnostics | where Category == 'kube-audit' | where log_s contains 'pods/exec' and pod_s has 'apiserver'"),
            n("apiserver", true)
        );
    }

    #[test]
    fn members_of_the_parsed_log_are_raw_but_the_parse_is_not() {
        // `log_s` holds the event's values, each read from the line; its
        // keys are renamed, so only members of its parse give needles.
        assert_eq!(
            prefilter(
                "AzureDiagnostics | project log_s | where parse_json(log_s).verb == 'create'"
            ),
            n("create", false)
        );
        assert_eq!(
            prefilter("AzureDiagnostics | extend Event = todynamic(log_s) | where tostring(Event.objectRef['resource']) == 'secrets' and Event.user.groups[0] has 'admins'"),
            Prefilter::All(vec![n("secrets", false), n("admins", true)])
        );
        for query in [
            "AzureDiagnostics | where tostring(parse_json(log_s)) contains 'verb'",
            "AzureDiagnostics | extend Event = parse_json(log_s) | where tostring(Event) has 'auditID'",
            "AzureDiagnostics | where parse_json(pod_s).x == 'a' and parse_json(tostring(parse_json(log_s))).verb == 'create'",
            "AzureDiagnostics | extend Event = parse_json(log_s) | where Event.verb != 'get'",
        ] {
            assert_eq!(prefilter(query), Prefilter::Always, "{query}");
        }
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

    fn where_code(condition: &str) -> String {
        format!("CloudAuditEvents | where RawEventData.ResponseStatus.code {condition}")
    }

    #[test]
    fn number_spellings_give_no_needle_for_equality() {
        // `==` parses each text, trimmed, as a number: the JSON number 201
        // (spelled `201`, `2.01e2`, `201.0`, ...) equals the first ones,
        // 0.5 and 5 the next, none of which the line need spell.
        for text in [
            "201",
            " 201",
            "201 ",
            "\t201",
            "\u{a0}201",
            "201\u{2003}",
            "\u{3000}201",
            "+201",
            "201.0",
            "2.01e2",
            "2.01E+2",
            "20100e-2",
            ".5",
            "5.",
            "inf",
            "+Infinity",
            "-INF",
            "NaN",
            "nan",
        ] {
            for condition in [
                format!("== \"{text}\""),
                format!("in (\"{text}\")"),
                format!("in (\"create\", \"{text}\")"),
                format!("in~ (\"{text}\")"),
                format!("=~ \"{text}\""),
            ] {
                let query = where_code(&condition);
                assert_eq!(prefilter(&query), Prefilter::Always, "{query}");
            }
            let query = format!(
                "CloudAuditEvents | where OperationName == 'create' and RawEventData.ResponseStatus.code == \"{text}\""
            );
            assert_eq!(prefilter(&query), n("create", false), "{query}");
        }
    }

    #[test]
    fn number_text_gives_no_needle_for_substring_tests() {
        // `tostring` of a number is reformatted: 2.01e2 reads "201", 1e15
        // reads "1E+15", an infinite real reads "Infinity". (" 20" could
        // not start a number's text, but number-like texts give no needle
        // with any operator: simpler, and conservative.)
        for condition in [
            "has '201'",
            "contains '1E+'",
            "startswith ' 20'",
            "endswith '01 '",
            "hasprefix 'Inf'",
            "hassuffix 'INITY'",
            "contains_cs 'aN'",
            "has_cs '-'",
            "has_any ('x1', '201')",
        ] {
            let query = where_code(condition);
            assert_eq!(prefilter(&query), Prefilter::Always, "{query}");
        }
    }

    #[test]
    fn bool_text_keeps_its_needle() {
        // A JSON bool compares by its text, spelled `true`/`false` in the
        // line; a string holds its bytes.
        let privileged = "CloudAuditEvents | where RawEventData.Privileged";
        assert_eq!(
            prefilter(&format!("{privileged} == 'true'")),
            n("true", false)
        );
        assert_eq!(
            prefilter(&format!("{privileged} =~ 'TRUE'")),
            n("TRUE", true)
        );
        assert_eq!(
            prefilter(&format!("{privileged} in~ ('True', 'yes')")),
            Prefilter::Any(vec![n("True", true), n("yes", true)])
        );
    }

    #[test]
    fn non_number_texts_with_spaces_keep_their_needles() {
        // Only a number is compared after trimming; " pods" matches only
        // the string " pods".
        assert_eq!(
            prefilter("CloudAuditEvents | where RawEventData.ObjectRef.resource == ' pods'"),
            n(" pods", false)
        );
        assert_eq!(
            prefilter("CloudAuditEvents | where RawEventData.ObjectRef.resource in ('pods\\u00a0', 'x201')"),
            Prefilter::Any(vec![n("pods\u{a0}", false), n("x201", false)])
        );
    }

    #[test]
    fn converted_mv_expand_elements_give_no_needle() {
        // `to typeof(bool)` makes `"TRUE"` and `1` into `true`.
        for query in [
            "CloudAuditEvents | mv-expand F = RawEventData.Flags to typeof(bool) | where tostring(F) == 'true'",
            "CloudAuditEvents | mv-expand D = RawEventData.Times to typeof(datetime) | where tostring(D) contains 'T10'",
            "CloudAuditEvents | mv-expand with_itemindex=I F = RawEventData.Flags | where tostring(I) has 'x'",
        ] {
            assert_eq!(prefilter(query), Prefilter::Always, "{query}");
        }
        assert_eq!(
            prefilter("CloudAuditEvents | mv-expand F = RawEventData.Flags to typeof(string) | where F == 'true'"),
            n("true", false)
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
