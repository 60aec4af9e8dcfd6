//! Differential: the literal prefilter never changes a rule's rows. Any
//! bytes, as JSON lines, run through the same rules with the prefilter and
//! with `--no-prefilter` must give identical output. The rules hold the
//! literal classes that once fooled the prefilter (numbers compared with
//! padded text, bools, case folding, escapes) beside ordinary ones. The
//! bytes are read as rows (`auto`) and as native events (`k8s`, `eks`,
//! `aks`), whose prefilter keeps only needles the event's own text holds.
#![no_main]

use kql_detector::detector::{self, InputFile, Options};
use kql_detector::formats::InputFormat;
use kql_detector::output::RowWriter;
use kql_runtime::kql;
use kql_runtime::query::Query;
use kql_runtime::text::parse_datetime;
use libfuzzer_sys::fuzz_target;

fn rules() -> Vec<Box<dyn Query>> {
    vec![
        Box::new(kql!(r#"CloudAuditEvents | where RawEventData.code == " 201" | project OperationName"#)),
        Box::new(kql!(r#"CloudAuditEvents | where RawEventData.code in ("201 ", "4e2") | project OperationName"#)),
        Box::new(kql!(r#"CloudAuditEvents | where RawEventData.code == "+201" or RawEventData.code == "inf" | project OperationName"#)),
        Box::new(kql!(r#"CloudAuditEvents | where RawEventData.flag == "true" and OperationName =~ "CREATE" | project OperationName"#)),
        Box::new(kql!(r#"CloudAuditEvents | where RawEventData.flag =~ "TRUE" | project OperationName"#)),
        Box::new(kql!(r#"CloudAuditEvents | where OperationName in~ ("Create", "Patch") | project OperationName"#)),
        Box::new(kql!(r#"CloudAuditEvents | where RawEventData.ns has "kube" and RawEventData.name startswith "tunnel" | project OperationName"#)),
        Box::new(kql!(r#"CloudAuditEvents | where tostring(RawEventData.user) contains_cs "ali" | project OperationName"#)),
        Box::new(kql!(r#"CloudAuditEvents | where RawEventData.user has_any ("alice", "bob") | project OperationName"#)),
        Box::new(kql!(r#"CloudAuditEvents | where DataSource == "Azure Kubernetes Service" | project OperationName"#)),
        Box::new(kql!(r#"CloudAuditEvents | where tostring(RawEventData) contains "ObjectRef" | project OperationName"#)),
        Box::new(kql!(r#"CloudAuditEvents | where ActionType == "Create" or AdditionalFields.Pod has "api" | project OperationName"#)),
    ]
}

fn output(path: &std::path::Path, format: InputFormat, no_prefilter: bool) -> Vec<u8> {
    let options = Options {
        files: vec![InputFile {
            path: path.to_string_lossy().into_owned(),
            format,
        }],
        now: parse_datetime("2024-05-28T12:00:00Z"),
        no_prefilter,
        ..Options::default()
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    {
        let mut writer = RowWriter::new(&mut out);
        detector::run(rules(), &options, &mut writer, &mut errors).expect("writing to memory");
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if std::io::Write::write_all(&mut file, data).is_err() {
        return;
    }
    for format in [
        InputFormat::Auto,
        InputFormat::K8s,
        InputFormat::Eks,
        InputFormat::Aks,
    ] {
        let filtered = output(file.path(), format, false);
        let full = output(file.path(), format, true);
        assert!(
            filtered == full,
            "the prefilter changed the rows ({format}):\n  prefiltered: {}\n  full:        {}",
            String::from_utf8_lossy(&filtered),
            String::from_utf8_lossy(&full)
        );
    }
});
