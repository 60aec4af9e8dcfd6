//! `--state DIR`: checkpoints of the followed files' positions and of the
//! scheduled rules' state, so that a restarted detector resumes where the
//! last one stopped.
//!
//! The directory holds two files:
//! - `lock`: held with an exclusive advisory lock (`flock`) for as long as
//!   the detector runs, so two detectors never share a directory (the lock
//!   goes with the process, even after `kill -9`);
//! - `checkpoint.json`: which detector wrote it (kqlc and runtime versions,
//!   each rule's id and SHA-256) and, per file, its identity (device, inode,
//!   first bytes) and the offset just after the last line whose output was
//!   written and flushed; then each scheduled rule's state at that same
//!   point (the rows its runs will read, its last tick, its suppression)
//!   and the newest event time seen. It is replaced atomically: written to
//!   `checkpoint.json.tmp`, synced, renamed over the old one, and the
//!   directory synced, so a crash leaves the old checkpoint or the new one.
//!
//! A checkpoint is taken only between polls, when every row of the lines
//! it covers has been flushed: a `kill -9` loses nothing and repeats at most
//! the lines read since the last checkpoint (and the scheduled runs they
//! caused: the restarted detector holds the rows it held at the checkpoint,
//! reads the same lines again and comes to the same ticks).

use crate::manifest::DetectorInfo;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The layout of `checkpoint.json`. Layout 1 (positions only) is read as a
/// checkpoint without scheduled rules' state; another number is refused.
const FORMAT: u32 = 2;

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

/// The scheduled rules' state in a checkpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SavedSchedules {
    /// The newest event time seen (ticks): the event clock, and lag.
    pub newest_event: Option<i64>,
    /// Each scheduled rule's state, in the detector's rule order.
    pub rules: Vec<crate::schedule::SavedSchedule>,
}

/// What a checkpoint gives a starting detector.
#[derive(Debug, Default)]
pub struct Restored {
    /// The files' positions.
    pub files: Vec<FilePosition>,
    /// The scheduled rules' state (none before layout 2).
    pub schedules: SavedSchedules,
}

#[derive(Serialize, Deserialize)]
struct Checkpoint {
    format: u32,
    detector: RuleSet,
    /// Seconds since the Unix epoch when it was written.
    written: u64,
    files: Vec<FilePosition>,
    #[serde(default)]
    schedules: SavedSchedules,
}

/// An open, locked state directory.
pub struct StateDir {
    dir: PathBuf,
    /// Held for the detector's life: the lock is released when it closes.
    _lock: File,
    rules: RuleSet,
    /// The positions and the scheduled rules' versions
    /// ([`crate::schedule::RuleSchedule::version`]) written last: an
    /// unchanged checkpoint is not written again.
    last: Option<(Vec<FilePosition>, Vec<u64>)>,
}

impl StateDir {
    /// Opens (creating it if needed) and locks `dir`, and reads its
    /// checkpoint, refusing one written by another rule set or version.
    pub fn open(dir: &Path, rules: RuleSet) -> Result<(StateDir, Restored), String> {
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
        let restored = match std::fs::read(&path) {
            Ok(bytes) => {
                let checkpoint: Checkpoint = serde_json::from_slice(&bytes).map_err(|e| {
                    format!(
                        "--state {shown}: {} is not a checkpoint this detector can read: {e} (move it away to start over)",
                        path.display()
                    )
                })?;
                if checkpoint.format != FORMAT && checkpoint.format != 1 {
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
                Restored {
                    files: checkpoint.files,
                    schedules: checkpoint.schedules,
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Restored::default(),
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
                last: None,
            },
            restored,
        ))
    }

    /// True when `files` and scheduled rules at `versions` are what the
    /// checkpoint holds already.
    pub fn is_current(&self, files: &[FilePosition], versions: &[u64]) -> bool {
        self.last
            .as_ref()
            .is_some_and(|(f, v)| f.as_slice() == files && v.as_slice() == versions)
    }

    /// Replaces the checkpoint (atomically) with `files` and the scheduled
    /// rules' state `schedules` (made at `versions`), unless they are
    /// those written last. `Ok(false)` when there was nothing to write.
    /// `schedules` is called only to write.
    pub fn write(
        &mut self,
        files: Vec<FilePosition>,
        versions: Vec<u64>,
        schedules: impl FnOnce() -> SavedSchedules,
    ) -> io::Result<bool> {
        if self.is_current(&files, &versions) {
            return Ok(false);
        }
        let checkpoint = Checkpoint {
            format: FORMAT,
            detector: self.rules.clone(),
            written: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            files,
            schedules: schedules(),
        };
        let bytes = serde_json::to_vec_pretty(&checkpoint).map_err(io::Error::other)?;
        let temporary = self.dir.join(format!("{CHECKPOINT_FILE}.tmp"));
        let mut file = File::create(&temporary)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, self.dir.join(CHECKPOINT_FILE))?;
        File::open(&self.dir)?.sync_all()?;
        self.last = Some((checkpoint.files, versions));
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
        let (mut state, restored) = StateDir::open(dir.path(), rules(&["a"])).unwrap();
        assert!(restored.files.is_empty());
        let saved = SavedSchedules {
            newest_event: Some(5),
            rules: vec![crate::schedule::SavedSchedule {
                rule: "a".into(),
                last_tick: Some(0),
                quiet_until: None,
                dropped_since_run: 0,
                rows: vec![(4, vec![serde_json::json!({"d": 4}), serde_json::json!("x")])],
            }],
        };
        assert!(state
            .write(vec![position(8)], vec![1], || saved.clone())
            .unwrap());
        assert!(
            !state
                .write(vec![position(8)], vec![1], || unreachable!())
                .unwrap(),
            "unchanged"
        );
        assert!(state
            .write(vec![position(8)], vec![2], || saved.clone())
            .unwrap());
        drop(state);
        let (_, restored) = StateDir::open(dir.path(), rules(&["a"])).unwrap();
        assert_eq!(restored.files, vec![position(8)]);
        assert_eq!(restored.schedules, saved);
        assert!(!dir.path().join("checkpoint.json.tmp").exists());
    }

    #[test]
    fn another_rule_set_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mut state, _) = StateDir::open(dir.path(), rules(&["a"])).unwrap();
        state
            .write(vec![position(8)], Vec::new(), SavedSchedules::default)
            .unwrap();
        drop(state);
        let error = StateDir::open(dir.path(), rules(&["a", "b"]))
            .err()
            .unwrap();
        assert!(error.contains("written by another detector"), "{error}");
        assert!(error.contains("rules [a]"), "{error}");
        assert!(error.contains("rules [a, b]"), "{error}");
    }

    #[test]
    fn a_layout_1_checkpoint_is_read_without_schedules_and_another_layout_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CHECKPOINT_FILE);
        let mut old = serde_json::json!({
            "format": 1,
            "detector": rules(&["a"]),
            "written": 0,
            "files": [position(8)],
        });
        std::fs::write(&path, old.to_string()).unwrap();
        let (state, restored) = StateDir::open(dir.path(), rules(&["a"])).unwrap();
        assert_eq!(restored.files, vec![position(8)]);
        assert_eq!(restored.schedules, SavedSchedules::default());
        drop(state);
        old["format"] = serde_json::json!(3);
        std::fs::write(&path, old.to_string()).unwrap();
        let error = StateDir::open(dir.path(), rules(&["a"])).err().unwrap();
        assert!(
            error.contains("has layout 3, this detector reads layout 2"),
            "{error}"
        );
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
