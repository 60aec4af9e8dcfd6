//! The literal prefilter never changes results: random rules drawn from the
//! supported language run over random lines (with the literals spelt in
//! other cases, with JSON `\u` escapes, and with non-ASCII look-alikes) give
//! exactly the same rows with and without `--no-prefilter`, through the
//! generated code users get. Literals compared with number, bool and string
//! fields are decorated as `==` may read them (padded with ASCII and Unicode
//! spaces, signed, with `.0` or an exponent, in other cases), and the lines
//! spell numbers and bools in several ways (`201`, `2.01e2`, `"201"`,
//! `" 201"`, `true`, `"True"`).

use crate::common::Random;
use kqlc::sema::Schema;
use kqlc_cli::build::{Profile, Rule, Toolchain};
use std::process::Command;

/// Atoms of `where` clauses over the fields the lines fill.
const ATOMS: &[&str] = &[
    r#"OperationName == "create""#,
    r#"OperationName =~ "CREATE""#,
    r#"OperationName != "delete""#,
    r#"OperationName in ("create", "patch")"#,
    r#"OperationName in~ ("Create", "Patch")"#,
    r#"DataSource == "Azure Kubernetes Service""#,
    r#"DataSource contains "kubernetes""#,
    r#"DataSource has "Amazon""#,
    r#"RawEventData.ObjectRef.resource == "pods""#,
    r#"RawEventData.ObjectRef.resource startswith "pod""#,
    r#"RawEventData.ObjectRef.namespace has "kube-system""#,
    r#"RawEventData.ObjectRef.namespace =~ "kube-system""#,
    r#"RawEventData.ObjectRef.namespace !has "default""#,
    r#"tostring(RawEventData.ObjectRef.name) startswith "tunnel""#,
    r#"tostring(RawEventData.ObjectRef.name) endswith_cs "front""#,
    r#"RawEventData.User.username has_any ("alice", "bob")"#,
    r#"RawEventData.User.username contains_cs "ali""#,
    r#"RawEventData.Privileged == "true""#,
    r#"RawEventData.Code startswith "20""#,
    r#"isnull(RawEventData.ObjectRef.subresource)"#,
];

/// `text` as a KQL string literal, non-ASCII and control characters as
/// `\u` escapes.
fn kql_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push_str(&format!("\\u{:04x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// `base` spelt another way: as a number `==` reads alike (`+201`,
/// `201.0`, `2.01e2`), in another case, and padded with spaces `==` trims
/// around a number (ASCII space, tab, no-break space, em space).
fn decorate(random: &mut Random, base: &str) -> String {
    let digits = !base.is_empty() && base.bytes().all(|b| b.is_ascii_digit());
    let spelt = match random.below(8) {
        0 if digits => format!("+{base}"),
        1 if digits => format!("{base}.0"),
        2 if digits => format!("{}.{}e{}", &base[..1], &base[1..], base.len() - 1),
        3 if digits => format!("{}.{}E+{}", &base[..1], &base[1..], base.len() - 1),
        4 if digits => format!("{base}00e-2"),
        5 => base.to_uppercase(),
        6 => {
            let mut chars = base.chars();
            chars.next().map_or_else(String::new, |first| {
                first
                    .to_uppercase()
                    .chain(chars.map(|c| c.to_ascii_lowercase()))
                    .collect()
            })
        }
        _ => base.to_string(),
    };
    match random.below(8) {
        0 => format!(" {spelt}"),
        1 => format!("{spelt} "),
        2 => format!("\t{spelt}"),
        3 => format!("\u{a0}{spelt}"),
        4 => format!("{spelt}\u{2003}"),
        5 => format!(" {spelt}\u{a0}"),
        _ => spelt,
    }
}

/// A test of the number, bool or string field against a decorated literal.
fn decorated_atom(random: &mut Random) -> String {
    let (field, bases): (&str, &[&str]) = match random.below(3) {
        0 => ("RawEventData.Code", &["201", "200"]),
        1 => ("RawEventData.Privileged", &["true", "false"]),
        _ => ("RawEventData.ObjectRef.resource", &["pods", "secrets"]),
    };
    let base = *random.pick(bases);
    let literal = kql_string(&decorate(random, base));
    match random.below(7) {
        0 => format!("{field} == {literal}"),
        1 => format!("{field} =~ {literal}"),
        2 => format!("{field} in ({literal}, \"patch\")"),
        3 => format!("{field} in~ ({literal})"),
        4 => format!("{field} startswith {literal}"),
        5 => format!("{field} has {literal}"),
        _ => format!("{field} contains {literal}"),
    }
}

fn predicate(random: &mut Random, depth: usize) -> String {
    let atom = |random: &mut Random| {
        if random.below(3) == 0 {
            decorated_atom(random)
        } else {
            random.pick(ATOMS).to_string()
        }
    };
    if depth == 0 {
        return atom(random);
    }
    match random.below(5) {
        0 => format!(
            "({} and {})",
            predicate(random, depth - 1),
            predicate(random, depth - 1)
        ),
        1 => format!(
            "({} or {})",
            predicate(random, depth - 1),
            predicate(random, depth - 1)
        ),
        2 => format!("not({})", predicate(random, depth - 1)),
        _ => atom(random),
    }
}

/// A JSON string literal for `text`, some letters written as `\u` escapes.
fn json_string(random: &mut Random, text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        if c.is_ascii_alphabetic() && random.below(12) == 0 {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else if c == '"' || c == '\\' {
            out.push('\\');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// A line no rule's literals occur in (most real lines are such noise).
fn noise(random: &mut Random) -> String {
    let word = *random.pick(&["list", "watch", "update"]);
    let verb = json_string(random, word);
    format!(
        r#"{{"Timestamp":"2024-05-28T10:00:00Z","OperationName":{verb},"DataSource":"Other","RawEventData":{{"ObjectRef":{{"resource":"configmaps","namespace":"prod","name":"cm-1"}},"User":{{"username":"carol"}},"Privileged":false,"Code":404}}}}"#
    )
}

fn line(random: &mut Random) -> String {
    if random.below(3) == 0 {
        return noise(random);
    }
    let verbs = ["create", "Create", "CREATE", "delete", "patch", "get"];
    let sources = [
        "Azure Kubernetes Service",
        "azure kubernetes service",
        "Amazon Elastic Kubernetes Service",
        "Kubernetes Audit",
    ];
    let resources = [
        "pods",
        "PODS",
        "pods/exec",
        "secrets",
        "podsecuritypolicies",
        " pods",
        "pods\u{a0}",
        "Secrets",
    ];
    let namespaces = [
        "kube-system",
        "KUBE-SYSTEM",
        "kube-systems",
        "\u{212A}ube-system",
        "default",
        "kube system",
    ];
    let names = [
        "tunnelfront-1",
        "Tunnelfront-x",
        "front",
        "coredns",
        "konnectivity",
    ];
    let users = ["alice", "ALICE", "bob", "mallory", "alicex"];
    let privileged = [
        "true",
        "\"true\"",
        "\"True\"",
        "false",
        "\"TRUE\"",
        "\" true\"",
        "null",
    ];
    let codes = [
        "201", "200", "\"201\"", "403", "2.01e2", "201.0", "2010e-1", "\" 201\"", "\"+201\"", "2e2",
    ];
    let subresource = ["null", "\"exec\"", "\"\""];
    let s = |random: &mut Random, items: &[&str]| {
        let text = *random.pick(items);
        json_string(random, text)
    };
    let (verb, source, resource, namespace, name, user) = (
        s(random, &verbs),
        s(random, &sources),
        s(random, &resources),
        s(random, &namespaces),
        s(random, &names),
        s(random, &users),
    );
    format!(
        r#"{{"Timestamp":"2024-05-28T10:00:00Z","OperationName":{verb},"DataSource":{source},"RawEventData":{{"ObjectRef":{{"resource":{resource},"namespace":{namespace},"name":{name},"subresource":{}}},"User":{{"username":{user}}},"Privileged":{},"Code":{}}}}}"#,
        random.pick(&subresource),
        random.pick(&privileged),
        random.pick(&codes),
    )
}

#[test]
fn prefiltered_and_full_evaluation_return_identical_rows() {
    let mut random = Random(0x5EED);
    let schema = Schema::builtin();
    let mut rules = Vec::new();
    let mut queries = Vec::new();
    for i in 0..60 {
        let kql = format!(
            "CloudAuditEvents\n| where {}\n| project OperationName, N = tostring(RawEventData.ObjectRef.name)",
            predicate(&mut random, 3)
        );
        let pipeline =
            kqlc::compile(&kql, &schema).unwrap_or_else(|d| panic!("{kql}\n{}", d[0].message));
        queries.push(kql.clone());
        rules.push(Rule {
            name: format!("random_{i:02}"),
            kql,
            path: format!("random_{i:02}.kql"),
            pipeline,
        });
    }
    let skipping = rules
        .iter()
        .filter(|r| r.pipeline.prefilter != kqlc::plan::ir::Prefilter::Always)
        .count();
    assert!(
        skipping >= 20,
        "too few random rules have a prefilter ({skipping}) to test it"
    );

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("lines.jsonl");
    let lines: Vec<String> = (0..3000).map(|_| line(&mut random)).collect();
    std::fs::write(&input, lines.join("\n")).unwrap();

    let toolchain = Toolchain::discover().unwrap();
    // All rules in one binary (some never skip a line, so only the other
    // rules are spared lines), and the rules with a prefilter alone (so
    // whole lines are skipped).
    let with_needles: Vec<Rule> = rules
        .iter()
        .filter(|r| r.pipeline.prefilter != kqlc::plan::ir::Prefilter::Always)
        .cloned()
        .collect();
    let mut full_rows = 0;
    for (set, must_skip) in [(&rules, false), (&with_needles, true)] {
        let binary = toolchain.build(set, Profile::Quick).unwrap();
        let run = |extra: &[&str]| {
            let output = Command::new(&binary)
                .arg(&input)
                .args(["--now", "2024-05-28T12:00:00Z"])
                .args(extra)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            (
                String::from_utf8(output.stdout).unwrap(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        };
        let (filtered, filtered_summary) = run(&[]);
        let (full, _) = run(&["--no-prefilter"]);
        if must_skip {
            assert!(
                filtered_summary.contains("skipped unparsed"),
                "the prefilter skipped nothing: {filtered_summary}"
            );
        }
        if filtered != full {
            let a: Vec<&str> = filtered.lines().collect();
            let b: Vec<&str> = full.lines().collect();
            let first = a
                .iter()
                .zip(&b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            panic!(
                "prefiltered run differs from the full run at row {first}:\n  prefiltered: {:?}\n  full:        {:?}\nrules:\n{}",
                a.get(first),
                b.get(first),
                queries.join("\n---\n")
            );
        }
        full_rows += full.lines().count();
    }
    assert!(full_rows > 100, "the random rules should match some lines");
}
