//! Coverage of real detection queries: every KQL query in
//! `../shared/corpus/kql/` and `../shared/corpus/kql-extended/` (whole
//! `.kql` files, the `query:` block of Sentinel YAML rules, ```kusto blocks
//! of Markdown pages) must parse, and kqlc must agree with Microsoft's own
//! parser on which queries are valid, including deliberately broken copies
//! of them. The parser's verdicts come from running it (`shared/tools/
//! kusto-parse-oracle.js`, with Node) or, for `kql-extended`, from
//! `corpus/MANIFEST.json`. Skips, with a message, when `../shared` or the
//! oracle is not available, unless the environment variable `CI` is set:
//! then a missing corpus or oracle fails the test.

use crate::common::{repo, yaml_query};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn shared() -> PathBuf {
    repo().join("../shared")
}

/// The ```kusto / ```kql blocks of a Markdown page.
fn markdown_queries(text: &str) -> Vec<String> {
    let mut queries = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let fence = line.trim_start();
        match &mut current {
            None if fence.starts_with("```kusto") || fence.starts_with("```kql") => {
                current = Some(String::new())
            }
            Some(query) if fence.starts_with("```") => {
                queries.push(std::mem::take(query));
                current = None;
            }
            Some(query) => {
                query.push_str(line);
                query.push('\n');
            }
            None => {}
        }
    }
    queries
}

/// (name, query) for every query of the corpus.
fn corpus_queries(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut queries = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let name = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        match file.extension().and_then(|e| e.to_str()) {
            Some("kql") => queries.push((name, text)),
            Some("yaml" | "yml") => queries.extend(yaml_query(&text).map(|q| (name, q))),
            Some("md") => {
                for (i, query) in markdown_queries(&text).into_iter().enumerate() {
                    queries.push((format!("{name}#{}", i + 1), query));
                }
            }
            _ => {}
        }
    }
    queries
}

/// Whether Microsoft's parser accepts each query, or `None` when Node or
/// its package is missing.
fn oracle(queries: &[String]) -> Option<Vec<bool>> {
    let script = shared().join("tools/kusto-parse-oracle.js");
    if !script.is_file() {
        return None;
    }
    let mut command = Command::new("node");
    // `.ci/run` installs the package here when npm is available.
    let local = repo().join("target/kusto-oracle/node_modules/@kusto/language-service-next");
    if local.is_dir() {
        command.env("KUSTO_LS_DIR", &local);
    }
    let mut child = command
        .arg(&script)
        .arg("--jsonl")
        .current_dir(shared().join("tools"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut input = String::new();
    for query in queries {
        input.push_str(&serde_json::to_string(query).ok()?);
        input.push('\n');
    }
    let mut stdin = child.stdin.take()?;
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().ok()?;
    let _ = writer.join();
    let results: Vec<bool> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|v| v["ok"].as_bool().unwrap_or(false))
        .collect();
    if results.len() != queries.len() {
        eprintln!(
            "oracle gave {} answers for {} queries: {}",
            results.len(),
            queries.len(),
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .next()
                .unwrap_or("")
        );
        return None;
    }
    Some(results)
}

/// A broken copy of a query: its last closing parenthesis removed, or an
/// operator name misspelt when it has none.
fn broken(query: &str) -> String {
    match query.rfind(')') {
        Some(i) => format!("{}{}", &query[..i], &query[i + 1..]),
        None => query.replacen("| where", "| whre", 1),
    }
}

/// In CI the corpus and the oracle must be there: a skip would hide a
/// regression.
fn skip_or_fail(message: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{message} (required when CI is set)");
    }
    eprintln!("skipped: {message}");
}

/// The official parser's verdict for each `kql-extended` file, from
/// `corpus/MANIFEST.json` (`official_parser`: `accepts` / `rejects`), by
/// path relative to `kql-extended/`.
fn manifest_verdicts() -> Option<std::collections::HashMap<String, bool>> {
    let text = std::fs::read_to_string(shared().join("corpus/MANIFEST.json")).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    let mut verdicts = std::collections::HashMap::new();
    for entry in manifest["kql"].as_array()? {
        let (Some(file), Some(verdict)) =
            (entry["file"].as_str(), entry["official_parser"].as_str())
        else {
            continue;
        };
        if let Some(name) = file.strip_prefix("kql-extended/") {
            verdicts.insert(name.to_string(), verdict == "accepts");
        }
    }
    Some(verdicts)
}

/// Parses every query of `folder` with kqlc, compares with the official
/// verdicts (from `verdicts`, else from the oracle) on the queries and on
/// broken copies, prints the acceptance rate, and returns the
/// disagreements and the share of officially accepted queries kqlc parses.
fn compare_with_microsofts_parser(
    folder: &str,
    verdicts: Option<&std::collections::HashMap<String, bool>>,
) -> Option<(Vec<String>, f64)> {
    let root = shared().join("corpus").join(folder);
    if !root.is_dir() {
        skip_or_fail(&format!("{} is missing", root.display()));
        return None;
    }
    let queries = corpus_queries(&root);
    assert!(
        !queries.is_empty(),
        "no queries found in {}",
        root.display()
    );
    let parsed: Vec<bool> = queries
        .iter()
        .map(|(_, q)| kqlc::syntax::parse(q).is_ok())
        .collect();
    let ok = parsed.iter().filter(|&&p| p).count();
    let percent = 100.0 * ok as f64 / queries.len() as f64;
    eprintln!(
        "corpus {folder}: kqlc parses {ok} of {} queries ({percent:.1}%)",
        queries.len()
    );
    for ((name, query), parsed) in queries.iter().zip(&parsed) {
        if !parsed {
            let error = kqlc::syntax::parse(query)
                .err()
                .map(|d| d.message)
                .unwrap_or_default();
            eprintln!("  does not parse: {name}: {error}");
        }
    }

    let texts: Vec<String> = queries.iter().map(|(_, q)| q.clone()).collect();
    let broken_texts: Vec<String> = texts.iter().map(|q| broken(q)).collect();
    let official = match verdicts {
        Some(verdicts) => queries
            .iter()
            .map(|(name, _)| {
                *verdicts
                    .get(name)
                    .unwrap_or_else(|| panic!("{folder}/{name} has no verdict in MANIFEST.json"))
            })
            .collect(),
        None => match oracle(&texts) {
            Some(official) => official,
            None => {
                skip_or_fail("the comparison with Microsoft's parser: node or @kusto/language-service-next is not installed (see the header of shared/tools/kusto-parse-oracle.js)");
                assert!(
                    percent >= 98.0,
                    "kqlc parses only {percent:.1}% of {folder}"
                );
                return None;
            }
        },
    };
    let official_broken = oracle(&broken_texts);
    if official_broken.is_none() {
        skip_or_fail("the broken copies: node or @kusto/language-service-next is not installed");
    }
    let official_broken = official_broken.unwrap_or_default();
    let mut disagreements = Vec::new();
    let accepted = official.iter().filter(|&&o| o).count();
    let mut accepted_by_both = 0;
    for (i, (name, _)) in queries.iter().enumerate() {
        match (official[i], parsed[i]) {
            (true, true) => accepted_by_both += 1,
            (true, false) => disagreements.push(format!(
                "{folder}/{name}: Microsoft's parser accepts it, kqlc does not"
            )),
            (false, true) => disagreements.push(format!(
                "{folder}/{name}: kqlc accepts it, Microsoft's parser does not"
            )),
            (false, false) => {}
        }
    }
    for (i, (name, _)) in queries.iter().enumerate() {
        let ours = kqlc::syntax::parse(&broken_texts[i]).is_ok();
        if let Some(&theirs) = official_broken.get(i) {
            if theirs != ours {
                disagreements.push(format!(
                    "{folder}/{name} (broken copy): Microsoft's parser {}, kqlc {}",
                    if theirs { "accepts it" } else { "rejects it" },
                    if ours { "accepts it" } else { "rejects it" }
                ));
            }
        }
    }
    let share = 100.0 * accepted_by_both as f64 / accepted.max(1) as f64;
    eprintln!(
        "corpus {folder}: Microsoft's parser accepts {accepted}; kqlc parses {accepted_by_both} of those ({share:.1}%); {} disagreements",
        disagreements.len()
    );
    for d in &disagreements {
        eprintln!("  {d}");
    }
    Some((disagreements, share))
}

#[test]
fn real_detection_queries_parse_and_agree_with_microsofts_parser() {
    let Some((disagreements, share)) = compare_with_microsofts_parser("kql", None) else {
        return;
    };
    assert!(
        share >= 98.0,
        "kqlc parses only {share:.1}% of the queries Microsoft's parser accepts"
    );
    assert!(
        disagreements.is_empty(),
        "disagreements with Microsoft's parser:\n{}",
        disagreements.join("\n")
    );
}

/// The extended corpus: 250 more published queries, with the official
/// parser's verdicts recorded in the manifest.
#[test]
fn extended_corpus_agrees_with_the_recorded_verdicts() {
    let Some(verdicts) = manifest_verdicts() else {
        skip_or_fail("corpus/MANIFEST.json is missing or has no kql entries");
        return;
    };
    let Some((disagreements, share)) =
        compare_with_microsofts_parser("kql-extended", Some(&verdicts))
    else {
        return;
    };
    assert!(
        share >= 98.0,
        "kqlc parses only {share:.1}% of the extended corpus queries Microsoft's parser accepts"
    );
    assert!(
        disagreements.is_empty(),
        "disagreements with Microsoft's parser:\n{}",
        disagreements.join("\n")
    );
}

/// The constructs the checker refuses as not supported yet (`KQL0106`)
/// over both corpora, counted by message: the table of
/// `docs/corpus-coverage.md`. Run it with
/// `cargo test -p kqlc-cli --test integration corpus::count -- --ignored --nocapture`.
///
/// Each query is checked against the built-in schema; a table it reads
/// that has none gets one with `TimeGenerated` and `Timestamp` as
/// datetimes (the columns time filters and `make-series` axes read), so
/// that its other columns are unknown (`KQL0101`, not counted) rather
/// than every expression being refused for its type. A construct whose
/// refusal a type error hides is not counted.
#[test]
#[ignore = "prints the refusal counts of docs/corpus-coverage.md; not a check"]
fn count_constructs_refused_at_check_time() {
    use kqlc::diag::Code;
    use kqlc::sema::{Column, Schema, Table};
    use kqlc::types::ScalarType;
    use std::collections::BTreeMap;

    for corpus in ["kql", "kql-extended"] {
        let root = shared().join("corpus").join(corpus);
        if !root.is_dir() {
            skip_or_fail(&format!("{} is missing", root.display()));
            return;
        }
        let queries = corpus_queries(&root);
        let mut counts: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
        let (mut compiling, mut refusing) = (0, 0);
        for (name, query) in &queries {
            let mut schema = Schema::builtin();
            let first = match kqlc::compile(query, &schema) {
                Ok(_) => {
                    compiling += 1;
                    continue;
                }
                Err(diagnostics) => diagnostics,
            };
            let unknown_tables: Vec<Table> = first
                .iter()
                .filter(|d| d.code == Code::UnknownTable)
                .filter_map(|d| d.message.split('\'').nth(1))
                .map(|table| {
                    Table::new(
                        table,
                        vec![
                            Column::new("TimeGenerated", ScalarType::DateTime),
                            Column::new("Timestamp", ScalarType::DateTime),
                        ],
                    )
                })
                .collect();
            schema.extend(Schema::of_tables(unknown_tables));
            let diagnostics = match kqlc::compile(query, &schema) {
                Ok(_) => Vec::new(),
                Err(diagnostics) => diagnostics,
            };
            let refused: Vec<_> = diagnostics
                .iter()
                .filter(|d| d.code == Code::Unsupported)
                .collect();
            if !refused.is_empty() {
                refusing += 1;
            }
            for diagnostic in refused {
                let entry = counts.entry(construct(&diagnostic.message)).or_default();
                entry.0 += 1;
                entry.1.push(name.clone());
            }
        }
        let mut rows: Vec<_> = counts.into_iter().collect();
        rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        println!(
            "# {corpus}: {} queries, {compiling} compile with the built-in schema, \
             {refusing} have a KQL0106 refusal",
            queries.len()
        );
        for (message, (count, files)) in rows {
            println!("{count:4}  {message}");
            for file in files {
                println!("        {file}");
            }
        }
    }
}

/// A refusal's message with what varies between uses of one construct
/// elided (URLs, the column of a union, the tables a multi-table query
/// reads), so they count together; function and plugin names stay.
fn construct(message: &str) -> String {
    if let Some((rule, _)) = message.split_once("; this query reads") {
        return format!("{rule}; this query reads several");
    }
    let column_of_union = message.starts_with("union of column");
    let mut out = String::new();
    for (i, part) in message.split('\'').enumerate() {
        if i % 2 == 1 {
            let elide = part.contains("://") || column_of_union;
            out.push('\'');
            out.push_str(if elide { "…" } else { part });
            out.push('\'');
        } else {
            out.push_str(part);
        }
    }
    out
}
