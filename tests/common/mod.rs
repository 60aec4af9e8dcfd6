//! Helpers shared by the integration test modules: the `kqlc` binary and
//! the repository, quick builds of a rule, a detector run as a service,
//! audit events, throwaway certificates and deterministic generators.

use kqlc::sema::Schema;
use kqlc_cli::build::{Profile, Rule, Toolchain};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The `now()` every test runs its detectors with.
pub const NOW: &str = "2024-05-28T12:00:00Z";

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `kqlc` binary of this build.
pub fn kqlc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kqlc"))
}

/// A folder of this test run for `owner` (a module's name), made on first
/// use and removed when the run ends: the modules share a process, so
/// each takes its own folder.
pub fn scratch(owner: &str) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR
        .get_or_init(|| tempfile::tempdir().unwrap())
        .path()
        .join(owner);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `../shared/corpus/SUB` beside the repository, or `None` (the test is
/// skipped, with a message) when it is missing; under CI (`CI` set) its
/// absence fails the test instead.
pub fn corpus(sub: &str) -> Option<PathBuf> {
    let dir = repo().join("../shared/corpus").join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the corpus folder {} is missing and CI is set",
        dir.display()
    );
    eprintln!("skipped: no corpus folder {}", dir.display());
    None
}

/// A small deterministic generator (SplitMix64).
pub struct Random(pub u64);

impl Random {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// True once in `one_in` times.
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// A detector running as a service (with `--now` [`NOW`]), its stdout and
/// stderr collected by threads line by line; killed when dropped.
pub struct Service {
    pub child: Child,
    pub stdout: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<Vec<String>>>,
    /// While set, the detector's stdout is not read: once the pipe and the
    /// detector's buffer are full, its thread blocks writing rows.
    stdout_paused: Arc<AtomicBool>,
    readers: Vec<JoinHandle<()>>,
}

impl Service {
    pub fn start<S: AsRef<OsStr>>(binary: &Path, args: &[S]) -> Service {
        let mut child = Command::new(binary)
            .args(args)
            .args(["--now", NOW])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout_paused = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        let mut collect = |stream: Box<dyn Read + Send>, paused: Option<Arc<AtomicBool>>| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&lines);
            readers.push(std::thread::spawn(move || {
                let mut reader = BufReader::new(stream).lines();
                loop {
                    while paused.as_ref().is_some_and(|p| p.load(Ordering::SeqCst)) {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    let Some(Ok(line)) = reader.next() else { break };
                    sink.lock().unwrap().push(line);
                }
            }));
            lines
        };
        let stdout = collect(
            Box::new(child.stdout.take().unwrap()),
            Some(Arc::clone(&stdout_paused)),
        );
        let stderr = collect(Box::new(child.stderr.take().unwrap()), None);
        Service {
            child,
            stdout,
            stderr,
            stdout_paused,
            readers,
        }
    }

    /// The rows written so far.
    pub fn rows(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// The stderr lines written so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Stops (`true`) or resumes reading the detector's stdout.
    pub fn pause_stdout(&self, paused: bool) {
        self.stdout_paused.store(paused, Ordering::SeqCst);
    }

    /// Waits (at most `limit`) until `done` holds for the output rows.
    pub fn wait_rows(&self, limit: Duration, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let start = Instant::now();
        loop {
            let rows = self.rows();
            if done(&rows) || start.elapsed() > limit {
                return rows;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (at most 30 s) for a stderr line containing `text`.
    pub fn wait_stderr(&self, text: &str) -> String {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Some(line) = self.stderr().iter().find(|l| l.contains(text)) {
                return line.clone();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no '{text}' on stderr: {:?}", self.stderr());
    }

    /// Sends `signal` (`HUP`, `TERM`, ...) to the detector.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Lets the reader threads take the last lines once the detector has
    /// exited (its pipes closed), resuming a paused stdout.
    fn drain(&mut self) {
        self.pause_stdout(false);
        let start = Instant::now();
        for reader in std::mem::take(&mut self.readers) {
            // A process the detector started could hold a pipe open: do not
            // wait for it forever.
            while !reader.is_finished() && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(5));
            }
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
    }

    /// `kill -9`: the detector gets no chance to flush or checkpoint.
    /// Returns what it had written to stdout.
    pub fn kill(mut self) -> Vec<String> {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.drain();
        self.rows()
    }

    /// Sends SIGTERM; waits (at most 20 s) for the exit status, stdout and
    /// stderr.
    pub fn terminate(self) -> (Option<i32>, Vec<String>, Vec<String>) {
        self.terminate_within(Duration::from_secs(20))
    }

    /// Sends SIGTERM; waits (at most `limit`) for the exit status, stdout
    /// and stderr.
    pub fn terminate_within(mut self, limit: Duration) -> (Option<i32>, Vec<String>, Vec<String>) {
        self.signal("TERM");
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "the detector did not stop within {} s of SIGTERM: {:?}",
                    limit.as_secs(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        self.drain();
        (status.code(), self.rows(), self.stderr())
    }

    /// Waits (at most 20 s) for the detector to stop by itself: its exit
    /// status and stderr.
    pub fn wait_exit(mut self) -> (Option<i32>, Vec<String>) {
        let status = exit_status(&mut self.child);
        self.drain();
        (status, self.stderr())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (at most 20 s) for `child` to stop by itself; kills it and fails
/// the test when it does not.
pub fn exit_status(child: &mut Child) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the detector did not stop within 20 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A quick build of one rule, as `kqlc run` makes them.
pub fn detector(name: &str, kql: &str) -> PathBuf {
    let pipeline = kqlc::compile(kql, &Schema::builtin())
        .unwrap_or_else(|d| panic!("{kql}: {}", d[0].message));
    let rule = Rule {
        name: name.to_string(),
        kql: kql.to_string(),
        path: format!("{name}.kql"),
        pipeline,
    };
    Toolchain::discover()
        .unwrap()
        .build(&[rule], Profile::Quick)
        .unwrap()
}

/// How often each value of `key` appears in the rows.
pub fn counts(rows: &[String], key: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for row in rows {
        let value: serde_json::Value = serde_json::from_str(row).unwrap();
        let id = match &value[key] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

/// A Kubernetes audit event.
pub fn event(id: &str, verb: &str) -> String {
    format!(
        "{{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"{id}\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/default/pods\",\"verb\":\"{verb}\",\"user\":{{\"username\":\"alice\"}},\"sourceIPs\":[\"10.0.0.1\"],\"objectRef\":{{\"resource\":\"pods\",\"namespace\":\"default\"}},\"responseStatus\":{{\"code\":201}},\"requestReceivedTimestamp\":\"2024-05-28T10:00:00.000000Z\",\"stageTimestamp\":\"2024-05-28T10:00:00.100000Z\"}}"
    )
}

/// A Kubernetes audit `EventList` of `events`.
pub fn event_list(events: &[String]) -> String {
    format!(
        "{{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"metadata\":{{}},\"items\":[{}]}}",
        events.join(",")
    )
}

/// The value of the sample of `metrics` whose name and labels start with
/// `prefix`.
pub fn sample(metrics: &str, prefix: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// A throwaway PKI in `dir`: `ca.crt`, `server.crt`/`server.key` for
/// 127.0.0.1, and `client.crt`/`client.key` for client authentication
/// (`kqlc_cli::bench::live::make_certificates`, which the live benchmark
/// uses too; it needs the `openssl` command line tool).
pub fn make_certificates(dir: &Path) {
    kqlc_cli::bench::live::make_certificates(dir).expect("the test certificates are made");
}

/// Rules compiled against the built-in schema, from `(name, query)` pairs.
pub fn rules(named: &[(&str, &str)]) -> Vec<Rule> {
    let schema = Schema::builtin();
    named
        .iter()
        .map(|(name, kql)| Rule {
            name: name.to_string(),
            path: format!("{name}.kql"),
            kql: kql.to_string(),
            pipeline: kqlc::compile(kql, &schema)
                .unwrap_or_else(|d| panic!("{name}: {}", d[0].message)),
        })
        .collect()
}

/// The query of a Sentinel YAML rule: the indented block after `query: |`.
pub fn yaml_query(text: &str) -> Option<String> {
    let mut lines = text.lines();
    lines.by_ref().find(|l| {
        let l = l.trim_end();
        l.starts_with("query:") && (l.ends_with('|') || l.ends_with("|-") || l.ends_with("|+"))
    })?;
    let block: Vec<&str> = lines
        .take_while(|l| l.trim().is_empty() || l.starts_with(' ') || l.starts_with('\t'))
        .collect();
    let indent = block
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()?;
    Some(
        block
            .iter()
            .map(|l| l.get(indent..).unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// A command's stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A command's stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A small deterministic generator (64-bit LCG), so the events are the
/// same on every run.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}
