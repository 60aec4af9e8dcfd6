//! Names and text in generated code: Rust identifiers from KQL names, doc
//! comments from KQL text, and the layout helpers of the token streams.

use super::*;

/// Replaces the placeholder `__ROW__` in a statement by a row expression.
pub(super) fn replace_row(statement: &TokenStream, row: &TokenStream) -> TokenStream {
    statement
        .clone()
        .into_iter()
        .flat_map(|tree| -> TokenStream {
            match tree {
                proc_macro2::TokenTree::Ident(ident) if ident == "__ROW__" => row.clone(),
                proc_macro2::TokenTree::Group(group) => {
                    let mut new = proc_macro2::Group::new(
                        group.delimiter(),
                        replace_row(&group.stream(), row),
                    );
                    new.set_span(group.span());
                    proc_macro2::TokenTree::Group(new).into()
                }
                other => other.into(),
            }
        })
        .collect()
}

/// Puts a blank line between items (prettyplease leaves none): after a line
/// that closes an item at module or `impl` level, and after the inner doc
/// comment and `use` block, as rustfmt-formatted code by hand would have.
pub fn space_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 16);
    let lines: Vec<&str> = code.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        let Some(next) = lines.get(i + 1) else { break };
        let top_level = !line.starts_with([' ', '/', '#']);
        let closes_item =
            *line == "    }" || (top_level && (line.ends_with(';') || line.ends_with('}')));
        let ends_header = line.starts_with("//!") && !next.starts_with("//!");
        let next_is_closer = next.trim_start().starts_with('}');
        if (closes_item || ends_header) && !next_is_closer && !next.is_empty() {
            out.push('\n');
        }
    }
    out
}

pub(super) fn stage_ident(i: usize, stage: &Stage) -> Ident {
    let kind = match stage.op {
        Op::Filter(_) => "where",
        Op::Extend(_) => "extend",
        Op::Project(_) => "project",
        Op::Select(_) => "select",
        Op::MvExpand { .. } => "mv_expand",
        Op::MvApply { .. } => "mv_apply",
        Op::Take(_) => "take",
        Op::Sample(_) => "sample",
        Op::Window(_) => "row_functions",
        Op::Scan(_) => "scan",
        Op::Graph(_) => "graph",
        Op::Count => "count",
        Op::Summarize { .. } => "summarize",
        Op::MakeSeries(_) => "make_series",
        Op::Sort { limit: None, .. } => "sort",
        Op::Sort { limit: Some(_), .. } => "top",
        Op::Distinct(_) => "distinct",
        Op::Join { .. } => "join",
        Op::Parse { .. } => "parse",
        Op::Union { .. } => "union",
        Op::TopNested(_) => "top_nested",
        Op::ConstantRows(_) => "getschema",
        Op::Partition { .. } => "partition",
    };
    format_ident!("{}_{}", kind, i + 1)
}

/// True when the tokens mention the identifier `name`.
pub(super) fn mentions(tokens: &TokenStream, name: &str) -> bool {
    tokens.clone().into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) => ident == name,
        proc_macro2::TokenTree::Group(group) => mentions(&group.stream(), name),
        _ => false,
    })
}

/// The lines of query text as doc comments can hold them: a bare CR ends a
/// line as LF and CRLF do (rustc refuses a bare CR in a doc comment, and
/// `kqlc check` accepts it as whitespace), and any other control character
/// but tab is written as `\u{..}`, so the comment shows what the rule holds.
pub(super) fn doc_lines(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split('\n')
        .flat_map(|line| line.strip_suffix('\r').unwrap_or(line).split('\r'))
        .map(|line| {
            line.chars()
                .map(|c| {
                    if c.is_control() && c != '\t' {
                        format!("\\u{{{:x}}}", c as u32)
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        })
}

/// How many characters of a query line a doc comment shows.
pub(super) const DOC_LINE_CHARS: usize = 400;
/// How many lines of a query a doc comment shows.
pub(super) const DOC_LINES: usize = 200;

/// [`doc_lines`], cut to [`DOC_LINES`] lines of at most [`DOC_LINE_CHARS`]
/// characters, each cut said: a rule with a 100,000-item list is shown,
/// not copied (the rule's file holds it whole), so that the generated code
/// and rustc's work stay proportional to the code, not to the data.
pub(super) fn shown_doc_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut hidden = 0usize;
    for line in doc_lines(text) {
        if lines.len() == DOC_LINES {
            hidden += 1;
            continue;
        }
        let count = line.chars().count();
        if count > DOC_LINE_CHARS {
            let shown: String = line.chars().take(DOC_LINE_CHARS).collect();
            lines.push(format!(
                "{shown} … ({} more characters; the rule's file holds the line whole)",
                count - DOC_LINE_CHARS
            ));
        } else {
            lines.push(line);
        }
    }
    if hidden > 0 {
        lines.push(format!("… ({hidden} more lines in the rule's file)"));
    }
    lines
}

pub(super) fn stage_doc(stage: &Stage) -> TokenStream {
    let lines = std::iter::once(" ```kql".to_string())
        .chain(
            shown_doc_lines(&stage.kql)
                .into_iter()
                .map(|l| format!(" | {l}")),
        )
        .chain(std::iter::once(" ```".to_string()));
    quote! { #(#[doc = #lines])* }
}

pub(super) fn column_type(ty: ScalarType) -> Ident {
    format_ident!(
        "{}",
        match ty {
            ScalarType::Bool => "Bool",
            ScalarType::Int => "Int",
            ScalarType::Long => "Long",
            ScalarType::Real => "Real",
            ScalarType::Decimal => "Decimal",
            ScalarType::String => "String",
            ScalarType::DateTime => "DateTime",
            ScalarType::TimeSpan => "TimeSpan",
            ScalarType::Guid => "Guid",
            ScalarType::Dynamic => "Dynamic",
        }
    )
}

/// `OperationName` → `operation_name`, `IPAddress` → `ip_address`,
/// `mv-expand` → `mv_expand`.
pub(super) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() {
                let prev = i.checked_sub(1).map(|j| chars[j]);
                let next = chars.get(i + 1);
                let boundary = match prev {
                    Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                    Some(p) if p.is_ascii_uppercase() => {
                        next.is_some_and(|n| n.is_ascii_lowercase())
                    }
                    _ => false,
                };
                if boundary && !out.ends_with('_') {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// `snake_case` → `CamelCase` (for the type of an `mv-apply` subquery).
pub(super) fn camel_case(name: &str) -> String {
    name.split('_')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// A local name for the `i`-th of several columns or states: `name` in
/// snake case, or `{fallback}_{i}` when that is empty or starts with a
/// digit; `_` appended to a reserved name; `_{i}` appended when `taken`
/// already holds it (and the result recorded there).
pub(super) fn unique_ident(
    name: &str,
    fallback: &str,
    i: usize,
    taken: &mut BTreeSet<String>,
) -> Ident {
    let mut name = snake_case(name);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("{fallback}_{i}");
    }
    if is_reserved(&name) {
        name.push('_');
    }
    if !taken.insert(name.clone()) {
        name = format!("{name}_{i}");
        taken.insert(name.clone());
    }
    format_ident!("{}", name)
}

/// Names a binding must not take: Rust keywords and the names generated
/// code uses itself.
pub(super) fn is_reserved(name: &str) -> bool {
    const RESERVED: &[&str] = &[
        "as",
        "async",
        "await",
        "break",
        "const",
        "continue",
        "crate",
        "dyn",
        "else",
        "enum",
        "extern",
        "false",
        "fn",
        "for",
        "if",
        "impl",
        "in",
        "let",
        "loop",
        "match",
        "mod",
        "move",
        "mut",
        "pub",
        "ref",
        "return",
        "self",
        "static",
        "struct",
        "super",
        "trait",
        "true",
        "type",
        "unsafe",
        "use",
        "where",
        "while",
        "abstract",
        "become",
        "box",
        "do",
        "final",
        "gen",
        "macro",
        "override",
        "priv",
        "try",
        "typeof",
        "unsized",
        "virtual",
        "yield",
        "union",
        "ctx",
        "row",
        "emit",
        "value",
        "keep",
        "expanded",
        "rows",
        "i",
        "ops",
        "functions",
        "expand",
        "kql_runtime",
        "std",
        "core",
        "alloc",
        "main",
        "so_far",
        "values",
    ];
    RESERVED.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_splits_words_and_acronyms() {
        assert_eq!(snake_case("OperationName"), "operation_name");
        assert_eq!(snake_case("IPAddress"), "ip_address");
        assert_eq!(snake_case("RawEventData"), "raw_event_data");
        assert_eq!(snake_case("privileged-pod"), "privileged_pod");
        assert_eq!(snake_case("Count"), "count");
        assert_eq!(snake_case("print_0"), "print_0");
    }

    #[test]
    fn module_names_are_valid_identifiers() {
        assert_eq!(
            module_name("cluster-admin-binding"),
            "cluster_admin_binding"
        );
        assert_eq!(module_name("2fa"), "rule_2fa");
        assert_eq!(module_name("match"), "match_");
    }
}
