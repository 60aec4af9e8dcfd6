//! Broken queries: each gives a located, readable error with a stable code,
//! rendered like rustc's, through the same path `kqlc check` uses.

use crate::common::kqlc;
use kqlc::diag::Code;
use kqlc::sema::Schema;

/// Compiles `query` and returns its diagnostics rendered without colour.
fn errors(query: &str) -> (Vec<Code>, String) {
    let diagnostics =
        kqlc::compile(query, &Schema::builtin()).expect_err("the query should be rejected");
    let codes = diagnostics.iter().map(|d| d.code).collect();
    let rendered = diagnostics
        .iter()
        .map(|d| d.render("rule.kql", query, false))
        .collect::<Vec<_>>()
        .join("\n");
    (codes, rendered)
}

#[test]
fn unknown_column_points_at_the_name_and_suggests_the_closest_column() {
    let (codes, text) = errors("CloudAuditEvents\n| where OperationNam == \"create\"");
    assert_eq!(codes, [Code::UnknownColumn]);
    assert!(
        text.contains("error[KQL0101]: unknown column 'OperationNam'"),
        "{text}"
    );
    assert!(text.contains("--> rule.kql:2:9"), "{text}");
    assert!(
        text.contains("^^^^^^^^^^^^"),
        "underline under the name:\n{text}"
    );
    assert!(
        text.contains("help: did you mean 'OperationName'?"),
        "{text}"
    );
}

#[test]
fn unknown_function_is_named_with_a_suggestion() {
    let (codes, text) = errors("CloudAuditEvents | extend x = tostrin(OperationName)");
    assert_eq!(codes, [Code::UnknownFunction]);
    assert!(text.contains("unknown function 'tostrin'"), "{text}");
    assert!(text.contains("--> rule.kql:1:31"), "{text}");
    assert!(text.contains("did you mean 'tostring'?"), "{text}");
}

#[test]
fn wrong_argument_count_says_how_many_were_expected() {
    let (codes, text) = errors("CloudAuditEvents | where isnull(DataSource, City)");
    assert_eq!(codes, [Code::WrongArgumentCount]);
    assert!(
        text.contains("function 'isnull' takes 1 argument, but 2 were given"),
        "{text}"
    );
    assert!(text.contains("--> rule.kql:1:26"), "{text}");
}

#[test]
fn unbalanced_parenthesis_points_at_the_unclosed_one() {
    let (codes, text) = errors("CloudAuditEvents\n| where (OperationName == \"create\"\n| take 1");
    assert_eq!(codes, [Code::UnbalancedDelimiter], "{text}");
    assert!(text.contains("--> rule.kql:2:9"), "{text}");
}

#[test]
fn bad_datetime_literal_is_an_invalid_literal() {
    let (codes, text) = errors("CloudAuditEvents | where Timestamp > datetime(2024-13-45)");
    assert_eq!(codes, [Code::InvalidLiteral], "{text}");
    assert!(text.contains("rule.kql:1:"), "{text}");
}

#[test]
fn unterminated_string_points_at_its_opening_quote() {
    let (codes, text) = errors("CloudAuditEvents\n| where OperationName == \"create");
    assert_eq!(codes, [Code::UnterminatedString], "{text}");
    assert!(text.contains("--> rule.kql:2:26"), "{text}");
}

#[test]
fn unknown_table_suggests_the_known_one() {
    let (codes, text) = errors("CloudAuditEvent | take 1");
    assert_eq!(codes, [Code::UnknownTable]);
    assert!(text.contains("did you mean 'CloudAuditEvents'?"), "{text}");
}

#[test]
fn type_errors_name_both_types() {
    let (codes, text) = errors("CloudAuditEvents | where Timestamp > \"yesterday\"");
    assert_eq!(codes, [Code::TypeMismatch]);
    assert!(
        text.contains("cannot compare datetime with string"),
        "{text}"
    );
    let (codes, _) = errors("CloudAuditEvents | where ago(\"1d\") < now()");
    assert_eq!(codes, [Code::TypeMismatch]);
    let (codes, _) = errors("CloudAuditEvents | extend x = OperationName.field");
    assert_eq!(codes, [Code::TypeMismatch]);
}

#[test]
fn invalid_constant_regex_is_reported_at_compile_time() {
    let (codes, text) =
        errors("CloudAuditEvents | extend x = extract_all(@\"(unclosed\", OperationName)");
    assert_eq!(codes, [Code::InvalidLiteral]);
    assert!(text.contains("invalid regular expression"), "{text}");
}

#[test]
fn independent_errors_are_all_reported() {
    let (codes, _) = errors("CloudAuditEvents | where Foo == 1 | extend y = nosuchfn(1)");
    assert_eq!(codes, [Code::UnknownColumn, Code::UnknownFunction]);
}

#[test]
fn a_query_without_a_tabular_expression_is_an_error() {
    let (codes, _) = errors("let x = 1;");
    assert_eq!(codes, [Code::NoTabularExpression]);
}

#[test]
fn kqlc_check_exits_1_and_renders_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.kql");
    std::fs::write(
        &file,
        "CloudAuditEvents\n| where OperationNam == \"create\"\n",
    )
    .unwrap();
    let output = kqlc().arg("check").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("broken.kql:2:9"), "{err}");
    assert!(err.contains("did you mean 'OperationName'?"), "{err}");
}
