//! The floor of the hunting suite: each pass reads the benchmark's input
//! (already in memory) line by line and does the least work a reader of
//! the kind named does, on one thread. The validating passes reject what
//! `serde_json` rejects; the others (UTF-8 alone, the line count) are
//! lower bounds that validate less. Prints one row per pass: seconds
//! (best of the runs), GB/s, and the lines that failed (0 expected).
//!
//! Usage: `kqlc-bench-floor FILE [RUNS [PASS]]`: PASS (a part of a
//! pass's name) runs only the passes it names, for `callgrind`.

use std::time::Instant;

/// One pass over every line; returns how many lines it rejected.
type Pass = fn(&[u8]) -> usize;

/// The non-empty lines of `data`, found by `memchr` (a byte-by-byte
/// `split` costs more than some of the passes themselves).
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', data)
        .chain(std::iter::once(data.len()))
        .map(move |end| {
            let line = &data[start..end];
            start = end + 1;
            line
        })
        .filter(|line| !line.is_empty())
}

fn memchr_lines(data: &[u8]) -> usize {
    // Not a failure count: the count of lines goes through `black_box`.
    std::hint::black_box(memchr::memchr_iter(b'\n', data).count());
    0
}

fn simdutf8_only(data: &[u8]) -> usize {
    lines(data)
        .filter(|line| simdutf8::basic::from_utf8(line).is_err())
        .count()
}

fn serde_json_ignored(data: &[u8]) -> usize {
    lines(data)
        .filter(|line| serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err())
        .count()
}

fn sonic_ignored(data: &[u8]) -> usize {
    lines(data)
        .filter(|line| sonic_rs::from_slice::<serde::de::IgnoredAny>(line).is_err())
        .count()
}

fn sonic_lazy_get(data: &[u8]) -> usize {
    // The checked lazy API: the whole line is validated, one member found.
    lines(data)
        .filter(|line| {
            // `get_from_slice` does not validate what it skips past the
            // member, so the line is validated first by `from_slice` (the
            // pass above) and this pass adds the lookup to it.
            sonic_rs::from_slice::<serde::de::IgnoredAny>(line).is_err()
                || sonic_rs::get_from_slice(line, &["DataSource"]).is_err()
        })
        .count()
}

fn sonic_value(data: &[u8]) -> usize {
    // sonic-rs's own document: its SIMD parse, every byte validated.
    lines(data)
        .filter(|line| sonic_rs::from_slice::<sonic_rs::Value>(line).is_err())
        .count()
}

fn simd_json_tape(data: &[u8]) -> usize {
    let mut copy = Vec::new();
    let mut buffers = simd_json::Buffers::default();
    lines(data)
        .filter(|line| {
            copy.clear();
            copy.extend_from_slice(line);
            simd_json::Deserializer::from_slice_with_buffers(&mut copy, &mut buffers).is_err()
        })
        .count()
}

fn simd_json_borrowed(data: &[u8]) -> usize {
    let mut copy = Vec::new();
    lines(data)
        .filter(|line| {
            copy.clear();
            copy.extend_from_slice(line);
            simd_json::to_borrowed_value(&mut copy).is_err()
        })
        .count()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: kqlc-bench-floor FILE [RUNS [PASS]]");
        std::process::exit(2);
    };
    let runs_arg = args.next();
    let only = args.next().unwrap_or_default();
    let runs: usize = match runs_arg.map(|n| n.parse()) {
        None => 3,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("RUNS must be a positive number");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    let data = match std::fs::read(&path) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let read = start.elapsed().as_secs_f64();
    let gb = data.len() as f64 / 1e9;
    println!(
        "input: {path}, {} bytes, {} lines; read into memory in {read:.3} s",
        data.len(),
        lines(&data).count()
    );
    println!(
        "target: {}",
        if cfg!(target_feature = "avx2") {
            "with AVX2"
        } else {
            "without AVX2"
        }
    );
    println!("| pass | validates | seconds | GB/s | lines rejected |");
    println!("|---|---|---|---|---|");
    let passes: [(&str, &str, Pass); 8] = [
        ("memchr line count", "no", memchr_lines),
        ("simdutf8 per line", "UTF-8 only", simdutf8_only),
        ("serde_json IgnoredAny", "yes", serde_json_ignored),
        ("sonic-rs IgnoredAny", "yes", sonic_ignored),
        ("sonic-rs IgnoredAny + get", "yes", sonic_lazy_get),
        ("sonic-rs Value", "yes", sonic_value),
        ("simd-json tape (copy)", "yes", simd_json_tape),
        ("simd-json borrowed value (copy)", "yes", simd_json_borrowed),
    ];
    for (name, validates, pass) in passes {
        if !name.contains(only.as_str()) {
            continue;
        }
        let mut best = f64::INFINITY;
        let mut rejected = 0;
        for _ in 0..runs {
            let start = Instant::now();
            rejected = pass(&data);
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!(
            "| {name} | {validates} | {best:.3} | {:.2} | {rejected} |",
            gb / best
        );
    }
}
