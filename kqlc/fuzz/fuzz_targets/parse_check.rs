//! Any text as a query: the lexer, parser, checker, planner and code
//! generator must answer with a tree or located diagnostics, never a panic,
//! a stack overflow or a span outside the text. Seeded with the bundled
//! rules and the conformance cases (`.ci/fuzz`); libFuzzer mutates them.
#![no_main]

use kqlc::codegen::{rule_module, RuleSource};
use kqlc::sema::Schema;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let schema = Schema::builtin();
    match kqlc::compile(text, &schema) {
        Ok(pipeline) => {
            let source = RuleSource {
                name: "fuzz",
                kql: text,
                pipeline: &pipeline,
            };
            let code = rule_module(&source, "fuzz");
            assert!(
                !code.contains("kqlc internal error"),
                "generated code does not parse for {text:?}"
            );
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty());
            for d in &diagnostics {
                assert!(
                    d.primary.span.start <= d.primary.span.end && d.primary.span.end <= text.len(),
                    "span {:?} outside the query of {} bytes",
                    d.primary.span,
                    text.len()
                );
            }
        }
    }
});
