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
//! Everything else is denied, executing anything included. Where the
//! kernel's Landlock has ABI 4 or later (Linux 6.7), TCP is confined too:
//!
//! | TCP | ports allowed | why |
//! |---|---|---|
//! | bind | `--listen`'s and `--metrics`' (port 0: the kernel's ephemeral range) | the servers bind after confinement |
//! | connect | each `--nats` URL's (default 4222) and `--kafka` broker's (default 9092), and 53 | the clients (re)connect; 53 for DNS over TCP |
//!
//! Without a NATS or Kafka option no TCP connection can be made, and
//! without `--listen` or `--metrics` no TCP port can be bound. Landlock's
//! network rights cover TCP only: UDP (DNS) is not restricted. Servers a
//! client learns of from the first one (a NATS cluster's `connect_urls`,
//! Kafka brokers advertised on other ports than the bootstrap ones) are
//! reachable only on the ports named. Landlock is best effort: on a kernel
//! without it (or with an older ABI) the detector runs unconfined, or
//! partly confined, and says so once (with the ABI found). `--no-landlock`
//! leaves it off.

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
    /// TCP ports the servers bind (0: an ephemeral port).
    pub bind_tcp: Vec<u16>,
    /// TCP ports the clients connect to.
    pub connect_tcp: Vec<u16>,
}

/// The default port of a NATS server.
const NATS_PORT: u16 = 4222;

/// The default port of a Kafka broker.
const KAFKA_PORT: u16 = 9092;

/// DNS, which falls back to TCP for large answers.
const DNS_PORT: u16 = 53;

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
        for addr in [&options.listen, &options.metrics].into_iter().flatten() {
            // An address the server cannot bind is its error to report.
            if let Some(port) = url_port(addr, 0) {
                push_new(&mut allowed.bind_tcp, port);
            }
        }
        let servers = [(&options.nats, NATS_PORT), (&options.kafka, KAFKA_PORT)];
        for (list, default) in servers {
            for url in list.iter().flat_map(|l| l.split(',')) {
                if let Some(port) = url_port(url, default) {
                    push_new(&mut allowed.connect_tcp, port);
                }
            }
        }
        if !allowed.connect_tcp.is_empty() {
            push_new(&mut allowed.connect_tcp, DNS_PORT);
        }
        allowed
    }
}

/// The port of a server address or URL (`host:port`, `[::1]:port`,
/// `nats://user:pass@host:port`, `tls://host`): its port, or `default`
/// when it names none. `None` when the port is not a number.
fn url_port(url: &str, default: u16) -> Option<u16> {
    let url = url.trim();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // After an IPv6 address's brackets, or after the only colon (a bare
    // IPv6 address has several and no port).
    let port = match host_port.rsplit_once(']') {
        Some((_, after)) => after.strip_prefix(':'),
        None if host_port.matches(':').count() == 1 => host_port.rsplit_once(':').map(|(_, p)| p),
        None => None,
    };
    match port {
        Some(port) => port.parse().ok(),
        None => Some(default),
    }
}

fn push_new<T: PartialEq>(paths: &mut Vec<T>, path: T) {
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

/// What confining did, for the detector's start-up notes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confined {
    /// How far the ruleset is enforced.
    pub confinement: Confinement,
    /// The kernel's Landlock ABI (the newest this build knows when the
    /// kernel's is newer), when Landlock is available.
    pub abi: Option<i32>,
    /// Whether TCP bind and connect are confined (ABI 4 and later).
    pub network: bool,
}

impl Confined {
    /// One line on the network's confinement (none when Landlock is not
    /// available at all: the files' line says so).
    pub fn network_note(&self, allowed: &Allowed) -> Option<String> {
        let abi = self.abi?;
        if !self.network {
            return Some(format!(
                "Landlock: this kernel's Landlock ABI is {abi}; restricting TCP needs ABI 4 (Linux 6.7): the network is not confined"
            ));
        }
        let ports = |ports: &[u16], none: &str| {
            if ports.is_empty() {
                return none.to_string();
            }
            let list: Vec<String> = ports
                .iter()
                .map(|p| match p {
                    0 => "0 (ephemeral)".to_string(),
                    p => p.to_string(),
                })
                .collect();
            let s = if list.len() == 1 { "" } else { "s" };
            format!("port{s} {} only", list.join(", "))
        };
        Some(format!(
            "Landlock (ABI {abi}): TCP bind to {}; TCP connect to {} (UDP is not restricted)",
            ports(&allowed.bind_tcp, "no port"),
            ports(&allowed.connect_tcp, "no port"),
        ))
    }
}

/// Confines the calling thread, and the threads it starts from now on, to
/// `allowed`. `Err` when the ruleset could not be built or applied.
#[cfg(target_os = "linux")]
pub fn confine(allowed: &Allowed) -> Result<Confined, String> {
    use landlock::{
        path_beneath_rules, Access, AccessFs, AccessNet, BitFlags, LandlockStatus, NetPort,
        Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, ABI,
    };
    // The newest ABI this was written and tested for; older kernels get
    // what they have (best effort).
    let abi = ABI::V5;
    let read: BitFlags<AccessFs> = AccessFs::ReadFile | AccessFs::ReadDir;
    let write: BitFlags<AccessFs> = AccessFs::WriteFile | AccessFs::MakeReg;
    let read_write: BitFlags<AccessFs> = AccessFs::from_all(abi) & !AccessFs::Execute;
    let error = |e: landlock::RulesetError| format!("Landlock: {e}");
    let ports = allowed
        .bind_tcp
        .iter()
        .map(|p| NetPort::new(*p, AccessNet::BindTcp))
        .chain(
            allowed
                .connect_tcp
                .iter()
                .map(|p| NetPort::new(*p, AccessNet::ConnectTcp)),
        )
        .map(Ok::<_, landlock::RulesetError>);
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .map_err(error)?
        .handle_access(AccessNet::from_all(abi))
        .map_err(error)?
        .create()
        .map_err(error)?
        .add_rules(path_beneath_rules(&allowed.read, read))
        .map_err(error)?
        .add_rules(path_beneath_rules(&allowed.write, write))
        .map_err(error)?
        .add_rules(path_beneath_rules(&allowed.read_write, read_write))
        .map_err(error)?
        .add_rules(ports)
        .map_err(error)?
        .restrict_self()
        .map_err(error)?;
    let abi = match status.landlock {
        LandlockStatus::Available {
            effective_abi,
            kernel_abi,
        } => Some(kernel_abi.unwrap_or(effective_abi as i32)),
        _ => None,
    };
    let confinement = match status.ruleset {
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
    };
    let network = !matches!(confinement, Confinement::Unavailable(_))
        && abi.is_some_and(|abi| abi >= ABI::V4 as i32);
    Ok(Confined {
        confinement,
        abi,
        network,
    })
}

/// Confines the calling thread (Linux only: elsewhere nothing is done).
#[cfg(not(target_os = "linux"))]
pub fn confine(_: &Allowed) -> Result<Confined, String> {
    Ok(Confined {
        confinement: Confinement::Unavailable("Landlock is Linux's".to_string()),
        abi: None,
        network: false,
    })
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
            let confined = confine(&allowed).unwrap();
            let create = |path: PathBuf| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .and_then(|mut file| std::io::Write::write_all(&mut file, b"x"))
            };
            let wrote_inside = create(inside.join("a"));
            let wrote_outside = create(outside.join("b"));
            (confined, wrote_inside, wrote_outside)
        });
        let (confined, inside, outside) = confined.join().unwrap();
        if let Confinement::Unavailable(why) = confined.confinement {
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

    #[test]
    fn ports_come_from_addresses_and_urls() {
        assert_eq!(url_port("0.0.0.0:8443", 0), Some(8443));
        assert_eq!(url_port("127.0.0.1:0", 0), Some(0));
        assert_eq!(url_port("[::1]:9090", 0), Some(9090));
        assert_eq!(url_port("localhost", 7), Some(7));
        assert_eq!(
            url_port("nats://user:pass@nats.example:4333", NATS_PORT),
            Some(4333)
        );
        assert_eq!(url_port("tls://nats.example", NATS_PORT), Some(NATS_PORT));
        assert_eq!(url_port(" broker-1:19092", KAFKA_PORT), Some(19092));
        assert_eq!(url_port("nats://[fd00::1]/", NATS_PORT), Some(NATS_PORT));
        assert_eq!(url_port("host:http", 0), None);
        let options = options(&[
            ("--listen", Some("0.0.0.0:8443")),
            ("--metrics", Some("127.0.0.1:0")),
            ("--nats", Some("nats://a:4222,nats://b:4223")),
        ]);
        let allowed = Allowed::for_options(&options, &[], None);
        assert_eq!(allowed.bind_tcp, [8443, 0]);
        assert_eq!(allowed.connect_tcp, [4222, 4223, DNS_PORT]);
        let quiet = Allowed::for_options(&self::options(&[("--follow", None)]), &[], None);
        assert!(quiet.bind_tcp.is_empty() && quiet.connect_tcp.is_empty());
    }

    /// Landlock ABI 4 (Linux 6.7) confines TCP: a port not named can be
    /// neither bound nor connected to.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_confined_thread_binds_and_connects_only_to_its_ports() {
        use std::net::{TcpListener, TcpStream};
        // Listeners made before confining: one the thread may connect to,
        // one it may not; and a free port it may bind, found the same way.
        let allowed_peer = TcpListener::bind("127.0.0.1:0").unwrap();
        let denied_peer = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = |l: &TcpListener| l.local_addr().unwrap().port();
        let (to_allowed, to_denied) = (port(&allowed_peer), port(&denied_peer));
        let free = TcpListener::bind("127.0.0.1:0").unwrap();
        let bind_port = port(&free);
        drop(free);
        let allowed = Allowed {
            bind_tcp: vec![bind_port],
            connect_tcp: vec![to_allowed],
            ..Allowed::default()
        };
        let confined = std::thread::spawn(move || {
            let confined = confine(&allowed).unwrap();
            let bound = TcpListener::bind(("127.0.0.1", bind_port)).map(drop);
            let other_bound = TcpListener::bind("127.0.0.1:0").map(drop);
            let connected = TcpStream::connect(("127.0.0.1", to_allowed)).map(drop);
            let other_connected = TcpStream::connect(("127.0.0.1", to_denied)).map(drop);
            (confined, bound, other_bound, connected, other_connected)
        });
        let (confined, bound, other_bound, connected, other_connected) = confined.join().unwrap();
        if !confined.network {
            eprintln!(
                "skipped: this kernel's Landlock cannot confine TCP (ABI {:?}, {:?})",
                confined.abi, confined.confinement
            );
            return;
        }
        assert!(bound.is_ok(), "{bound:?}");
        assert!(connected.is_ok(), "{connected:?}");
        for denied in [other_bound, other_connected] {
            let error = denied.unwrap_err();
            assert_eq!(
                error.kind(),
                std::io::ErrorKind::PermissionDenied,
                "{error}"
            );
        }
        let note = confined
            .network_note(&Allowed {
                bind_tcp: vec![0],
                connect_tcp: vec![4222, 53],
                ..Allowed::default()
            })
            .unwrap();
        let abi = confined.abi.unwrap();
        assert_eq!(
            note,
            format!("Landlock (ABI {abi}): TCP bind to port 0 (ephemeral) only; TCP connect to ports 4222, 53 only (UDP is not restricted)")
        );
        let old_kernel = Confined {
            abi: Some(3),
            network: false,
            ..confined
        };
        assert!(old_kernel
            .network_note(&Allowed::default())
            .unwrap()
            .contains("ABI is 3; restricting TCP needs ABI 4"));
    }
}
