//! The NATS JetStream source (issue 15 item 1), against a real
//! `nats-server` (the Debian package; `.ci/run` installs it): detectors
//! built from a rule, run as processes on a durable pull consumer, and
//! stopped with SIGTERM. Without `nats-server` the tests are skipped with
//! a message, unless `CI` is set: then they fail.

use async_nats::jetstream::{self, consumer::pull, stream};
use kqlc::sema::Schema;
use kqlc_cli::build::{Profile, Rule, Toolchain};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A quick build of one rule, as `kqlc run` makes them.
fn detector(name: &str, kql: &str) -> PathBuf {
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

/// A `nats-server` with JetStream on 127.0.0.1, a free port and a
/// temporary store; stopped when dropped.
struct NatsServer {
    child: Child,
    url: String,
    _store: tempfile::TempDir,
}

impl NatsServer {
    /// `None` (after saying why) when `nats-server` is not installed and
    /// `CI` is not set.
    fn start() -> Option<NatsServer> {
        if Command::new("nats-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            if std::env::var_os("CI").is_some() {
                panic!("nats-server is not installed (.ci/run installs the Debian package)");
            }
            eprintln!("skipped: nats-server is not installed (apt-get install nats-server)");
            return None;
        }
        // nats-server takes no port 0: take a free one and hand it over.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store = tempfile::tempdir().unwrap();
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = NatsServer {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            _store: store,
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "nats-server did not accept connections within 15 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test's own JetStream client, on a runtime of its own.
struct Client {
    runtime: tokio::runtime::Runtime,
    context: jetstream::Context,
}

impl Client {
    fn connect(url: &str) -> Client {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        // The context spawns on the runtime: made inside it.
        let context = runtime.block_on(async {
            let client = async_nats::connect(url).await.unwrap();
            jetstream::new(client)
        });
        Client { runtime, context }
    }

    fn create_stream(&self, name: &str, subjects: &str) {
        self.runtime
            .block_on(self.context.create_stream(stream::Config {
                name: name.to_string(),
                subjects: vec![subjects.to_string()],
                ..Default::default()
            }))
            .unwrap();
    }

    /// Publishes each payload and waits for its ack: the stream sequences.
    fn publish(&self, subject: &str, payloads: &[String]) -> Vec<u64> {
        self.runtime.block_on(async {
            let mut sequences = Vec::new();
            for payload in payloads {
                let ack = self
                    .context
                    .publish(subject.to_string(), payload.clone().into())
                    .await
                    .unwrap()
                    .await
                    .unwrap();
                sequences.push(ack.sequence);
            }
            sequences
        })
    }

    /// The consumer's (num_pending, num_ack_pending), once it exists.
    fn pending(&self, stream: &str, consumer: &str) -> Option<(u64, usize)> {
        self.runtime.block_on(async {
            let stream = self.context.get_stream(stream).await.ok()?;
            let mut consumer: jetstream::consumer::Consumer<pull::Config> =
                stream.get_consumer(consumer).await.ok()?;
            let info = consumer.info().await.ok()?;
            Some((info.num_pending, info.num_ack_pending))
        })
    }

    /// Waits (at most 15 s) until every message of the stream was acked.
    fn wait_all_acked(&self, stream: &str, consumer: &str) {
        let start = Instant::now();
        loop {
            let pending = self.pending(stream, consumer);
            if pending == Some((0, 0)) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "messages still pending or unacked (num_pending, num_ack_pending): {pending:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A detector running as a service, its stdout and stderr collected by
/// threads line by line.
struct Service {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Service {
    fn start(binary: &Path, args: &[&str]) -> Service {
        let mut child = Command::new(binary)
            .args(args)
            .args(["--now", "2024-05-28T12:00:00Z"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let collect = |stream: Box<dyn Read + Send>| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    sink.lock().unwrap().push(line);
                }
            });
            lines
        };
        let stdout = collect(Box::new(child.stdout.take().unwrap()));
        let stderr = collect(Box::new(child.stderr.take().unwrap()));
        Service {
            child,
            stdout,
            stderr,
        }
    }

    fn rows(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Waits (at most 30 s) for a stderr line containing `text`.
    fn wait_stderr(&self, text: &str) -> String {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Some(line) = self
                .stderr
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(text))
            {
                return line.clone();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no '{text}' on stderr: {:?}", self.stderr.lock().unwrap());
    }

    /// Sends SIGTERM; waits (at most 20 s) for the exit status.
    fn terminate(mut self) -> (Option<i32>, Vec<String>, Vec<String>) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("the detector did not stop within 20 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        std::thread::sleep(Duration::from_millis(100));
        let stdout = self.stdout.lock().unwrap().clone();
        let stderr = self.stderr.lock().unwrap().clone();
        (status.code(), stdout, stderr)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (at most 30 s) until `done` holds for the rows of `services`
/// together.
fn wait_rows(services: &[&Service], done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let start = Instant::now();
    loop {
        let rows: Vec<String> = services.iter().flat_map(|s| s.rows()).collect();
        if done(&rows) || start.elapsed() > Duration::from_secs(30) {
            return rows;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How often each value of `key` appears in the rows.
fn counts(rows: &[String], key: &str) -> BTreeMap<String, usize> {
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

const CREATE_IDS: &str =
    "CloudAuditEvents | where OperationName == \"create\" | project Id = tostring(RawEventData.AuditId)";

/// A Kubernetes audit event.
fn event(id: &str, verb: &str) -> String {
    format!(
        "{{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"{id}\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/default/pods\",\"verb\":\"{verb}\",\"user\":{{\"username\":\"alice\"}},\"sourceIPs\":[\"10.0.0.1\"],\"objectRef\":{{\"resource\":\"pods\",\"namespace\":\"default\"}},\"responseStatus\":{{\"code\":201}},\"requestReceivedTimestamp\":\"2024-05-28T10:00:00.000000Z\",\"stageTimestamp\":\"2024-05-28T10:00:00.100000Z\"}}"
    )
}

fn event_list(events: &[String]) -> String {
    format!(
        "{{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"metadata\":{{}},\"items\":[{}]}}",
        events.join(",")
    )
}

#[test]
fn nats_consumer_acks_messages_after_their_rows_and_terminates_a_malformed_one() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let binary = detector("create_ids", CREATE_IDS);
    let client = Client::connect(&server.url);
    client.create_stream("AUDIT", "audit.>");

    // Before the detector starts: events, an EventList, a CloudAuditEvents
    // row, a pretty-printed event and a malformed message.
    let mut messages: Vec<String> = (0..10)
        .map(|i| event(&format!("e{i}"), if i % 2 == 0 { "create" } else { "get" }))
        .collect();
    messages.push(event_list(&[
        event("l0", "create"),
        event("l1", "get"),
        event("l2", "create"),
    ]));
    messages.push(
        "{\"Timestamp\":\"2024-05-28T10:00:00Z\",\"OperationName\":\"create\",\"RawEventData\":{\"AuditId\":\"row\"}}"
            .to_string(),
    );
    messages.push(
        serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(&event("pretty", "create")).unwrap(),
        )
        .unwrap(),
    );
    messages.push("{\"kind\": \u{1b}[31m".to_string());
    let sequences = client.publish("audit.c1", &messages);
    let malformed = *sequences.last().unwrap();

    let service = Service::start(
        &binary,
        &[
            "--nats",
            &server.url,
            "--stream",
            "AUDIT",
            "--consumer",
            "detectors",
            "--subject",
            "audit.>",
        ],
    );
    service.wait_stderr("consuming nats:AUDIT/detectors");
    let mut expected = vec!["e0", "e2", "e4", "e6", "e8", "l0", "l2", "row", "pretty"];
    let rows = wait_rows(&[&service], |rows| rows.len() >= expected.len());
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    client.wait_all_acked("AUDIT", "detectors");

    // The malformed message is reported with its stream sequence, escaped.
    let report = service.wait_stderr("malformed JSON");
    assert!(
        report.starts_with(&format!("nats:AUDIT/detectors:{malformed}: malformed JSON")),
        "{report}"
    );
    assert!(!report.contains('\u{1b}'), "{report:?}");

    // Messages published while it runs.
    client.publish(
        "audit.c2",
        &[event("late0", "create"), event("late1", "update")],
    );
    expected.push("late0");
    let rows = wait_rows(&[&service], |rows| rows.len() >= expected.len());
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    client.wait_all_acked("AUDIT", "detectors");

    let (status, rows, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    let counts = counts(&rows, "Id");
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(counts.keys().cloned().collect::<Vec<_>>(), expected);
    assert!(counts.values().all(|c| *c == 1), "{counts:?}");
    let summary = stderr.iter().find(|l| l.starts_with("summary: ")).unwrap();
    assert!(summary.contains("1 rejected"), "{summary}");
}

#[test]
fn two_detectors_on_one_durable_consumer_emit_each_event_once() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let binary = detector("create_ids", CREATE_IDS);
    let client = Client::connect(&server.url);
    client.create_stream("AUDIT", "audit.>");
    let args = [
        "--nats",
        &server.url,
        "--stream",
        "AUDIT",
        "--consumer",
        "shared",
    ];
    let first = Service::start(&binary, &args);
    let second = Service::start(&binary, &args);
    first.wait_stderr("consuming nats:AUDIT/shared");
    second.wait_stderr("consuming nats:AUDIT/shared");

    // 2,000 events, half of them creates, in batches of EventLists and
    // single events, while both pull.
    let mut messages = Vec::new();
    for batch in 0..100 {
        let events: Vec<String> = (0..10)
            .map(|i| {
                let verb = if i % 2 == 0 { "create" } else { "get" };
                event(&format!("b{batch}-e{i}"), verb)
            })
            .collect();
        if batch % 2 == 0 {
            messages.push(event_list(&events));
        } else {
            messages.extend(events);
        }
    }
    client.publish("audit.any", &messages);
    let rows = wait_rows(&[&first, &second], |rows| rows.len() >= 500);
    assert_eq!(rows.len(), 500);
    client.wait_all_acked("AUDIT", "shared");

    let (status_1, rows_1, stderr_1) = first.terminate();
    let (status_2, rows_2, stderr_2) = second.terminate();
    assert_eq!(status_1, Some(0), "{stderr_1:?}");
    assert_eq!(status_2, Some(0), "{stderr_2:?}");
    // JetStream spread the messages (about half each in practice).
    assert!(
        !rows_1.is_empty() && !rows_2.is_empty(),
        "one detector took every message: {} and {} rows",
        rows_1.len(),
        rows_2.len()
    );
    let all: Vec<String> = rows_1.iter().chain(&rows_2).cloned().collect();
    let counts = counts(&all, "Id");
    assert_eq!(counts.len(), 500);
    assert!(
        counts.values().all(|c| *c == 1),
        "an event was emitted twice"
    );
}

#[test]
fn an_output_failure_naks_the_messages_for_another_detector() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let binary = detector("create_ids", CREATE_IDS);
    let client = Client::connect(&server.url);
    client.create_stream("AUDIT", "audit.>");
    let events: Vec<String> = (0..20)
        .map(|i| event(&format!("e{i}"), if i % 2 == 0 { "create" } else { "get" }))
        .collect();
    client.publish("audit.c1", &events);
    let args = [
        "--nats",
        &server.url,
        "--stream",
        "AUDIT",
        "--consumer",
        "detectors",
    ];

    // Writing to /dev/full fails: the detector naks its batch and stops.
    let mut failing = Command::new(&binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = failing.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = failing.kill();
            panic!("the detector writing to /dev/full did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    failing
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error: writing results"), "{stderr}");

    // The messages come back after the nak delay (5 s), well before the
    // ack wait (30 s) would have given them back.
    let taken_over = Instant::now();
    let service = Service::start(&binary, &args);
    let rows = wait_rows(&[&service], |rows| rows.len() >= 10);
    assert_eq!(rows.len(), 10, "{stderr}");
    assert!(
        taken_over.elapsed() < Duration::from_secs(20),
        "redelivered only after {:?}",
        taken_over.elapsed()
    );
    client.wait_all_acked("AUDIT", "detectors");
    let (status, _, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
}
