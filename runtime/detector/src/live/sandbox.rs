//! Least privilege for a detector run as a service: a warning when it runs
//! as root, and Landlock (Linux 5.13 and later) confining its file access
//! to what its options name.
//!
//! The ruleset is built from the options and applied by the detector's
//! thread before any other thread starts (the webhook's and metrics'
//! runtimes, the NATS client, `--threads` workers), since Landlock
//! restricts the thread that applies it and the threads it starts after.
//! By then the rules have loaded their data (`externaldata`), `--rejects`
//! is open, and standard output and error are open: writing to an open
//! file is not checked again. What stays allowed:
//!
//! | what | access | why |
//! |---|---|---|
//! | each `--follow` pattern's directory (the nearest one that exists) | read files, list | new and rotated files appear there |
//! | `--tls-cert`, `--tls-key`, `--tls-client-ca`, `--token-file` | read | read when the webhook starts |
//! | the rules' `externaldata` files | read | a scheduled rule reads them at each run |
//! | `--output-file`'s directory (the device itself for one such as `/dev/full`) | create and write files | SIGHUP opens the file again |
//! | `--state DIR` | read, create, write, truncate, rename, remove files | checkpoints (temporary file, rename) |
//! | with `--nats` or `--kafka`: `/etc/hosts`, `/etc/resolv.conf`, ..., CA certificate directories | read | name resolution when the client reconnects |
//! | with `--kafka`: each `--kafka-option` file (`*.location`, `sasl.kerberos.keytab`) | read | librdkafka reads certificates and keys when it connects |
//!
//! Everything else is denied, executing anything included. Landlock is
//! best effort: on a kernel without it (or with an older ABI) the detector
//! runs unconfined, or partly confined, and says so once. `--no-landlock`
//! leaves it off. The network is not restricted.

use crate::detector::InputFile;
use crate::live::LiveOptions;
use std::path::{Path, PathBuf};

/// The paths a confined detector may use, by kind of access.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowed {
    /// Files read, and directories whose files are read and listed.
    pub read: Vec<PathBuf>,
    /// Directories where files are created and written (not read), and
    /// devices written.
    pub write: Vec<PathBuf>,
    /// Directories whose files are read, written, renamed and removed.
    pub read_write: Vec<PathBuf>,
}

/// Files name resolution and TLS roots read, for `--nats` and `--kafka`
/// reconnections.
const NAME_SERVICE_FILES: &[&str] = &[
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/ssl",
    "/etc/pki",
    "/usr/share/ca-certificates",
    "/usr/lib/ssl",
];

impl Allowed {
    /// What the options need: `files` are the `--follow` patterns.
    pub fn for_options(
        options: &LiveOptions,
        files: &[InputFile],
        output_file: Option<&str>,
    ) -> Allowed {
        let mut allowed = Allowed::default();
        if options.follow {
            for file in files {
                push_new(&mut allowed.read, existing_dir_of(Path::new(&file.path)));
            }
        }
        for path in [
            &options.tls_cert,
            &options.tls_key,
            &options.tls_client_ca,
            &options.token_file,
            &options.nats_creds,
            &options.nats_nkey,
            &options.nats_token_file,
            &options.nats_tls_ca,
            &options.nats_tls_cert,
            &options.nats_tls_key,
        ]
        .into_iter()
        .flatten()
        {
            push_new(&mut allowed.read, PathBuf::from(path));
        }
        // The rules' `externaldata` files, read at start: a scheduled
        // rule reads them again at each run.
        for path in kql_runtime::external::files_read() {
            push_new(&mut allowed.read, PathBuf::from(path));
        }
        if options.kafka.is_some() {
            // librdkafka's certificate, key and keytab files.
            for (key, value) in &options.kafka_options {
                if (key.ends_with(".location") && value != "probe") || key == "sasl.kerberos.keytab"
                {
                    push_new(&mut allowed.read, PathBuf::from(value));
                }
            }
        }
        if options.nats.is_some() || options.kafka.is_some() {
            for path in NAME_SERVICE_FILES {
                if Path::new(path).exists() {
                    push_new(&mut allowed.read, PathBuf::from(path));
                }
            }
        }
        if let Some(path) = output_file {
            let path = Path::new(path);
            // A device or a pipe (`/dev/full`, a FIFO) is opened again
            // itself; a file may be created anew in its directory.
            let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file());
            let allow = if special {
                path.to_path_buf()
            } else {
                existing_dir_of(path)
            };
            push_new(&mut allowed.write, allow);
        }
        if let Some(dir) = &options.state {
            push_new(&mut allowed.read_write, PathBuf::from(dir));
        }
        allowed
    }
}

fn push_new(paths: &mut Vec<PathBuf>, path: PathBuf) {
    if !paths.contains(&path) {
        paths.push(path);
    }
}

/// The directory of `path` (a file or a glob of file names), or its
/// nearest ancestor that exists: files may appear there later.
fn existing_dir_of(path: &Path) -> PathBuf {
    let mut dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    while !dir.is_dir() {
        match dir.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => dir = parent.to_path_buf(),
            _ => return PathBuf::from(if dir.is_absolute() { "/" } else { "." }),
        }
    }
    dir
}

/// How confining went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confinement {
    /// Every access right asked for is enforced.
    Full,
    /// The kernel's Landlock lacks some of the rights (an older ABI): those
    /// it has are enforced.
    Partial,
    /// Landlock is not available (not built into the kernel, not enabled
    /// at boot, or not Linux): why.
    Unavailable(String),
}

/// Confines the calling thread, and the threads it starts from now on, to
/// `allowed`. `Err` when the ruleset could not be built or applied.
#[cfg(target_os = "linux")]
pub fn confine(allowed: &Allowed) -> Result<Confinement, String> {
    use landlock::{
        path_beneath_rules, Access, AccessFs, BitFlags, LandlockStatus, Ruleset, RulesetAttr,
        RulesetCreatedAttr, RulesetStatus, ABI,
    };
    // The newest ABI this was written and tested for; older kernels get
    // what they have (best effort).
    let abi = ABI::V5;
    let read: BitFlags<AccessFs> = AccessFs::ReadFile | AccessFs::ReadDir;
    let write: BitFlags<AccessFs> = AccessFs::WriteFile | AccessFs::MakeReg;
    let read_write: BitFlags<AccessFs> = AccessFs::from_all(abi) & !AccessFs::Execute;
    let error = |e: landlock::RulesetError| format!("Landlock: {e}");
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .map_err(error)?
        .create()
        .map_err(error)?
        .add_rules(path_beneath_rules(&allowed.read, read))
        .map_err(error)?
        .add_rules(path_beneath_rules(&allowed.write, write))
        .map_err(error)?
        .add_rules(path_beneath_rules(&allowed.read_write, read_write))
        .map_err(error)?
        .restrict_self()
        .map_err(error)?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => Confinement::Full,
        RulesetStatus::PartiallyEnforced => Confinement::Partial,
        RulesetStatus::NotEnforced => Confinement::Unavailable(
            match status.landlock {
                LandlockStatus::NotEnabled => {
                    "the kernel has it, not enabled at boot (lsm=...,landlock)"
                }
                LandlockStatus::NotImplemented => {
                    "not in this kernel, or a seccomp filter refuses its system calls"
                }
                _ => "the kernel refused the ruleset",
            }
            .to_string(),
        ),
    })
}

/// Confines the calling thread (Linux only: elsewhere nothing is done).
#[cfg(not(target_os = "linux"))]
pub fn confine(_: &Allowed) -> Result<Confinement, String> {
    Ok(Confinement::Unavailable("Landlock is Linux's".to_string()))
}

/// True when the process runs as root (effective user 0).
#[cfg(unix)]
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// True when the process runs as root (never, elsewhere than Unix).
#[cfg(not(unix))]
pub fn is_root() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &[(&str, Option<&str>)]) -> LiveOptions {
        crate::live::parse_for_test(args).unwrap()
    }

    #[test]
    fn allowed_paths_follow_the_options() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        let glob = logs.join("audit*.log");
        let later = dir.path().join("not-yet").join("deeper").join("a.log");
        let state = dir.path().join("state");
        let options = options(&[
            ("--follow", None),
            ("--state", Some(state.to_str().unwrap())),
            ("--listen", Some("127.0.0.1:0")),
            ("--token-file", Some("/etc/kqlc/token")),
        ]);
        let files = [
            InputFile::auto(glob.to_str().unwrap()),
            InputFile::auto(later.to_str().unwrap()),
        ];
        let output = dir.path().join("out").join("rows.jsonl");
        let allowed = Allowed::for_options(&options, &files, output.to_str());
        assert_eq!(
            allowed.read,
            [
                logs.clone(),
                dir.path().to_path_buf(),
                PathBuf::from("/etc/kqlc/token")
            ]
        );
        // The output's directory does not exist: its nearest ancestor.
        assert_eq!(allowed.write, [dir.path().to_path_buf()]);
        assert_eq!(allowed.read_write, [state]);
        assert_eq!(existing_dir_of(Path::new("a.log")), PathBuf::from("."));
        let device = Allowed::for_options(&options, &[], Some("/dev/null"));
        assert_eq!(device.write, [PathBuf::from("/dev/null")]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_confined_thread_writes_only_where_it_is_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let (inside, outside) = (dir.path().join("inside"), dir.path().join("outside"));
        std::fs::create_dir(&inside).unwrap();
        std::fs::create_dir(&outside).unwrap();
        let allowed = Allowed {
            write: vec![inside.clone()],
            ..Allowed::default()
        };
        // Landlock confines the thread that asks and its children: a thread
        // of its own keeps the other tests unconfined.
        let confined = std::thread::spawn(move || {
            let confinement = confine(&allowed).unwrap();
            let create = |path: PathBuf| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .and_then(|mut file| std::io::Write::write_all(&mut file, b"x"))
            };
            let wrote_inside = create(inside.join("a"));
            let wrote_outside = create(outside.join("b"));
            (confinement, wrote_inside, wrote_outside)
        });
        let (confinement, inside, outside) = confined.join().unwrap();
        if let Confinement::Unavailable(why) = confinement {
            eprintln!("skipped: Landlock is not available here ({why})");
            return;
        }
        assert!(inside.is_ok(), "{inside:?}");
        let error = outside.unwrap_err();
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::PermissionDenied,
            "{error}"
        );
    }
}
