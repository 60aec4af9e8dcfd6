//! `generated/` holds exactly what `kqlc emit` produces for every sample
//! rule. Set `KQLC_BLESS=1` to rewrite it after a deliberate codegen change,
//! then review the diff.

use crate::common::kqlc;

#[test]
fn checked_in_generated_code_matches_a_fresh_emit() {
    let repo = crate::common::repo();
    let bless = std::env::var_os("KQLC_BLESS").is_some();
    let mut rules: Vec<_> = std::fs::read_dir(repo.join("examples/rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "kql"))
        .collect();
    rules.sort();
    assert!(!rules.is_empty());
    let mut stale = Vec::new();
    for rule in rules {
        let stem = rule.file_stem().unwrap().to_string_lossy().into_owned();
        let module = kqlc::codegen::module_name(&stem);
        let relative_rule = format!("examples/rules/{stem}.kql");
        let relative_out = format!("generated/src/{module}.rs");
        // Run from the repository root so the header's regenerate line is the same everywhere.
        let output = kqlc()
            .current_dir(&repo)
            .args(["emit", &relative_rule])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let fresh = String::from_utf8(output.stdout).unwrap();
        let fresh = fresh.replacen(
            &format!("kqlc emit {relative_rule}\n"),
            &format!("kqlc emit {relative_rule} -o {relative_out}\n"),
            1,
        );
        let path = repo.join(&relative_out);
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        if checked_in != fresh {
            if bless {
                std::fs::write(&path, &fresh).unwrap();
            } else {
                stale.push(relative_out);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated code is stale: {stale:?}\nrun `KQLC_BLESS=1 cargo test -p kqlc-cli --test integration generated::` and review the diff"
    );
}

/// `generated/src/catalog.rs` is the function table's typed references
/// (`kqlc::sema::functions::catalog`); the workspace compiling it is the
/// check that every entry names a runtime function of the right shape.
#[test]
fn the_function_catalog_matches_the_table() {
    let path = crate::common::repo().join("generated/src/catalog.rs");
    let fresh = kqlc::sema::functions::catalog();
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != fresh {
        if std::env::var_os("KQLC_BLESS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        } else {
            panic!(
                "{} is stale: run `KQLC_BLESS=1 cargo test -p kqlc-cli --test integration generated::` and review the diff",
                path.display()
            );
        }
    }
}
