//! `kqlc bench --suite hunting --floor`: how fast a validating JSON reader
//! can go over the hunting suite's input on one thread on this machine.
//!
//! Builds the small crate in `kqlc/cli/bench/floor` (not a workspace
//! member: its readers, sonic-rs and simd-json, are for this measurement
//! only) twice, for the baseline x86-64 target that detectors are built
//! for and with `-C target-cpu=native`, and runs each over the sample.
//! Each prints a Markdown table: seconds (fastest of the runs) and GB/s
//! per reader, and the lines it rejected (none, on a sample).

use super::{write_sample, BenchOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The floor crate's manifest, in the source tree kqlc was built from.
pub fn manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/floor/Cargo.toml")
}

/// The two builds: a name, the `RUSTFLAGS` and the target directory's
/// name under the bench directory.
const BUILDS: [(&str, &str, &str); 2] = [
    (
        "baseline x86-64 (as detectors are built)",
        "",
        "floor-baseline",
    ),
    (
        "-C target-cpu=native",
        "-C target-cpu=native",
        "floor-native",
    ),
];

/// Builds and runs the floor on the suite's sample; returns the report.
pub fn run(options: &BenchOptions) -> Result<String, String> {
    let manifest = manifest();
    if !manifest.is_file() {
        return Err(format!(
            "{} is missing: --floor needs kqlc's source tree",
            manifest.display()
        ));
    }
    let (input, stats) = write_sample(options)?;
    let mut report = format!(
        "floor: {} bytes, {} events, {} run(s) each, one thread\n",
        stats.bytes, stats.rows, options.repeat
    );
    for (name, rustflags, target) in BUILDS {
        let target_dir = options.dir.join(target);
        eprintln!("building the floor ({name})...");
        let status = Command::new("cargo")
            .args(["build", "--release", "--quiet", "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target_dir)
            .env("RUSTFLAGS", rustflags)
            .status()
            .map_err(|e| format!("cargo: {e}"))?;
        if !status.success() {
            return Err(format!("building the floor ({name}) failed: {status}"));
        }
        let output = Command::new(target_dir.join("release/kqlc-bench-floor"))
            .arg(&input)
            .arg(options.repeat.max(1).to_string())
            .output()
            .map_err(|e| format!("kqlc-bench-floor: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "the floor ({name}) failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        report += &format!(
            "\n### {name}\n\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_crate_is_its_own_workspace() {
        // Outside the kqlc workspace: its own `[workspace]`, and not in
        // the workspace's members, so its dependencies stay out of
        // Cargo.lock and out of every detector.
        let text = std::fs::read_to_string(manifest()).expect("the floor's manifest");
        assert!(
            text.lines().any(|line| line.trim() == "[workspace]"),
            "{text}"
        );
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        let root = std::fs::read_to_string(root).expect("the workspace manifest");
        assert!(
            !root.contains("bench/floor"),
            "the floor is a workspace member"
        );
    }
}
