//! Any bytes, as a file a detector reads: gzip detection, lines and
//! multi-line documents, every input format's normalizer, and the row
//! layout of `CloudAuditEvents`. Nothing may panic; every chunk must give
//! records or rejections.
#![no_main]

use kql_detector::formats::{
    InputFormat, Item, Normalizer, CLOUD_AUDIT_COLUMNS, CLOUD_AUDIT_RECORD,
};
use kql_detector::input::{self, Chunk, InputReader};
use kql_runtime::query::Table;
use libfuzzer_sys::fuzz_target;
use std::io::BufRead;

static TABLE: Table = Table {
    name: "CloudAuditEvents",
    columns: &CLOUD_AUDIT_RECORD,
    used: &[0, 2, 4, 13],
    access: &[],
};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the format; a small line limit reaches the
    // too-long paths with small inputs.
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let format = InputFormat::ALL[usize::from(selector) % InputFormat::ALL.len()];
    let limit = if selector & 0x80 != 0 { 64 } else { 1 << 20 };
    assert_eq!(CLOUD_AUDIT_COLUMNS.len(), CLOUD_AUDIT_RECORD.len());
    let required = [
        true, false, true, false, true, false, false, false, false, false, false, false, false,
        true, false,
    ];
    let source: Box<dyn BufRead> = Box::new(bytes);
    let Ok((source, _)) = input::open_decompressed(source) else {
        return;
    };
    let normalizer = Normalizer::cloud_audit(format);
    let mut reader = InputReader::with_limit(source, limit);
    let mut items: Vec<Item> = Vec::new();
    let mut spill = Vec::new();
    loop {
        let chunk = match reader.next_chunk(&mut spill) {
            Ok(Some(chunk)) => chunk,
            Ok(None) | Err(_) => break,
        };
        let units_before = items.len();
        match chunk {
            Chunk::Blank | Chunk::TooLong { .. } | Chunk::Broken { .. } => continue,
            Chunk::Line { bytes, .. } => normalizer.line(bytes, &mut items),
            Chunk::Value { value, .. } => normalizer.value(value, &mut items),
        }
        for item in items.drain(units_before..) {
            if let Ok(record) = item {
                assert_ne!(record.format, InputFormat::Auto);
                let _ = input::record_to_row(&record.fields, &TABLE, &required);
            }
        }
    }
});
