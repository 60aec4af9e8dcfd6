//! `--state DIR`: checkpoints of the followed files' positions, so that a
//! restarted detector resumes where the last one stopped.
//!
//! The directory holds two files:
//! - `lock`: held with an exclusive advisory lock (`flock`) for as long as
//!   the detector runs, so two detectors never share a directory (the lock
//!   goes with the process, even after `kill -9`);
//! - `checkpoint.json`: which detector wrote it (kqlc and runtime versions,
//!   each rule's id and SHA-256) and, per file, its identity (device, inode,
//!   first bytes) and the offset just after the last line whose output was
//!   written and flushed. It is replaced atomically: written to
//!   `checkpoint.json.tmp`, synced, renamed over the old one, and the
//!   directory synced, so a crash leaves the old checkpoint or the new one.
//!
//! A checkpoint is taken only between polls, when every row of the lines
//! it covers has been flushed: a `kill -9` loses nothing and repeats at most
//! the lines read since the last checkpoint. Scheduled rules' buffers are
//! not kept (a rule with `summarize` and the like starts empty again).

use crate::manifest::DetectorInfo;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The layout of `checkpoint.json`; another number is refused.
const FORMAT: u32 = 1;

/// The checkpoint file's name in the state directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.json";

/// The lock file's name in the state directory.
pub const LOCK_FILE: &str = "lock";

/// Which detector wrote a state directory: a checkpoint is taken up only
/// by a detector with the same rules, built by the same kqlc.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    /// The kqlc version that generated the detector (empty when unknown).
    pub kqlc: String,
    /// The kql-detector runtime version.
    pub runtime: String,
    /// Each rule as `id sha256` (or its name, without a manifest), in order.
    pub rules: Vec<String>,
}

impl RuleSet {
    /// The rule set of a detector: from its manifest when it has one, or
    /// its rules' names.
    pub fn of(info: Option<&DetectorInfo>, names: &[&str]) -> RuleSet {
        match info {
            Some(info) => RuleSet {
                kqlc: info.kqlc_version.to_string(),
                runtime: crate::manifest::RUNTIME_VERSION.to_string(),
                rules: info
                    .rules
                    .iter()
                    .map(|r| format!("{} {}", r.id, r.sha256))
                    .collect(),
            },
            None => RuleSet {
                kqlc: String::new(),
                runtime: crate::manifest::RUNTIME_VERSION.to_string(),
                rules: names.iter().map(|n| n.to_string()).collect(),
            },
        }
    }

    fn describe(&self) -> String {
        let ids: Vec<&str> = self
            .rules
            .iter()
            .map(|r| r.split(' ').next().unwrap_or(r))
            .collect();
        let kqlc = if self.kqlc.is_empty() {
            "no kqlc manifest".to_string()
        } else {
            format!("kqlc {}", self.kqlc)
        };
        format!(
            "{kqlc}, runtime {}, rules [{}]",
            self.runtime,
            ids.join(", ")
        )
    }
}

/// One file's position in a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePosition {
    /// The name it had when the checkpoint was taken (for people; a file
    /// is known by its identity).
    pub path: String,
    /// Its device number.
    pub device: u64,
    /// Its inode number.
    pub inode: u64,
    /// Its first bytes, in hex (up to 1 KiB): an inode reused by another
    /// file does not start with them.
    pub head: String,
    /// The offset just after the last whole line read.
    pub offset: u64,
    /// Lines before `offset` (for messages' line numbers).
    pub line: u64,
    /// The line at `offset` is over the length limit and is being skipped.
    #[serde(default)]
    pub skipping: bool,
}

#[derive(Serialize, Deserialize)]
struct Checkpoint {
    format: u32,
    detector: RuleSet,
    /// Seconds since the Unix epoch when it was written.
    written: u64,
    files: Vec<FilePosition>,
}

/// An open, locked state directory.
pub struct StateDir {
    dir: PathBuf,
    /// Held for the detector's life: the lock is released when it closes.
    _lock: File,
    rules: RuleSet,
    /// The positions written last (an unchanged checkpoint is not written).
    last: Option<Vec<FilePosition>>,
}

impl StateDir {
    /// Opens (creating it if needed) and locks `dir`, and reads the
    /// positions of its checkpoint, refusing one written by another rule
    /// set or version.
    pub fn open(dir: &Path, rules: RuleSet) -> Result<(StateDir, Vec<FilePosition>), String> {
        let shown = dir.display();
        std::fs::create_dir_all(dir).map_err(|e| format!("--state {shown}: cannot create: {e}"))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("--state {shown}: cannot open {}: {e}", lock_path.display()))?;
        if let Err(e) =
            rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive)
        {
            return Err(if e == rustix::io::Errno::WOULDBLOCK {
                format!(
                    "--state {shown}: another detector is using this state directory ({} is locked); give each detector its own",
                    lock_path.display()
                )
            } else {
                format!(
                    "--state {shown}: cannot lock {}: {}",
                    lock_path.display(),
                    io::Error::from(e)
                )
            });
        }
        let _ = std::fs::remove_file(dir.join(format!("{CHECKPOINT_FILE}.tmp")));
        let path = dir.join(CHECKPOINT_FILE);
        let positions = match std::fs::read(&path) {
            Ok(bytes) => {
                let checkpoint: Checkpoint = serde_json::from_slice(&bytes).map_err(|e| {
                    format!(
                        "--state {shown}: {} is not a checkpoint this detector can read: {e} (move it away to start over)",
                        path.display()
                    )
                })?;
                if checkpoint.format != FORMAT {
                    return Err(format!(
                        "--state {shown}: {} has layout {}, this detector reads layout {FORMAT} (use another directory)",
                        path.display(),
                        checkpoint.format
                    ));
                }
                if checkpoint.detector != rules {
                    return Err(format!(
                        "--state {shown}: the checkpoint was written by another detector ({}); this one is {}. \
                         Use another directory, or delete {} to read the files from their start",
                        checkpoint.detector.describe(),
                        rules.describe(),
                        path.display()
                    ));
                }
                checkpoint.files
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(format!(
                    "--state {shown}: cannot read {}: {e}",
                    path.display()
                ))
            }
        };
        Ok((
            StateDir {
                dir: dir.to_path_buf(),
                _lock: lock,
                rules,
                last: Some(positions.clone()),
            },
            positions,
        ))
    }

    /// Replaces the checkpoint with `files` (atomically), unless they are
    /// those written last. `Ok(false)` when there was nothing to write.
    pub fn write(&mut self, files: Vec<FilePosition>) -> io::Result<bool> {
        if self.last.as_ref() == Some(&files) {
            return Ok(false);
        }
        let checkpoint = Checkpoint {
            format: FORMAT,
            detector: self.rules.clone(),
            written: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            files,
        };
        let bytes = serde_json::to_vec_pretty(&checkpoint).map_err(io::Error::other)?;
        let temporary = self.dir.join(format!("{CHECKPOINT_FILE}.tmp"));
        let mut file = File::create(&temporary)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, self.dir.join(CHECKPOINT_FILE))?;
        File::open(&self.dir)?.sync_all()?;
        self.last = Some(checkpoint.files);
        Ok(true)
    }
}

/// `bytes` in lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of lower-case or upper-case hex `text`; `None` when it is not
/// hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(ids: &[&str]) -> RuleSet {
        RuleSet {
            kqlc: "0.1.0".into(),
            runtime: "0.1.0".into(),
            rules: ids.iter().map(|i| format!("{i} abc")).collect(),
        }
    }

    fn position(offset: u64) -> FilePosition {
        FilePosition {
            path: "/var/log/audit.log".into(),
            device: 1,
            inode: 2,
            head: hex(b"{\"a\":1}\n"),
            offset,
            line: 1,
            skipping: false,
        }
    }

    #[test]
    fn a_checkpoint_is_read_back_by_the_same_rules() {
        let dir = tempfile::tempdir().unwrap();
        let (mut state, positions) = StateDir::open(dir.path(), rules(&["a"])).unwrap();
        assert!(positions.is_empty());
        assert!(state.write(vec![position(8)]).unwrap());
        assert!(!state.write(vec![position(8)]).unwrap(), "unchanged");
        drop(state);
        let (_, positions) = StateDir::open(dir.path(), rules(&["a"])).unwrap();
        assert_eq!(positions, vec![position(8)]);
        assert!(!dir.path().join("checkpoint.json.tmp").exists());
    }

    #[test]
    fn another_rule_set_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mut state, _) = StateDir::open(dir.path(), rules(&["a"])).unwrap();
        state.write(vec![position(8)]).unwrap();
        drop(state);
        let error = StateDir::open(dir.path(), rules(&["a", "b"]))
            .err()
            .unwrap();
        assert!(error.contains("written by another detector"), "{error}");
        assert!(error.contains("rules [a]"), "{error}");
        assert!(error.contains("rules [a, b]"), "{error}");
    }

    #[test]
    fn two_detectors_never_share_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = StateDir::open(dir.path(), rules(&["a"])).unwrap();
        let error = StateDir::open(dir.path(), rules(&["a"])).err().unwrap();
        assert!(error.contains("another detector is using"), "{error}");
        drop(first);
        assert!(StateDir::open(dir.path(), rules(&["a"])).is_ok());
    }

    #[test]
    fn hex_goes_both_ways() {
        assert_eq!(unhex(&hex(b"\x00\xffab")).unwrap(), b"\x00\xffab");
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("abc"), None);
    }
}
