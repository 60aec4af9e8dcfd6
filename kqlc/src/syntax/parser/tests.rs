//! The parser's tests: precedence, every operator and literal form, errors
//! located where they are, nesting limits, and the seed queries.

use super::expr::FLAT_LOGIC_CHAIN;
use super::*;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{
    self, BinaryOp, DynamicLiteral, Expr, ExprKind, Ident, Let, LetValue, Literal, MvExpand,
    MvExpandItem, OperatorKind, Source, Span, Statement, StringOp, StringOpKind, TabularExpr,
};
use crate::syntax::lexer::{self};
use crate::syntax::parse;
use crate::types::ScalarType;

/// A span-free rendering of an expression, for precedence tests.
fn sexpr(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Literal(literal) => format!("{literal}"),
        ExprKind::Name(ident) => ident.name.clone(),
        ExprKind::Star => "*".to_string(),
        ExprKind::NamedArgument { name, value } => format!("{} = {}", name.name, sexpr(value)),
        ExprKind::TypeOf(ty) => format!("typeof({ty})"),
        ExprKind::InvalidLiteral { text, .. } => text.clone(),
        ExprKind::Unimplemented(opaque) => opaque.text.clone(),
        ExprKind::Tabular(tabular) => format!("({tabular})"),
        ExprKind::Member { target, name } => format!("{}.{}", sexpr(target), name.name),
        ExprKind::Index { target, index } => format!("{}[{}]", sexpr(target), sexpr(index)),
        ExprKind::Call { name, args } => {
            let args: Vec<String> = args.iter().map(sexpr).collect();
            format!("{}({})", name.name, args.join(", "))
        }
        ExprKind::Unary { op, operand } => format!("({op} {})", sexpr(operand)),
        ExprKind::Binary { op, lhs, rhs } => format!("({op} {} {})", sexpr(lhs), sexpr(rhs)),
        // As the nested form it folds like.
        ExprKind::Chain { first, rest } => rest.iter().fold(sexpr(first), |so_far, (op, e)| {
            format!("({op} {so_far} {})", sexpr(e))
        }),
        ExprKind::List { op, expr, items } => {
            let items: Vec<String> = items.iter().map(sexpr).collect();
            format!("({} {} [{}])", op.spelling(), sexpr(expr), items.join(", "))
        }
        ExprKind::Between {
            negated,
            expr,
            low,
            high,
        } => format!(
            "({} {} {} {})",
            if *negated { "!between" } else { "between" },
            sexpr(expr),
            sexpr(low),
            sexpr(high)
        ),
    }
}

/// Parses `print EXPR` and returns the expression.
fn expr(source: &str) -> Expr {
    let query = parse(&format!("print {source}")).unwrap_or_else(|d| panic!("{source}: {d}"));
    match query.statements.into_iter().next() {
        Some(Statement::Tabular(TabularExpr {
            source: Source::Print(mut items, _),
            ..
        })) => items.remove(0).expr,
        other => panic!("unexpected statement {other:?}"),
    }
}

fn literal(source: &str) -> Literal {
    match expr(source).kind {
        ExprKind::Literal(literal) => literal,
        other => panic!("{source}: not a literal: {other:?}"),
    }
}

fn error(source: &str) -> Diagnostic {
    match parse(source) {
        Ok(query) => panic!("{source:?} parsed: {query:?}"),
        Err(diagnostic) => diagnostic,
    }
}

/// The primary span as `(start, end)`.
fn at(diagnostic: &Diagnostic) -> (usize, usize) {
    (diagnostic.primary.span.start, diagnostic.primary.span.end)
}

fn operators(source: &str) -> Vec<OperatorKind> {
    let query = parse(source).unwrap_or_else(|d| panic!("{source}: {d}"));
    match query.statements.into_iter().last() {
        Some(Statement::Tabular(tabular)) => {
            tabular.operators.into_iter().map(|op| op.kind).collect()
        }
        other => panic!("unexpected statement {other:?}"),
    }
}

fn name(text: &str) -> Ident {
    Ident {
        name: text.to_string(),
        span: Span::default(),
    }
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(sexpr(&expr("a or b and c")), "(or a (and b c))");
    assert_eq!(sexpr(&expr("a and b or c")), "(or (and a b) c)");
}

#[test]
fn multiplication_binds_tighter_than_addition() {
    assert_eq!(sexpr(&expr("a + b * c")), "(+ a (* b c))");
    assert_eq!(sexpr(&expr("a - b - c")), "(- (- a b) c)");
    assert_eq!(sexpr(&expr("a * b % c / d")), "(/ (% (* a b) c) d)");
}

#[test]
fn comparisons_bind_tighter_than_and() {
    assert_eq!(
        sexpr(&expr("x == 1 and y startswith \"z\"")),
        "(and (== x 1) (startswith y \"z\"))"
    );
    assert_eq!(sexpr(&expr("a + 1 > b * 2")), "(> (+ a 1) (* b 2))");
    assert_eq!(
        sexpr(&expr("a has b or c in (1) and not(d)")),
        "(or (has a b) (and (in c [1]) not(d)))"
    );
}

/// These follow Microsoft's reference parser (checked with its oracle).
#[test]
fn precedence_levels_match_the_reference_parser() {
    assert_eq!(sexpr(&expr("a == b < c")), "(== a (< b c))");
    assert_eq!(sexpr(&expr("a < b == c")), "(== (< a b) c)");
    assert_eq!(
        sexpr(&expr("a == b startswith c")),
        "(== a (startswith b c))"
    );
    assert_eq!(sexpr(&expr("a =~ b == c")), "(== (=~ a b) c)");
    assert_eq!(sexpr(&expr("a + b has c")), "(+ a (has b c))");
    assert_eq!(sexpr(&expr("a has b * c")), "(* (has a b) c)");
    assert_eq!(sexpr(&expr("a * b in (c)")), "(in (* a b) [c])");
    assert_eq!(sexpr(&expr("a has b in (c)")), "(in (has a b) [c])");
    assert_eq!(sexpr(&expr("-a has b")), "(has (- a) b)");
    assert_eq!(
        sexpr(&expr("a * b matches regex c")),
        "(* a (matches regex b c))"
    );
}

#[test]
fn unary_minus_binds_tighter_than_binary_and_looser_than_member_access() {
    assert_eq!(sexpr(&expr("-a.b * 2")), "(* (- a.b) 2)");
    assert_eq!(sexpr(&expr("1 - -1")), "(- 1 (- 1))");
    assert_eq!(sexpr(&expr("+a")), "(+ a)");
}

#[test]
fn postfix_chains_read_left_to_right() {
    assert_eq!(
        sexpr(&expr("a.b.c[0][\"x\"].['y z']")),
        "a.b.c[0][\"x\"].y z"
    );
    assert_eq!(sexpr(&expr("Subject[\"kind\"]")), "Subject[\"kind\"]");
    assert_eq!(sexpr(&expr("f(1, g(x))")), "f(1, g(x))");
    assert_eq!(sexpr(&expr("now()")), "now()");
}

#[test]
fn comparisons_do_not_chain() {
    let diagnostic = error("print a == b == c");
    assert_eq!(diagnostic.code, Code::UnexpectedToken);
    assert_eq!(at(&diagnostic), (13, 15));
    for source in [
        "print a != b == c",
        "print a < b < c",
        "print a has b contains c",
        "print a =~ b has c",
        "print a == b in (c)",
        "print a in (b) in (c)",
        "print a between (1 .. 2) == b",
    ] {
        assert_eq!(error(source).code, Code::UnexpectedToken, "{source}");
    }
    assert_eq!(sexpr(&expr("(a == b) == c")), "(== (== a b) c)");
}

#[test]
fn every_string_operator_parses() {
    let kinds = [
        ("contains", StringOpKind::Contains),
        ("has", StringOpKind::Has),
        ("hasprefix", StringOpKind::HasPrefix),
        ("hassuffix", StringOpKind::HasSuffix),
        ("startswith", StringOpKind::StartsWith),
        ("endswith", StringOpKind::EndsWith),
    ];
    for (base, kind) in kinds {
        for negated in [false, true] {
            for case_sensitive in [false, true] {
                let spelling = format!(
                    "{}{base}{}",
                    if negated { "!" } else { "" },
                    if case_sensitive { "_cs" } else { "" }
                );
                let parsed = expr(&format!("a {spelling} \"x\""));
                let expected = StringOp {
                    kind,
                    negated,
                    case_sensitive,
                };
                match parsed.kind {
                    ExprKind::Binary {
                        op: BinaryOp::Str(op),
                        ..
                    } => {
                        assert_eq!(op, expected, "{spelling}");
                        assert_eq!(op.spelling(), spelling);
                    }
                    other => panic!("{spelling}: {other:?}"),
                }
            }
        }
    }
    assert_eq!(
        sexpr(&expr("a matches regex \"b.*k\"")),
        "(matches regex a \"b.*k\")"
    );
    // Legacy spellings Kusto still accepts.
    assert_eq!(sexpr(&expr("a containscs \"x\"")), "(contains_cs a \"x\")");
    assert_eq!(sexpr(&expr("a notcontains \"x\"")), "(!contains a \"x\")");
    assert_eq!(
        sexpr(&expr("a notcontainscs \"x\"")),
        "(!contains_cs a \"x\")"
    );
}

#[test]
fn equality_operators_parse() {
    assert_eq!(sexpr(&expr("a == b")), "(== a b)");
    assert_eq!(sexpr(&expr("a != b")), "(!= a b)");
    assert_eq!(sexpr(&expr("a <> b")), "(!= a b)");
    assert_eq!(sexpr(&expr("a =~ b")), "(=~ a b)");
    assert_eq!(sexpr(&expr("a !~ b")), "(!~ a b)");
    assert_eq!(sexpr(&expr("a <= b")), "(<= a b)");
    assert_eq!(sexpr(&expr("a >= b")), "(>= a b)");
}

#[test]
fn list_operators_take_a_parenthesized_list() {
    assert_eq!(sexpr(&expr("x in (\"a\", \"b\")")), "(in x [\"a\", \"b\"])");
    assert_eq!(sexpr(&expr("x !in (1)")), "(!in x [1])");
    assert_eq!(sexpr(&expr("x in~ (\"A\")")), "(in~ x [\"A\"])");
    assert_eq!(
        sexpr(&expr("x !in~ (\"A\", 'b')")),
        "(!in~ x [\"A\", \"b\"])"
    );
    assert_eq!(
        sexpr(&expr("x has_any (\"a\", \"b\")")),
        "(has_any x [\"a\", \"b\"])"
    );
    assert_eq!(sexpr(&expr("x has_all(\"a\")")), "(has_all x [\"a\"])");
    assert_eq!(sexpr(&expr("x + 1 in (2)")), "(in (+ x 1) [2])");
    assert_eq!(error("print x in 1").code, Code::UnexpectedToken);
    assert!(matches!(
        &expr("x in (T | take 1)").kind,
        ExprKind::List { items, .. } if matches!(items[..], [Expr { kind: ExprKind::Tabular(_), .. }])
    ));
    assert_unsupported(
        "print x in (CloudAuditEvents | take 1)",
        "a sub-query of `in` or `toscalar` that reads an input table",
    );
}

#[test]
fn between_takes_a_range() {
    assert_eq!(sexpr(&expr("x between (1 .. 5)")), "(between x 1 5)");
    assert_eq!(sexpr(&expr("x between(1..5)")), "(between x 1 5)");
    assert_eq!(
        sexpr(&expr("x !between (a - 1 .. b)")),
        "(!between x (- a 1) b)"
    );
    assert_eq!(
        sexpr(&expr("x between (1.5 .. 2.5) and y")),
        "(and (between x 1.5 2.5) y)"
    );
    assert_eq!(error("print x between (1, 5)").code, Code::UnexpectedToken);
}

#[test]
fn literals_of_every_form() {
    let day = lexer::DAY as i64;
    let cases = [
        ("true", Literal::Bool(true)),
        ("false", Literal::Bool(false)),
        ("TRUE", Literal::Bool(true)),
        ("5", Literal::Long(5)),
        ("0x1F", Literal::Long(31)),
        ("1.5", Literal::Real(1.5)),
        ("1e3", Literal::Real(1000.0)),
        ("int(5)", Literal::Int(5)),
        ("long(5)", Literal::Long(5)),
        ("long(-5)", Literal::Long(-5)),
        ("real(1.5)", Literal::Real(1.5)),
        ("real(+inf)", Literal::Real(f64::INFINITY)),
        ("real(-inf)", Literal::Real(f64::NEG_INFINITY)),
        ("bool(true)", Literal::Bool(true)),
        (
            "datetime(2024-05-28T10:00:00Z)",
            Literal::DateTime(19_871 * day + 10 * lexer::HOUR as i64),
        ),
        (
            "datetime(2024-05-28 10:00)",
            Literal::DateTime(19_871 * day + 10 * lexer::HOUR as i64),
        ),
        ("datetime(2024-05-28)", Literal::DateTime(19_871 * day)),
        ("date(2024-05-28)", Literal::DateTime(19_871 * day)),
        ("timespan(1d)", Literal::TimeSpan(day)),
        (
            "timespan(1.02:03:04.5)",
            Literal::TimeSpan(day + 73_845_000_000),
        ),
        ("time(00:01:00)", Literal::TimeSpan(lexer::MINUTE as i64)),
        ("1d", Literal::TimeSpan(day)),
        ("1.5h", Literal::TimeSpan(54_000_000_000)),
        ("30m", Literal::TimeSpan(18_000_000_000)),
        ("10s", Literal::TimeSpan(100_000_000)),
        ("100ms", Literal::TimeSpan(1_000_000)),
        (
            "guid(74be27de-1e4e-49d9-b579-fe0b331d3642)",
            Literal::Guid("74be27de-1e4e-49d9-b579-fe0b331d3642".to_string()),
        ),
        ("\"text\"", Literal::String("text".to_string())),
    ];
    for (source, expected) in cases {
        assert_eq!(literal(source), expected, "{source}");
    }
    assert!(matches!(literal("real(nan)"), Literal::Real(value) if value.is_nan()));
}

#[test]
fn typed_nulls_of_every_type() {
    let cases = [
        ("long(null)", ScalarType::Long),
        ("int(null)", ScalarType::Int),
        ("real(null)", ScalarType::Real),
        ("bool(null)", ScalarType::Bool),
        ("guid(null)", ScalarType::Guid),
        ("timespan(null)", ScalarType::TimeSpan),
        ("datetime(null)", ScalarType::DateTime),
        ("dynamic(null)", ScalarType::Dynamic),
    ];
    for (source, scalar_type) in cases {
        assert_eq!(literal(source), Literal::Null(scalar_type), "{source}");
    }
}

#[test]
fn dynamic_literals_hold_json_like_values() {
    let scalar = |literal: Literal| DynamicLiteral::Scalar(Box::new(literal));
    assert_eq!(
        literal(
            r#"dynamic({"a": [1, -2, 2.5, "x", null, true, 1d, datetime(1970-01-01), long(null)], "b": {}})"#
        ),
        Literal::Dynamic(DynamicLiteral::Bag(vec![
            (
                "a".to_string(),
                DynamicLiteral::Array(vec![
                    scalar(Literal::Long(1)),
                    scalar(Literal::Long(-2)),
                    scalar(Literal::Real(2.5)),
                    scalar(Literal::String("x".to_string())),
                    DynamicLiteral::Null,
                    scalar(Literal::Bool(true)),
                    scalar(Literal::TimeSpan(lexer::DAY as i64)),
                    scalar(Literal::DateTime(0)),
                    DynamicLiteral::Null,
                ])
            ),
            ("b".to_string(), DynamicLiteral::Bag(vec![])),
        ]))
    );
    assert_eq!(
        literal("dynamic([])"),
        Literal::Dynamic(DynamicLiteral::Array(vec![]))
    );
    assert_eq!(
        literal("dynamic(-1)"),
        Literal::Dynamic(scalar(Literal::Long(-1)))
    );
    assert_eq!(
        literal("dynamic(\"a\")"),
        Literal::Dynamic(scalar(Literal::String("a".to_string())))
    );
    assert_eq!(error("print dynamic(x)").code, Code::UnexpectedToken);
    assert_eq!(error("print dynamic({a: 1})").code, Code::UnexpectedToken);
    assert_eq!(error("print dynamic([1,])").code, Code::UnexpectedToken);
}

#[test]
fn string_escapes_verbatim_and_concatenation() {
    assert_eq!(
        literal(r#""a\"b\\c\n""#),
        Literal::String("a\"b\\c\n".to_string())
    );
    assert_eq!(literal(r#"'it\'s'"#), Literal::String("it's".to_string()));
    assert_eq!(
        literal(r#"@"C:\dir\""#),
        Literal::String("C:\\dir\\".to_string())
    );
    assert_eq!(
        literal(r#"@'say ''hi'''"#),
        Literal::String("say 'hi'".to_string())
    );
    assert_eq!(
        literal(r#""a" "b" 'c' @"d" h"e""#),
        Literal::String("abcde".to_string())
    );
    assert_eq!(
        literal("```multi\nline```"),
        Literal::String("multi\nline".to_string())
    );
}

#[test]
fn comments_and_trailing_whitespace_are_ignored() {
    let query = parse("// leading comment\nT // after the table\n| where x == 1 // why\n  \n\t")
        .expect("parses");
    assert_eq!(query.statements.len(), 1);
    assert_eq!(
        operators("T | take 5   \n\n"),
        vec![OperatorKind::Take(expr("5"))]
    );
    assert_eq!(parse("").expect("empty query parses").statements, vec![]);
    assert_eq!(
        parse("// only a comment").expect("parses").statements,
        vec![]
    );
}

#[test]
fn bracketed_names_are_names_and_bracketed_strings_after_an_expression_index_it() {
    assert_eq!(sexpr(&expr("['where'] + [\"x y\"]")), "(+ where x y)");
    match expr("x[\"kind\"]").kind {
        ExprKind::Index { index, .. } => {
            assert_eq!(
                index.kind,
                ExprKind::Literal(Literal::String("kind".to_string()))
            )
        }
        other => panic!("{other:?}"),
    }
    match expr("x.['kind']").kind {
        ExprKind::Member { name: member, .. } => assert_eq!(member, name("kind")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn summarize_sort_top_distinct_and_projections_parse_and_print_back() {
    for source in [
        "T | join (U) on x",
        "T | join kind=leftanti hint.strategy=shuffle (U | where y > 1) on $left.a == $right.b, c",
        "T | lookup kind=inner U on k",
        "T | parse Msg with * \"user=\" User \" id=\" Id: long *",
        "T | parse-where kind=relaxed Msg with \"a\" X: real",
        "union T, (U | take 1) | count",
        "T | union U, (datatable (a: long) [1])",
        "T | summarize count(), c = countif(x > 1), arg_max(t, *) by k, bin(t, 1h)",
        "T | summarize by k",
        "T | make-series kind=nonempty n = count() default = -1, avg(x) on t from 0 to 10 step 2 by k",
        "T | make-series hint.shufflekey=k max(x) on t step 1h",
        "T | make-series sum(x) on t in range(1, 5, 1)",
        "T | make-series sum(x) on bin(t, 1) to 5 step 1",
        "T | sort by a asc nulls last, b desc",
        "T | order by a",
        "T | top 3 by n asc nulls first",
        "T | distinct a, b",
        "T | distinct *",
        "T | project-keep a, b | project-reorder b",
    ] {
        let query = parse(source).unwrap_or_else(|d| panic!("{source}: {d}"));
        let printed = query.to_string();
        assert_eq!(
            parse(&printed).unwrap(),
            query,
            "{source} printed as {printed}"
        );
    }
    let ops = operators("T | top 3 by n");
    let OperatorKind::Top { by, .. } = &ops[0] else {
        panic!("not top: {ops:?}")
    };
    assert!(by.descending && !by.nulls_first());
}

#[test]
fn tabular_operators_parse() {
    let ops = operators(
        "T | where a > 1 | filter b | extend c = a + 1, d | project e = c, a \
         | project-away x, ['y z'] | project-rename n1 = o1, n2 = o2 | take 5 | limit 6 | count",
    );
    assert_eq!(ops.len(), 9);
    assert!(matches!(ops[0], OperatorKind::Where(_)));
    assert!(matches!(ops[1], OperatorKind::Where(_)));
    match &ops[2] {
        OperatorKind::Extend(items) => {
            assert_eq!(items[0].name, Some(name("c")));
            assert_eq!(items[1].name, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&ops[3], OperatorKind::Project(items) if items.len() == 2));
    assert_eq!(
        ops[4],
        OperatorKind::ProjectAway(vec![
            ast::ColumnPattern {
                name: name("x"),
                wildcard: false
            },
            ast::ColumnPattern {
                name: name("y z"),
                wildcard: false
            }
        ])
    );
    assert_eq!(
        ops[5],
        OperatorKind::ProjectRename(vec![(name("n1"), name("o1")), (name("n2"), name("o2"))])
    );
    assert_eq!(ops[6], OperatorKind::Take(expr("5")));
    assert_eq!(ops[7], OperatorKind::Take(expr("6")));
    assert_eq!(ops[8], OperatorKind::Count);
}

#[test]
fn mv_expand_with_names_types_and_limit() {
    let ops = operators(
        "T | mv-expand Subject = RawEventData.RequestObject.subjects | mvexpand a, b = c to typeof(long) limit 5 \
         | mv-expand kind=bag x | mv-expand bagexpansion = bag y",
    );
    assert_eq!(
        ops[0],
        OperatorKind::MvExpand(MvExpand {
            items: vec![MvExpandItem {
                name: Some(name("Subject")),
                expr: expr("RawEventData.RequestObject.subjects"),
                to_type: None,
            }],
            limit: None,
            item_index: None,
            bag_as_array: false,
        })
    );
    assert_eq!(
        ops[1],
        OperatorKind::MvExpand(MvExpand {
            items: vec![
                MvExpandItem {
                    name: None,
                    expr: expr("a"),
                    to_type: None
                },
                MvExpandItem {
                    name: Some(name("b")),
                    expr: expr("c"),
                    to_type: Some(ScalarType::Long)
                },
            ],
            limit: Some(expr("5")),
            item_index: None,
            bag_as_array: false,
        })
    );
    assert_eq!(ops.len(), 4);
    let OperatorKind::MvExpand(expand) =
        &operators("T | mv-expand kind=array with_itemindex=i x")[0]
    else {
        panic!("not mv-expand")
    };
    assert!(expand.bag_as_array);
    assert_eq!(expand.item_index, Some(name("i")));
}

#[test]
fn let_statements_are_scalar_or_tabular() {
    let query = parse("let x = 5; let T = print a = 1; let U = T | where a > x; let V = T; U")
        .expect("parses");
    assert_eq!(query.statements.len(), 5);
    let values: Vec<&LetValue> = query.statements[..4]
        .iter()
        .map(|statement| match statement {
            Statement::Let(binding) => &binding.value,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(matches!(values[0], LetValue::Scalar(_)));
    assert!(matches!(values[1], LetValue::Tabular(_)));
    assert!(matches!(values[2], LetValue::Tabular(_)));
    assert!(matches!(
        values[3],
        LetValue::Scalar(Expr {
            kind: ExprKind::Name(_),
            ..
        })
    ));
    // A pipe inside parentheses does not make the value tabular.
    assert!(parse("let x = datatable (a: long) [1, 2, ]; x").is_ok());
    assert!(parse("let x = 1;").is_ok());
    assert_eq!(error("let x = 1;; print x").code, Code::UnexpectedToken);
    assert!(matches!(
        parse("let f = (a: long) { a + 1 }; print x = f(1)")
            .expect("parses")
            .statements[0],
        Statement::Let(Let {
            value: LetValue::Function(_),
            ..
        })
    ));
    let function = |source: &str| match parse(source).expect("parses").statements.remove(0) {
        Statement::Let(Let {
            value: LetValue::Function(function),
            ..
        }) => function,
        other => panic!("{source}: not a function: {other:?}"),
    };
    let f = function("let f = (a: long) { print y = a }; f(1)");
    assert!(matches!(f.body, ast::FunctionBody::Tabular(_)));
    let f = function("let f = (T: (x: long), n: long = 3) { let m = n * 2; T | take m }; f(U)");
    assert_eq!(f.lets.len(), 1);
    assert!(matches!(f.params[0].kind, ast::ParamKind::Tabular(Some(_))));
    assert!(matches!(
        f.params[1].kind,
        ast::ParamKind::Scalar {
            default: Some(_),
            ..
        }
    ));
    let f = function("let f = view () { T }; f()");
    assert!(matches!(f.body, ast::FunctionBody::Scalar(_)));
    // A piped argument needs parentheses, as in Kusto.
    let schema = crate::sema::Schema::builtin();
    assert!(crate::compile("let f = (T: (*)) { T }; f(U | take 1)", &schema).is_err());
    assert!(parse("let f = (T: (*)) { T }; f((U | take 1))").is_ok());
    assert!(matches!(
        parse("let T = (externaldata(a: string) [@\"x\"] | where a != \"\"); T")
            .expect("parses")
            .statements[0],
        Statement::Let(Let {
            value: LetValue::Tabular(_),
            ..
        })
    ));
    assert!(matches!(
        parse("let T = (U | take 1); T").expect("parses").statements[0],
        Statement::Let(Let {
            value: LetValue::Tabular(_),
            ..
        })
    ));
    assert!(matches!(
        parse("let x = (1 + f(2)); print x")
            .expect("parses")
            .statements[0],
        Statement::Let(Let {
            value: LetValue::Scalar(_),
            ..
        })
    ));
}

#[test]
fn datatable_and_print_sources() {
    let query = parse("datatable (a: long, ['b c']: dynamic) [1, dynamic([1]), 2, dynamic(null)]")
        .expect("parses");
    match &query.statements[0] {
        Statement::Tabular(TabularExpr {
            source: Source::Datatable(table),
            ..
        }) => {
            assert_eq!(
                table.columns,
                vec![
                    (name("a"), ScalarType::Long),
                    (name("b c"), ScalarType::Dynamic)
                ]
            );
            assert_eq!(table.values.len(), 4);
        }
        other => panic!("{other:?}"),
    }
    assert!(parse("print x = 1, 2, y = \"a\"").is_ok());
    assert_eq!(error("print").code, Code::UnexpectedToken);
}

#[test]
fn evaluate_parses_its_call_and_output_schema() {
    for source in [
        "CloudAuditEvents | evaluate bag_unpack(d)",
        "CloudAuditEvents | evaluate bag_unpack(d, 'p_', columnsConflict='keep_source')",
        "CloudAuditEvents | evaluate bag_unpack(d) : (*, a: string, b: long)",
        "CloudAuditEvents | evaluate bag_unpack(d) : (a: dynamic)",
        "CloudAuditEvents | evaluate ipv4_lookup(T, ip, net, return_unmatched = true)",
        "CloudAuditEvents | evaluate narrow()",
    ] {
        let query = parse(source).unwrap_or_else(|e| panic!("{source}: {e:?}"));
        let printed = query.to_string();
        assert_eq!(parse(&printed).unwrap(), query, "{printed}");
    }
    assert_eq!(
        error("CloudAuditEvents | evaluate bag_unpack(d) : (a)").code,
        Code::UnexpectedToken
    );
    assert_eq!(
        error("CloudAuditEvents | evaluate").code,
        Code::UnexpectedToken
    );
}

#[test]
fn unsupported_operators_parse_and_the_checker_locates_them() {
    // `evaluate` parses for any plugin; the checker refuses unknown ones
    // at the plugin's name.
    let diagnostic = assert_unsupported(
        "CloudAuditEvents | evaluate hint.distribution = per_node autocluster(0.6)",
        "plugin 'autocluster' is not supported yet",
    );
    assert_eq!(diagnostic.primary.span.start, 57);
    assert!(parse("CloudAuditEvents | project-by-names \"Name\", dynamic([\"a\"])").is_ok());
    assert!(
        parse("T | parse-kv M as (a: string, ['b c']: long) with (quote='\"', greedy=true)")
            .is_ok()
    );
    assert_eq!(
        error("T | parse-kv M as (a) with (quote='\"')").code,
        Code::UnexpectedToken
    );
    let diagnostic = assert_unsupported(
        "CloudAuditEvents\n| facet by OperationName",
        "operator 'facet' is not supported yet",
    );
    assert_eq!(diagnostic.primary.span.start, 19);
    for (source, what) in [
        ("set x = 1; CloudAuditEvents", "the 'set' statement"),
        (
            "CloudAuditEvents | extend (a, b) = strlen(City)",
            "assigning several names",
        ),
        (
            "print x = toscalar(CloudAuditEvents | count)",
            "a sub-query of `in` or `toscalar` that reads an input table",
        ),
        (
            "print x = strlen(CloudAuditEvents | count)",
            "'strlen' of a tabular expression",
        ),
    ] {
        assert_unsupported(source, what);
    }
    // Still syntax errors, not opaque.
    for (source, what) in [
        (
            "CloudAuditEvents | where * !has \"x\"",
            "negated test of every column",
        ),
        (
            "print x = 1 | union kind=left (print y = 1)",
            "union option 'kind=left'",
        ),
        (
            "CloudAuditEvents | project-reorder City granny-asc",
            "granny-asc",
        ),
    ] {
        assert_unsupported(source, what);
    }
    assert_unsupported("db.T | take 1", "a qualified table name");
}

/// Asserts that `source` parses, and that checking it reports an
/// unsupported construct whose message contains `what`.
fn assert_unsupported(source: &str, what: &str) -> Diagnostic {
    parse(source).unwrap_or_else(|d| panic!("{source} should parse: {d}"));
    let diagnostics = crate::compile(source, &crate::sema::Schema::builtin()).expect_err(source);
    diagnostics
        .into_iter()
        .find(|d| d.code == Code::Unsupported && d.message.contains(what))
        .unwrap_or_else(|| panic!("{source}: no unsupported-construct error mentioning {what}"))
}

#[test]
fn unknown_operators_suggest_a_known_one() {
    let diagnostic = error("T | wher x");
    assert_eq!(diagnostic.code, Code::UnexpectedToken);
    assert_eq!(at(&diagnostic), (4, 8));
    assert_eq!(diagnostic.help.as_deref(), Some("did you mean `where`?"));
    // A space splits a hyphenated name.
    assert_eq!(error("T | mv - expand x").code, Code::UnexpectedToken);
}

#[test]
fn unbalanced_delimiters_point_at_the_culprit() {
    let diagnostic = error("T | where (a == 1");
    assert_eq!(diagnostic.code, Code::UnbalancedDelimiter);
    assert_eq!(at(&diagnostic), (10, 11));
    assert_eq!(diagnostic.primary.message, "unclosed delimiter");
    let diagnostic = error("T | where a == 1)");
    assert_eq!(diagnostic.code, Code::UnbalancedDelimiter);
    assert_eq!(at(&diagnostic), (16, 17));
    let diagnostic = error("print f(x]");
    assert_eq!(diagnostic.code, Code::UnbalancedDelimiter);
    assert_eq!(at(&diagnostic), (9, 10));
    assert_eq!(diagnostic.secondary[0].span.start, 7);
    assert_eq!(
        error("print dynamic({\"a\": [1}").code,
        Code::UnbalancedDelimiter
    );
}

#[test]
fn unterminated_string_is_reported_at_its_quote() {
    let diagnostic = error("T | where a == \"abc");
    assert_eq!(diagnostic.code, Code::UnterminatedString);
    assert_eq!(at(&diagnostic), (15, 19));
}

#[test]
fn bad_literals_are_invalid() {
    // Kusto's grammar takes any content in a typed literal, so these
    // parse; the checker refuses them, located.
    for (source, at_span) in [
        ("print datetime(2024-13-45)", (6, 26)),
        ("print int(3000000000)", (6, 21)),
        ("print timespan(zz)", (6, 18)),
        ("print guid(nope)", (6, 16)),
        ("print bool(maybe)", (6, 17)),
    ] {
        let query = parse(source).unwrap_or_else(|d| panic!("{source}: {d}"));
        assert_eq!(query.to_string(), source);
        let diagnostics =
            crate::compile(source, &crate::sema::Schema::builtin()).expect_err(source);
        assert_eq!(diagnostics[0].code, Code::InvalidLiteral, "{source}");
        assert_eq!(at(&diagnostics[0]), at_span, "{source}");
    }
    for source in ["print 1zz", "print 99999999999999999999"] {
        assert_eq!(error(source).code, Code::InvalidLiteral, "{source}");
    }
}

#[test]
fn unexpected_tokens_say_what_was_expected() {
    let diagnostic = error("T | where");
    assert_eq!(diagnostic.code, Code::UnexpectedToken);
    assert_eq!(
        diagnostic.message,
        "expected an expression, found end of input"
    );
    assert_eq!(at(&diagnostic), (9, 9));
    let diagnostic = error("T | where a b");
    assert_eq!(
        diagnostic.message,
        "expected `|`, `;` or end of input, found `b`"
    );
    assert_eq!(at(&diagnostic), (12, 13));
    let diagnostic = error("T | where !isnull(a)");
    assert_eq!(diagnostic.message, "expected an expression, found `!`");
    assert!(diagnostic.help.is_some());
    assert_eq!(error("T | extend x = and").code, Code::UnexpectedToken);
    // Type names and some keywords are names only when bracketed, as in Kusto.
    for source in [
        "print x = long",
        "datatable | take 1",
        "print x.string",
        "print to",
        "print x = dynamic",
    ] {
        assert_eq!(error(source).code, Code::UnexpectedToken, "{source}");
    }
    assert!(
        parse("print x = ['long'] + bool + guid + typeof + kind, y = z.kind, ['long'] = 1").is_ok()
    );
    assert_eq!(error("| where x").code, Code::UnexpectedToken);
    assert_eq!(
        error("where x > 1").help.as_deref(),
        Some("tabular operators come after a `|`, as in `TableName | where ...`")
    );
    assert_eq!(error("T | project a, ").code, Code::UnexpectedToken);
    assert_eq!(error("print a.").code, Code::UnexpectedToken);
}

#[test]
fn nesting_too_deep_is_an_error_not_a_stack_overflow() {
    let open = "(".repeat(10_000);
    let diagnostic = error(&format!("print {open}"));
    assert_eq!(diagnostic.code, Code::NestingTooDeep);
    assert_eq!(at(&diagnostic), (6 + MAX_DEPTH, 7 + MAX_DEPTH));

    let balanced = format!("print {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(error(&balanced).code, Code::NestingTooDeep);
    let unary = format!("print {}1", "-".repeat(10_000));
    assert_eq!(error(&unary).code, Code::NestingTooDeep);
    let members = format!("print a{}", ".b".repeat(10_000));
    assert_eq!(error(&members).code, Code::NestingTooDeep);
    let calls = format!("print {}1{}", "f(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(error(&calls).code, Code::NestingTooDeep);
    let arrays = format!(
        "print dynamic({}{})",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert_eq!(error(&arrays).code, Code::NestingTooDeep);
}

#[test]
fn a_long_flat_arithmetic_chain_is_one_node_in_order_not_nesting() {
    let terms: String = (0..10_000)
        .map(|i| if i % 2 == 0 { " + 2.5" } else { " - x" })
        .collect();
    let chain = expr(&format!("1{terms}"));
    let ExprKind::Chain { first, rest } = &chain.kind else {
        panic!("not a chain: {chain:?}");
    };
    assert!(matches!(first.kind, ExprKind::Literal(Literal::Long(1))));
    assert_eq!(rest.len(), 10_000);
    assert_eq!((rest[0].0, rest[1].0), (BinaryOp::Add, BinaryOp::Sub));
    // Printed flat, and parsed back to the same tree.
    assert_eq!(expr(&chain.to_string()), chain);
    // A short chain keeps the nested form.
    assert!(matches!(
        expr(&format!("1{}", " + 1".repeat(FLAT_LOGIC_CHAIN))).kind,
        ExprKind::Binary { .. }
    ));
    // Two long runs of different levels around a comparison: each its
    // own chain, precedence kept.
    let compared = expr(&format!(
        "1{} > 2{}",
        " * 3".repeat(100),
        " - 4 / 5".repeat(100)
    ));
    let ExprKind::Binary {
        op: BinaryOp::Gt,
        lhs,
        rhs,
    } = &compared.kind
    else {
        panic!("{compared:?}");
    };
    assert!(matches!(&lhs.kind, ExprKind::Chain { rest, .. } if rest.len() == 100));
    let ExprKind::Chain { rest, .. } = &rhs.kind else {
        panic!("{rhs:?}");
    };
    assert_eq!(rest.len(), 100);
    assert!(matches!(
        rest[0].1.kind,
        ExprKind::Binary {
            op: BinaryOp::Div,
            ..
        }
    ));
    // A long chain after a parenthesized one keeps it as its first operand.
    let inner = format!("(1{})", " + 1".repeat(40));
    let outer = expr(&format!("{inner}{}", " - 2".repeat(40)));
    let ExprKind::Chain { first, rest } = &outer.kind else {
        panic!("{outer:?}");
    };
    assert!(matches!(&first.kind, ExprKind::Chain { rest, .. } if rest.len() == 40));
    assert!(rest.iter().all(|(op, _)| *op == BinaryOp::Sub));
}

#[test]
fn nesting_up_to_the_limit_is_fine() {
    // Just under the limit, in a debug build on a test thread's 2 MiB
    // stack: the limit must trip before the stack would.
    let depth = MAX_DEPTH - 2;
    assert!(parse(&format!(
        "print {}1{}",
        "(".repeat(depth),
        ")".repeat(depth)
    ))
    .is_ok());
    assert!(parse(&format!(
        "print {}1{}",
        "f(".repeat(depth),
        ")".repeat(depth)
    ))
    .is_ok());
    assert!(parse(&format!("print {}1", "-".repeat(depth))).is_ok());
    assert!(parse(&format!("print x{}", " or x".repeat(depth))).is_ok());
    assert!(parse(&format!(
        "print dynamic({}{})",
        "[".repeat(depth),
        "]".repeat(depth)
    ))
    .is_ok());
    assert!(parse(&format!(
        "print {}1{}",
        "(-".repeat(depth / 2),
        ")".repeat(depth / 2)
    ))
    .is_ok());
    assert!(parse(&format!("print a{}", "[0]".repeat(depth / 2))).is_ok());
    assert!(parse(&format!(
        "print {}1{}",
        "x[".repeat(depth / 2),
        "]".repeat(depth / 2)
    ))
    .is_ok());
}

/// The reference queries, read from the shared folder, or `None` (with a
/// message) when it is missing.
pub(crate) fn seed_queries() -> Option<Vec<(String, String)>> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seed-queries");
    let Ok(entries) = std::fs::read_dir(&folder) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "no seed queries at {} and CI is set",
            folder.display()
        );
        eprintln!("skipping: no seed queries at {}", folder.display());
        return None;
    };
    let mut queries: Vec<(String, String)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "kql"))
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            Some((path.display().to_string(), text))
        })
        .collect();
    queries.sort();
    Some(queries)
}

#[test]
fn seed_queries_parse_unmodified() {
    let Some(queries) = seed_queries() else {
        return;
    };
    assert!(!queries.is_empty());
    for (path, text) in queries {
        let query =
            parse(&text).unwrap_or_else(|d| panic!("{path}: {}", d.render(&path, &text, false)));
        assert_eq!(query.statements.len(), 1, "{path}");
    }
}

/// A tiny deterministic PRNG (xorshift64*), so the property test needs no
/// new dependency and fails the same way every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments that tend to reach unusual lexer and parser paths.
const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "@\"",
    "```",
    "~~~",
    "|",
    "!",
    "!in~",
    "..",
    ".",
    "datetime(",
    "dynamic(",
    "timespan(",
    "long(",
    "real(",
    "guid(",
    "int(",
    "1e",
    "0x",
    "\\",
    "//",
    "\n",
    "1d",
    "1.5h",
    " and ",
    " or ",
    " in (",
    " between (",
    " matches regex ",
    "h'",
    "ä",
    "€",
    "\u{1F600}",
    "-",
    "+",
    "*",
    "=",
    "==",
    "=~",
    ";",
    ",",
    "let x = ",
    "print ",
    "| mv-expand ",
    "| project-away ",
    "['x']",
    "99999999999999999999",
    "\u{0}",
    "\r",
];

#[test]
fn mutated_inputs_never_panic_and_what_parses_round_trips() {
    let mut seeds: Vec<String> = seed_queries()
        .unwrap_or_default()
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    seeds.push(
        "let x = 5; datatable (a: long, b: string) [1, \"x\"] | where a in (1, 2) and b !has 'y' \
         | extend c = dynamic({\"k\": [1, 2.5, null]}), d = datetime(2024-05-28 10:00) + 1h \
         | mv-expand c to typeof(long) limit 2 | project-rename e = c | take 3"
            .to_string(),
    );
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0;
    for round in 0..4000 {
        let seed = &seeds[round % seeds.len()];
        let mut bytes = seed.as_bytes().to_vec();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len() + 1);
            match rng.below(5) {
                0 => bytes.truncate(at),
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                2 if at < bytes.len() => bytes[at] = (rng.next() & 0xFF) as u8,
                _ => {
                    let fragment = FRAGMENTS[rng.below(FRAGMENTS.len())];
                    bytes.splice(at..at, fragment.bytes());
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Ok(query) = parse(&text) {
            parsed += 1;
            let printed = query.to_string();
            let reparsed = parse(&printed).unwrap_or_else(|d| {
                panic!("printed query does not parse: {d}\ninput: {text:?}\nprinted: {printed}")
            });
            if printed.contains("nan") {
                // NaN is not equal to itself; compare the text instead.
                assert_eq!(reparsed.to_string(), printed, "input: {text:?}");
            } else {
                assert_eq!(reparsed, query, "input: {text:?}\nprinted: {printed}");
            }
        }
    }
    // Enough mutations keep the query valid for the round trip to be tested.
    assert!(parsed > 100, "only {parsed} mutated inputs parsed");
}

/// The first statement's tabular expression.
fn first_tabular(source: &str) -> TabularExpr {
    match parse(source).expect("parses").statements.into_iter().next() {
        Some(Statement::Tabular(tabular)) => tabular,
        other => panic!("{other:?}"),
    }
}

#[test]
fn search_parses_as_source_and_operator_and_prints_back() {
    for source in [
        r#"search "admin""#,
        r#"search in (T, U) "a*" and not("b")"#,
        r#"search kind=case_sensitive in (T) Name: "x" or Size > 3"#,
        r#"T | search *"#,
        r#"T | search "a" and (* has "b" or c == "d") | take 1"#,
        r#"T | search in (T) "a""#,
    ] {
        let query = parse(source).unwrap_or_else(|e| panic!("{source}: {e:?}"));
        let printed = query.to_string();
        assert_eq!(parse(&printed).unwrap(), query, "{printed}");
    }
    match &first_tabular(r#"search kind=case_sensitive in (T) C: "x""#).source {
        Source::Search(search, _) => {
            assert!(search.case_sensitive);
            assert_eq!(search.tables.len(), 1);
            assert_eq!(search.predicate.to_string(), r#"C has "x""#);
        }
        other => panic!("{other:?}"),
    }
    // `search` alone is a table of that name.
    assert!(matches!(first_tabular("search").source, Source::Named(_)));
    // As in Microsoft's parser: any option parses (the checker refuses
    // it), a pipeline in the table list does not.
    assert!(matches!(
        first_tabular(r#"search kind=fuzzy "a""#).source,
        Source::Unimplemented(_)
    ));
    assert_eq!(
        error(r#"search in (T, (U | where x > 1)) "a""#).code,
        Code::UnexpectedToken
    );
}

#[test]
fn find_parses_every_form_of_the_reference_and_prints_back() {
    for source in [
        r#"find "admin""#,
        r#"find where x == 1"#,
        r#"find in (T, U) where x == 1 and y has "a""#,
        r#"find withsource=Src in (T) where * has "a" project-smart"#,
        r#"find in (T, U) where x == 1 project a, b: string, pack_all()"#,
        r#"find x == 1 or y == "b" project a, c"#,
        r#"find x == "e" project pack_all() | take 3"#,
        r#"find in (C*) where * has "h""#,
        r#"find in (database('*').*) where * has "k""#,
        r#"find in (database("S*").C*, cluster("c").database("B*").K*) where * has "k""#,
        r#"find datascope=hotcache where x == 1"#,
    ] {
        let query = parse(source).unwrap_or_else(|e| panic!("{source}: {e:?}"));
        let printed = query.to_string();
        assert_eq!(parse(&printed).unwrap(), query, "{printed}");
    }
    match &first_tabular(r#"find withsource=S in (T) where a > 1 project a: long, pack(*)"#).source
    {
        Source::Find(find, _) => {
            assert_eq!(
                find.with_source.as_ref().map(|n| n.name.as_str()),
                Some("S")
            );
            assert_eq!(find.tables.as_ref().map(Vec::len), Some(1));
            assert_eq!(
                find.output,
                ast::FindOutput::Project {
                    columns: vec![(
                        Ident {
                            name: "a".to_string(),
                            span: Span::default()
                        },
                        Some(crate::types::ScalarType::Long)
                    )],
                    pack: true
                }
            );
        }
        other => panic!("{other:?}"),
    }
    // `find` alone is a table of that name; after a pipe it parses and is
    // refused by the checker.
    assert!(matches!(first_tabular("find").source, Source::Named(_)));
    assert!(matches!(
        first_tabular(r#"T | find where x == 1"#).operators[0].kind,
        OperatorKind::Unimplemented(_)
    ));
    // As in Microsoft's parser: `where` is required after `in (...)`, and
    // the tables are names, not pipelines.
    assert_eq!(error("find in (T) x == 1").code, Code::UnexpectedToken);
    assert_eq!(
        error("find in ((T | take 1)) where x == 1").code,
        Code::UnexpectedToken
    );
}
