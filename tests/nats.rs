//! The NATS JetStream source (issue 15 item 1), against a real
//! `nats-server` (the Debian package; `.ci/run` installs it): detectors
//! built from a rule, run as processes on a durable pull consumer, and
//! stopped with SIGTERM. Without `nats-server` the tests are skipped with
//! a message, unless `CI` is set: then they fail.

use crate::common::{
    counts, detector, event, event_list, kqlc, make_certificates, repo, sample, Lcg, Service,
};
use async_nats::jetstream::{self, consumer::pull, stream};
use kqlc::sema::Schema;
use kqlc_cli::build::{Profile, Rule, Toolchain};
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
        NatsServer::start_with("")
    }

    /// A server whose configuration file also holds `extra` (account
    /// subject mappings, authorization, TLS).
    fn start_with(extra: &str) -> Option<NatsServer> {
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
        let config = store.path().join("server.conf");
        std::fs::write(
            &config,
            format!(
                "host: 127.0.0.1\nport: {port}\njetstream {{ store_dir: {:?} }}\n{extra}\n",
                store.path().join("js")
            ),
        )
        .unwrap();
        let child = Command::new("nats-server")
            .arg("-c")
            .arg(&config)
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
        Client::connect_with(url, async_nats::ConnectOptions::new())
    }

    fn connect_with(url: &str, options: async_nats::ConnectOptions) -> Client {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        // The context spawns on the runtime: made inside it.
        let context = runtime.block_on(async {
            let client = options.connect(url).await.unwrap();
            jetstream::new(client)
        });
        Client { runtime, context }
    }

    /// A stream kept in memory (faster for the big tests).
    fn create_memory_stream(&self, name: &str, subjects: &str) {
        self.runtime
            .block_on(self.context.create_stream(stream::Config {
                name: name.to_string(),
                subjects: vec![subjects.to_string()],
                storage: stream::StorageType::Memory,
                ..Default::default()
            }))
            .unwrap();
    }

    /// Publishes each (subject, payload) with many acks outstanding, then
    /// waits for them all.
    fn publish_many(&self, messages: impl IntoIterator<Item = (String, String)>) {
        self.runtime.block_on(async {
            let mut acks = Vec::new();
            for (subject, payload) in messages {
                acks.push(self.context.publish(subject, payload.into()).await.unwrap());
                if acks.len() >= 2_000 {
                    for ack in acks.drain(..) {
                        ack.await.unwrap();
                    }
                }
            }
            for ack in acks {
                ack.await.unwrap();
            }
        })
    }

    /// Every message the stream holds, in order, read by an ephemeral
    /// consumer.
    fn stream_messages(&self, name: &str) -> Vec<jetstream::Message> {
        self.runtime.block_on(async {
            let mut stream = self.context.get_stream(name).await.unwrap();
            let held = stream.info().await.unwrap().state.messages as usize;
            let consumer = stream
                .create_consumer(pull::Config {
                    ack_policy: jetstream::consumer::AckPolicy::None,
                    ..Default::default()
                })
                .await
                .unwrap();
            let mut messages = Vec::new();
            let start = Instant::now();
            while messages.len() < held {
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "read {} of the {held} messages of {name}",
                    messages.len()
                );
                let mut batch = consumer
                    .batch()
                    .max_messages(1_000)
                    .expires(Duration::from_millis(500))
                    .messages()
                    .await
                    .unwrap();
                while let Some(message) = futures_util::StreamExt::next(&mut batch).await {
                    messages.push(message.unwrap());
                }
            }
            messages
        })
    }

    /// Creates a durable pull consumer as an operator would, with a short
    /// ack wait (a killed instance's messages come back soon).
    fn create_consumer(&self, stream: &str, name: &str, ack_wait: Duration) {
        self.runtime.block_on(async {
            let stream = self.context.get_stream(stream).await.unwrap();
            stream
                .create_consumer(pull::Config {
                    durable_name: Some(name.to_string()),
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait,
                    max_ack_pending: 1_024,
                    ..Default::default()
                })
                .await
                .unwrap();
        })
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
        self.wait_acked_within(stream, consumer, Duration::from_secs(15));
    }

    /// Waits (at most `limit`) until every message of the stream was acked.
    fn wait_acked_within(&self, stream: &str, consumer: &str, limit: Duration) {
        let start = Instant::now();
        loop {
            let pending = self.pending(stream, consumer);
            if pending == Some((0, 0)) {
                return;
            }
            assert!(
                start.elapsed() < limit,
                "messages still pending or unacked (num_pending, num_ack_pending): {pending:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
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

const CREATE_IDS: &str =
    "CloudAuditEvents | where OperationName == \"create\" | project Id = tostring(RawEventData.AuditId)";

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

/// The reference rules (`examples/rules`, the reference queries
/// unmodified: `tests/end_to_end.rs` checks them against the shared copy),
/// built into one detector.
fn reference_detector() -> PathBuf {
    let rules: Vec<Rule> = [
        "privileged-pod",
        "exec-in-kube-system",
        "cluster-admin-binding",
    ]
    .iter()
    .map(|name| {
        let path = repo().join("examples/rules").join(format!("{name}.kql"));
        let kql = std::fs::read_to_string(&path).unwrap();
        let pipeline = kqlc::compile(&kql, &Schema::builtin())
            .unwrap_or_else(|d| panic!("{name}: {}", d[0].message));
        Rule {
            name: name.to_string(),
            kql,
            path: path.display().to_string(),
            pipeline,
        }
    })
    .collect();
    Toolchain::discover()
        .unwrap()
        .build(&rules, Profile::Quick)
        .unwrap()
}

/// `events` events of `kqlc sample` (all platforms, planted attacks at a
/// raised rate), one JSON line each.
fn sample_events(events: u64) -> Vec<String> {
    let now = chrono::DateTime::parse_from_rfc3339("2024-05-28T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut options = kql_sample::SampleOptions::new(0, now);
    options.events = Some(events);
    options.match_rate_per_million = 2_000;
    let mut bytes = Vec::new();
    let stats = kql_sample::write_sample(&mut bytes, &options).unwrap();
    assert!(
        stats.matches_per_rule.iter().all(|m| m.output_rows > 0),
        "{stats:?}"
    );
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The rows of a batch run of `binary` over `lines`: the oracle.
fn batch_rows(binary: &Path, lines: &[String]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events.jsonl");
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(&input, text).unwrap();
    let output = Command::new(binary)
        .arg(&input)
        .args(["--now", "2024-05-28T12:00:00Z"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The documented id (`runtime/detector/src/alert_id.rs`) of a row line
/// written with `"_rule"` first: SHA-256 over the tag, the rule id and the
/// row without `_rule`, first 16 bytes in hex.
fn expected_id(line: &str) -> String {
    use sha2::{Digest, Sha256};
    let prefix = "{\"_rule\":\"";
    let rest = line.strip_prefix(prefix).unwrap();
    let (rule, row) = rest.split_once("\",").unwrap();
    let row = format!("{{{row}");
    let mut hash = Sha256::new();
    hash.update(format!("kqlc-alert-v1\0{rule}\0{row}").as_bytes());
    hash.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every message of the alert stream: its payload, after checking its
/// `Nats-Msg-Id` (the documented id) and that no payload is there twice.
fn published_alerts(client: &Client, stream: &str) -> Vec<String> {
    let mut payloads = Vec::new();
    for message in client.stream_messages(stream) {
        let payload = String::from_utf8(message.payload.to_vec()).unwrap();
        let id = message
            .headers
            .as_ref()
            .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
            .map(|v| v.as_str().to_string());
        assert_eq!(id, Some(expected_id(&payload)), "{payload}");
        payloads.push(payload);
    }
    payloads.sort();
    let stored = payloads.len();
    payloads.dedup();
    assert_eq!(payloads.len(), stored, "the alert stream holds duplicates");
    payloads
}

/// The address a detector's `--metrics 127.0.0.1:0` serves on.
fn metrics_addr(service: &Service) -> String {
    let line = service.wait_stderr("metrics on http://");
    line.rsplit("http://")
        .next()
        .unwrap()
        .trim()
        .trim_end_matches("/metrics")
        .to_string()
}

/// The body of `GET http://addr/metrics`.
fn scrape(addr: &str) -> String {
    use std::io::Write;
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

/// Sorted, without repeats: alerts as a set (identical rows of one rule
/// are one alert by the id scheme).
fn alert_set(mut rows: Vec<String>) -> Vec<String> {
    rows.sort();
    rows.dedup();
    rows
}

const SCALE_EVENTS: u64 = 200_000;

#[test]
fn two_instances_publish_exactly_the_reference_alerts_of_200000_sample_events_once() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let binary = reference_detector();
    let events = sample_events(SCALE_EVENTS);
    let expected = alert_set(batch_rows(&binary, &events));
    assert!(expected.len() > 100, "{}", expected.len());
    let client = Client::connect(&server.url);
    client.create_memory_stream("AUDIT", "audit.>");
    client.create_memory_stream("ALERTS", "alerts.>");

    let published = Instant::now();
    client.publish_many(
        events
            .iter()
            .map(|e| ("audit.events".to_string(), e.clone())),
    );
    eprintln!(
        "published {} events in {:?}",
        events.len(),
        published.elapsed()
    );
    let args = [
        "--nats",
        &server.url,
        "--stream",
        "AUDIT",
        "--consumer",
        "detectors",
        "--publish",
        "alerts.k8s",
    ];
    let started = Instant::now();
    let first = Service::start(&binary, &args);
    let second = Service::start(&binary, &args);
    first.wait_stderr("consuming nats:AUDIT/detectors");
    second.wait_stderr("consuming nats:AUDIT/detectors");
    client.wait_acked_within("AUDIT", "detectors", Duration::from_secs(300));
    eprintln!(
        "two instances: {} events detected, alerts published and acked in {:?}",
        events.len(),
        started.elapsed()
    );
    let (status_1, rows_1, stderr_1) = first.terminate();
    let (status_2, rows_2, stderr_2) = second.terminate();
    assert_eq!(status_1, Some(0), "{stderr_1:?}");
    assert_eq!(status_2, Some(0), "{stderr_2:?}");
    assert!(
        rows_1.is_empty() && rows_2.is_empty(),
        "--publish replaces stdout"
    );
    for stderr in [&stderr_1, &stderr_2] {
        let summary = stderr.iter().find(|l| l.starts_with("summary: ")).unwrap();
        assert!(
            !summary.starts_with("summary: 0 rows"),
            "one instance took nothing: {summary}"
        );
    }
    assert_eq!(published_alerts(&client, "ALERTS"), expected);
}

#[test]
fn an_instance_killed_halfway_and_restarted_still_gives_each_alert_once_and_redeliveries_show() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let binary = reference_detector();
    let events = sample_events(SCALE_EVENTS);
    let expected = alert_set(batch_rows(&binary, &events));
    let client = Client::connect(&server.url);
    client.create_memory_stream("AUDIT", "audit.>");
    client.create_memory_stream("ALERTS", "alerts.>");
    // The operator's consumer, with a short ack wait: what the killed
    // instance held unacked comes back within 2 s.
    client.create_consumer("AUDIT", "detectors", Duration::from_secs(2));
    client.publish_many(
        events
            .iter()
            .map(|e| ("audit.events".to_string(), e.clone())),
    );
    let args = [
        "--nats",
        &server.url,
        "--stream",
        "AUDIT",
        "--consumer",
        "detectors",
        "--publish",
        "alerts.k8s",
        "--metrics",
        "127.0.0.1:0",
    ];
    // The victim starts alone, so that the server's count of messages
    // delivered and not acked is exactly what the victim holds.
    let victim = Service::start(&binary, &args);
    let victim_metrics = metrics_addr(&victim);

    // A third of the way in, freeze the victim with SIGSTOP. A frozen
    // instance acks nothing, so whatever it holds (the batch it was making
    // rows for) comes back once the ack wait (2 s) is over. Only a freeze
    // landing between an ack and the next pull holds nothing: then the
    // victim is thawed and frozen again, a bounded number of times. The
    // check is the server's own count, not a timing: it holds on a loaded
    // machine too (a late-looking test thread only means the victim, alone,
    // got further into the stream). Then the frozen victim is killed with
    // SIGKILL, holding what it held, and restarted.
    let start = Instant::now();
    while sample(
        &scrape(&victim_metrics),
        "kqlc_nats_messages_received_total",
    )
    .unwrap_or(0.0)
        == 0.0
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the victim received nothing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    loop {
        let (pending, _) = client
            .pending("AUDIT", "detectors")
            .unwrap_or((u64::MAX, 0));
        if pending <= SCALE_EVENTS * 2 / 3 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no progress: {pending} pending"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let signal = |service: &Service, name: &str| {
        let pid = service.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name} {pid}");
    };
    let mut held = (0, 0);
    for _attempt in 0..20 {
        signal(&victim, "STOP");
        held = client.pending("AUDIT", "detectors").unwrap_or((0, 0));
        if held.1 > 0 {
            break;
        }
        signal(&victim, "CONT");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        held.1 > 0,
        "twenty freezes of the victim each held no unacked message (num_pending, num_ack_pending): {held:?}"
    );

    // The survivor takes the rest of the stream and, after the ack wait,
    // what the frozen victim holds, as redeliveries.
    let survivor = Service::start(&binary, &args);
    let survivor_metrics = metrics_addr(&survivor);
    let survivor_redeliveries =
        || sample(&scrape(&survivor_metrics), "kqlc_nats_redeliveries_total").unwrap_or(0.0);
    let frozen = Instant::now();
    while survivor_redeliveries() == 0.0 {
        assert!(
            frozen.elapsed() < Duration::from_secs(120),
            "the survivor never got again the {} messages the frozen victim held",
            held.1
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut victim = victim;
    victim.child.kill().unwrap();
    victim.child.wait().unwrap();
    let restarted = Service::start(&binary, &args);
    let restarted_metrics = metrics_addr(&restarted);
    client.wait_acked_within("AUDIT", "detectors", Duration::from_secs(300));

    let redeliveries: f64 = [&survivor_metrics, &restarted_metrics]
        .iter()
        .map(|addr| sample(&scrape(addr), "kqlc_nats_redeliveries_total").unwrap_or(0.0))
        .sum();
    let survivor_body = scrape(&survivor_metrics);
    eprintln!(
        "redeliveries after the kill: {redeliveries}; alerts the stream already held (survivor): {:?}",
        sample(&survivor_body, "kqlc_publish_duplicates_total")
    );
    let (status_1, _, stderr_1) = survivor.terminate();
    let (status_2, _, stderr_2) = restarted.terminate();
    assert_eq!(status_1, Some(0), "{stderr_1:?}");
    assert_eq!(status_2, Some(0), "{stderr_2:?}");
    assert!(redeliveries > 0.0, "no redelivery in the metrics");
    assert_eq!(
        sample(&survivor_body, "kqlc_publish_failures_total"),
        Some(0.0)
    );
    assert_eq!(published_alerts(&client, "ALERTS"), expected);
}

#[test]
fn publish_to_a_subject_no_stream_stores_is_refused_at_start() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let binary = detector("create_ids", CREATE_IDS);
    let client = Client::connect(&server.url);
    client.create_stream("AUDIT", "audit.>");
    let output = Command::new(&binary)
        .args([
            "--nats",
            &server.url,
            "--stream",
            "AUDIT",
            "--consumer",
            "detectors",
            "--publish",
            "nowhere.alerts",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: --publish nowhere.alerts: no JetStream stream stores this subject"),
        "{stderr}"
    );
}

#[test]
fn publish_works_for_a_file_source_and_a_repeat_run_stores_nothing_new() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let binary = detector("create_ids", CREATE_IDS);
    let client = Client::connect(&server.url);
    client.create_stream("ALERTS", "alerts.>");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("audit.jsonl");
    let lines: Vec<String> = (0..10)
        .map(|i| event(&format!("f{i}"), if i % 2 == 0 { "create" } else { "get" }))
        .collect();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    for _ in 0..2 {
        let output = Command::new(&binary)
            .arg(&input)
            .args(["--nats", &server.url, "--publish", "alerts.file"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(output.stdout.is_empty());
        assert!(
            stderr.contains("summary: 10 rows read, 0 rejected, 5 emitted"),
            "{stderr}"
        );
    }
    // The second run's rows had the same ids: the stream kept one of each.
    let messages = client.stream_messages("ALERTS");
    let ids: Vec<String> = messages
        .iter()
        .map(|m| String::from_utf8(m.payload.to_vec()).unwrap())
        .collect();
    assert_eq!(
        ids,
        ["f0", "f2", "f4", "f6", "f8"].map(|id| format!("{{\"Id\":\"{id}\"}}"))
    );
}

#[test]
fn a_malformed_message_lands_on_the_rejects_subject_with_its_reason_and_the_stream_flows() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let binary = detector("create_ids", CREATE_IDS);
    let client = Client::connect(&server.url);
    client.create_stream("AUDIT", "audit.>");
    client.create_stream("REJECTS", "rejects.>");
    let sequences = client.publish(
        "audit.c1",
        &[
            event("before", "create"),
            "{\"kind\": \u{1b}[31m".to_string(),
            event("after", "create"),
        ],
    );
    let service = Service::start(
        &binary,
        &[
            "--nats",
            &server.url,
            "--stream",
            "AUDIT",
            "--consumer",
            "detectors",
            "--nats-rejects",
            "rejects.audit",
        ],
    );
    let rows = wait_rows(&[&service], |rows| rows.len() >= 2);
    assert_eq!(rows.len(), 2, "{rows:?}");
    client.wait_all_acked("AUDIT", "detectors");
    // The stream keeps flowing after it.
    client.publish("audit.c2", &[event("later", "create")]);
    let rows = wait_rows(&[&service], |rows| rows.len() >= 3);
    assert_eq!(rows.len(), 3, "{rows:?}");
    client.wait_all_acked("AUDIT", "detectors");

    let rejects = client.stream_messages("REJECTS");
    assert_eq!(rejects.len(), 1);
    let copy = &rejects[0];
    assert_eq!(&copy.payload[..], "{\"kind\": \u{1b}[31m".as_bytes());
    let headers = copy.headers.as_ref().unwrap();
    let header = |name: &str| headers.get(name).map(|v| v.as_str().to_string());
    assert!(
        header("Kqlc-Reject-Reason").is_some_and(|r| r.contains("malformed JSON")),
        "{headers:?}"
    );
    assert_eq!(header("Kqlc-Source-Stream").as_deref(), Some("AUDIT"));
    assert_eq!(
        header("Kqlc-Source-Sequence"),
        Some(sequences[1].to_string())
    );
    assert_eq!(header("Kqlc-Source-Subject").as_deref(), Some("audit.c1"));
    let (status, _, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
}

#[test]
fn nats_rejects_to_a_subject_no_stream_stores_is_refused_at_start() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let binary = detector("create_ids", CREATE_IDS);
    let client = Client::connect(&server.url);
    client.create_stream("AUDIT", "audit.>");
    let output = Command::new(&binary)
        .args([
            "--nats",
            &server.url,
            "--stream",
            "AUDIT",
            "--consumer",
            "detectors",
            "--nats-rejects",
            "nowhere.rejects",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--nats-rejects nowhere.rejects: no JetStream stream stores this subject"),
        "{stderr}"
    );
}

#[test]
fn a_server_that_requires_a_token_is_reached_with_nats_token_file() {
    let Some(server) = NatsServer::start_with("authorization { token: \"s3cret-token\" }") else {
        return;
    };
    let binary = detector("create_ids", CREATE_IDS);
    let client = Client::connect_with(
        &server.url,
        async_nats::ConnectOptions::new().token("s3cret-token".to_string()),
    );
    client.create_stream("AUDIT", "audit.>");
    client.publish("audit.c1", &[event("t1", "create")]);
    let args = [
        "--nats",
        &server.url,
        "--stream",
        "AUDIT",
        "--consumer",
        "detectors",
    ];
    // Without the token: refused, with the server's reason.
    let refused = Command::new(&binary)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot connect"), "{stderr}");
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    let mut with_token = args.to_vec();
    with_token.extend(["--nats-token-file", token.to_str().unwrap()]);
    let service = Service::start(&binary, &with_token);
    let rows = wait_rows(&[&service], |rows| !rows.is_empty());
    assert_eq!(rows, ["{\"Id\":\"t1\"}"]);
    let (status, _, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
}

/// A threshold rule on a schedule: more than 5 execs by one user in a
/// 10-minute bin.
const MANY_EXECS: &str = "// @id many-execs
// @name More than 5 execs by one user in 10 minutes
// @severity Medium
// @frequency 10m
// @period 10m
CloudAuditEvents
| where OperationName == \"create\" and RawEventData.ObjectRef.subresource == \"exec\"
| extend User = tostring(RawEventData.User.username)
| summarize n = count() by bin(Timestamp, 10m), User
| where n > 5
";

/// The rule file `text`, built (quick profile) with its schedule in the
/// manifest, as `kqlc build` describes it.
fn scheduled_detector(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("many-execs.kql");
    std::fs::write(&path, text).unwrap();
    let file = kqlc_cli::rules::load_file(&path, &mut Vec::new()).unwrap();
    let pipeline = kqlc::compile(&file.kql, &Schema::builtin()).unwrap();
    let rule = Rule {
        name: file.meta.id.clone(),
        kql: file.kql.clone(),
        path: path.display().to_string(),
        pipeline,
    };
    let mut info = kqlc_cli::manifest::ManifestRule::from_rule(&rule);
    info.schedule = file.meta.schedule.resolve(&rule.pipeline).0;
    info.partition_key = file.meta.partition_key.clone();
    assert!(info.schedule.is_some());
    Toolchain::discover()
        .unwrap()
        .build_with(
            &[rule],
            &[info],
            &kqlc_cli::build::BuildOptions::new(Profile::Quick),
        )
        .unwrap()
        .binary
}

/// A CloudAuditEvents row of `user` at `at` (seconds after
/// 2024-05-28T10:00:00Z).
fn exec_line(at: i64, user: &str, operation: &str, subresource: &str) -> String {
    let time = chrono::DateTime::from_timestamp(1_716_890_400 + at, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ");
    format!(
        "{{\"Timestamp\":\"{time}\",\"OperationName\":\"{operation}\",\"RawEventData\":{{\"ObjectRef\":{{\"subresource\":\"{subresource}\"}},\"User\":{{\"username\":\"{user}\"}}}}}}"
    )
}

/// (user, line) over `windows` 10-minute windows in time order, shuffled
/// inside each: per window and user 0 to 10 execs and some other
/// operations; then one exec per user in one more window, which moves
/// every partition's event clock past the last window's tick.
fn exec_events(users: &[&str], windows: i64) -> Vec<(String, String)> {
    let mut rng = Lcg(15);
    let mut lines = Vec::new();
    for window in 0..windows {
        let start = window * 600;
        let mut events = Vec::new();
        for user in users {
            for _ in 0..rng.next(11) {
                let at = start + rng.next(600) as i64;
                events.push((user.to_string(), exec_line(at, user, "create", "exec")));
            }
            for _ in 0..rng.next(4) {
                let at = start + rng.next(600) as i64;
                events.push((user.to_string(), exec_line(at, user, "get", "log")));
            }
        }
        for i in (1..events.len()).rev() {
            events.swap(i, rng.next(i as u64 + 1) as usize);
        }
        lines.extend(events);
    }
    for user in users {
        lines.push((
            user.to_string(),
            exec_line(windows * 600 + 5, user, "create", "exec"),
        ));
    }
    lines
}

#[test]
fn a_scheduled_threshold_rule_over_two_partitions_gives_the_rows_of_one_batch_run() {
    // The server partitions by the user token: execs.alice is stored as
    // execs.p.<0 or 1>.alice.
    let Some(server) = NatsServer::start_with(
        "mappings = {\n  \"execs.*\": \"execs.p.{{partition(2,1)}}.{{wildcard(1)}}\"\n}",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let binary = scheduled_detector(dir.path(), MANY_EXECS);
    // `kqlc check --partition-key`: exact by user, not by cluster.
    let check = |key: &str| {
        let output = kqlc()
            .arg("check")
            .arg(dir.path().join("many-execs.kql"))
            .args(["--partition-key", key])
            .output()
            .unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stderr).unwrap()
    };
    assert_eq!(check("RawEventData.User.username"), "");
    let warning = check("AzureResourceId");
    assert!(
        warning.contains("rule many-execs: `summarize n = count() by bin(Timestamp, 10m), User` groups rows by keys that do not include the partition key (--partition-key AzureResourceId)"),
        "{warning}"
    );

    let users = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    ];
    const WINDOWS: i64 = 8;
    let events = exec_events(&users, WINDOWS);
    let lines: Vec<String> = events.iter().map(|(_, line)| line.clone()).collect();
    let mut expected = batch_rows(&binary, &lines);
    expected.sort();
    assert!(expected.len() >= WINDOWS as usize, "{expected:#?}");

    let client = Client::connect(&server.url);
    client.create_memory_stream("EXECS", "execs.p.>");
    client.publish_many(
        events
            .iter()
            .map(|(user, line)| (format!("execs.{user}"), line.clone())),
    );
    let instances: Vec<Service> = (0..2)
        .map(|k| {
            Service::start(
                &binary,
                &[
                    "--nats",
                    &server.url,
                    "--stream",
                    "EXECS",
                    "--consumer",
                    &format!("p{k}"),
                    "--subject",
                    &format!("execs.p.{k}.*"),
                    "--clock",
                    "event",
                ],
            )
        })
        .collect();
    for k in 0..2 {
        client.wait_acked_within("EXECS", &format!("p{k}"), Duration::from_secs(60));
    }
    let refs: Vec<&Service> = instances.iter().collect();
    wait_rows(&refs, |rows| rows.len() >= expected.len());
    let mut rows = Vec::new();
    for service in instances {
        let (status, mine, stderr) = service.terminate();
        assert_eq!(status, Some(0), "{stderr:?}");
        let summary = stderr.iter().find(|l| l.starts_with("summary: ")).unwrap();
        assert!(
            !summary.starts_with("summary: 0 rows"),
            "a partition got no events: {summary}"
        );
        rows.extend(mine);
    }
    rows.sort();
    assert_eq!(rows, expected);
}

/// The benchmark of docs/PERFORMANCE.md ("NATS JetStream end to end"), not
/// a test: `cargo test --release -p kqlc-cli --test integration
/// nats::benchmark -- --ignored --nocapture`. Prints the broker's own publish rate (the
/// ceiling: the test's pipelined publisher alone) and the end-to-end rate
/// with 1 and 2 detector instances already running: from the first event
/// published to the last acked, which comes after its alerts are
/// published and acked.
#[test]
#[ignore = "a benchmark: run it with --ignored"]
fn benchmark_nats_end_to_end() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let binary = reference_detector();
    let events = sample_events(SCALE_EVENTS);
    let bytes: usize = events.iter().map(String::len).sum();
    let client = Client::connect(&server.url);
    client.create_memory_stream("CEILING", "ceiling.>");
    let start = Instant::now();
    client.publish_many(
        events
            .iter()
            .map(|e| ("ceiling.events".to_string(), e.clone())),
    );
    let ceiling = start.elapsed();
    eprintln!(
        "broker publish rate: {} events ({} MB) in {:.2} s: {:.0} events/s",
        events.len(),
        bytes >> 20,
        ceiling.as_secs_f64(),
        events.len() as f64 / ceiling.as_secs_f64()
    );
    for instances in [1, 2] {
        let (stream, subject) = (format!("AUDIT{instances}"), format!("audit{instances}.>"));
        let alerts = format!("ALERTS{instances}");
        client.create_memory_stream(&stream, &subject);
        client.create_memory_stream(&alerts, &format!("alerts{instances}.>"));
        let publish_to = format!("alerts{instances}.k8s");
        let args = [
            "--nats",
            &server.url,
            "--stream",
            &stream,
            "--consumer",
            "detectors",
            "--publish",
            &publish_to,
        ];
        let services: Vec<Service> = (0..instances)
            .map(|_| Service::start(&binary, &args))
            .collect();
        for service in &services {
            service.wait_stderr(&format!("consuming nats:{stream}/detectors"));
        }
        let start = Instant::now();
        let to = format!("audit{instances}.events");
        client.publish_many(events.iter().map(|e| (to.clone(), e.clone())));
        let published = start.elapsed();
        client.wait_acked_within(&stream, "detectors", Duration::from_secs(600));
        let all = start.elapsed();
        eprintln!(
            "{instances} instance(s): published in {:.2} s, all acked after {:.2} s: {:.0} events/s end to end",
            published.as_secs_f64(),
            all.as_secs_f64(),
            events.len() as f64 / all.as_secs_f64()
        );
        for service in services {
            let (status, _, stderr) = service.terminate();
            assert_eq!(status, Some(0), "{stderr:?}");
        }
    }
}

#[test]
fn a_publish_that_keeps_failing_naks_the_batch_and_stops_with_status_2() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let binary = detector("create_ids", CREATE_IDS);
    let client = Client::connect(&server.url);
    client.create_stream("AUDIT", "audit.>");
    client.create_stream("ALERTS", "alerts.>");
    let mut service = Service::start(
        &binary,
        &[
            "--nats",
            &server.url,
            "--stream",
            "AUDIT",
            "--consumer",
            "detectors",
            "--publish",
            "alerts.k8s",
        ],
    );
    service.wait_stderr("consuming nats:AUDIT/detectors");
    // The alert stream goes away after the start: every publish fails.
    client
        .runtime
        .block_on(client.context.delete_stream("ALERTS"))
        .unwrap();
    client.publish("audit.c1", &[event("lost", "create"), event("x", "get")]);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = service.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the detector did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(2));
    let report = service.wait_stderr("error: writing results: --publish alerts.k8s");
    assert!(report.contains("not stored after 5 attempts"), "{report}");
    // Nak'ed, not acked: the next detector gets the messages.
    let next = Service::start(
        &binary,
        &[
            "--nats",
            &server.url,
            "--stream",
            "AUDIT",
            "--consumer",
            "detectors",
        ],
    );
    let rows = wait_rows(&[&next], |rows| !rows.is_empty());
    assert_eq!(rows, ["{\"Id\":\"lost\"}"]);
    client.wait_all_acked("AUDIT", "detectors");
    let (status, _, stderr) = next.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
}

#[test]
fn a_server_that_requires_tls_and_client_certificates_is_reached_with_nats_tls_options() {
    let pki = tempfile::tempdir().unwrap();
    make_certificates(pki.path());
    let file = |name: &str| pki.path().join(name).to_str().unwrap().to_string();
    let Some(server) = NatsServer::start_with(&format!(
        "tls {{\n  cert_file: {:?}\n  key_file: {:?}\n  ca_file: {:?}\n  verify: true\n}}",
        file("server.crt"),
        file("server.key"),
        file("ca.crt")
    )) else {
        return;
    };
    let binary = detector("create_ids", CREATE_IDS);
    let client = Client::connect_with(
        &server.url,
        async_nats::ConnectOptions::new()
            .add_root_certificates(file("ca.crt").into())
            .add_client_certificate(file("client.crt").into(), file("client.key").into())
            .require_tls(true),
    );
    client.create_stream("AUDIT", "audit.>");
    client.publish("audit.c1", &[event("over-tls", "create")]);
    let (ca, crt, key) = (file("ca.crt"), file("client.crt"), file("client.key"));
    let args = [
        "--nats",
        &server.url,
        "--stream",
        "AUDIT",
        "--consumer",
        "detectors",
    ];
    // Without a client certificate the server refuses the handshake.
    let mut no_certificate = args.to_vec();
    no_certificate.extend(["--nats-tls-ca", &ca]);
    let refused = Command::new(&binary)
        .args(&no_certificate)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error: --nats"), "{stderr}");
    let mut with_certificate = no_certificate.clone();
    with_certificate.extend(["--nats-tls-cert", &crt, "--nats-tls-key", &key]);
    let service = Service::start(&binary, &with_certificate);
    let rows = wait_rows(&[&service], |rows| !rows.is_empty());
    assert_eq!(rows, ["{\"Id\":\"over-tls\"}"]);
    let (status, _, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
}

/// The user NKey pair of the NATS documentation's NKey example (a test key
/// known to the world: never use it for anything else).
const DOC_NKEY_SEED: &str = "SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY";
const DOC_NKEY_PUBLIC: &str = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";

#[test]
fn a_server_that_requires_an_nkey_is_reached_with_nats_nkey() {
    let Some(server) = NatsServer::start_with(&format!(
        "authorization {{ users = [ {{ nkey: {DOC_NKEY_PUBLIC} }} ] }}"
    )) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("user.nk");
    std::fs::write(&seed, format!("{DOC_NKEY_SEED}\n")).unwrap();
    let binary = detector("create_ids", CREATE_IDS);
    let seed_path = seed.to_str().unwrap();
    let input = dir.path().join("audit.jsonl");
    std::fs::write(&input, event("nk", "create") + "\n").unwrap();
    // Without the key: refused.
    let refused = Command::new(&binary)
        .arg(&input)
        .args(["--nats", &server.url, "--publish", "alerts.k8s"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot connect"), "{stderr}");
    // With it: connected, and told that no stream stores the subject
    // (the server answered the JetStream API, so the NKey was accepted).
    let accepted = Command::new(&binary)
        .arg(&input)
        .args(["--nats", &server.url, "--publish", "alerts.k8s"])
        .args(["--nats-nkey", seed_path])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&accepted.stderr);
    assert_eq!(accepted.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no JetStream stream stores this subject"),
        "{stderr}"
    );
}

#[test]
fn sigterm_drains_what_was_taken_acks_it_and_leaves_the_rest_to_the_next_instance() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let binary = reference_detector();
    let events = sample_events(SCALE_EVENTS);
    let expected = alert_set(batch_rows(&binary, &events));
    let client = Client::connect(&server.url);
    client.create_memory_stream("AUDIT", "audit.>");
    client.create_memory_stream("ALERTS", "alerts.>");
    client.publish_many(
        events
            .iter()
            .map(|e| ("audit.events".to_string(), e.clone())),
    );
    let args = [
        "--nats",
        &server.url,
        "--stream",
        "AUDIT",
        "--consumer",
        "detectors",
        "--publish",
        "alerts.k8s",
        "--metrics",
        "127.0.0.1:0",
    ];
    let first = Service::start(&binary, &args);
    let metrics = metrics_addr(&first);
    let start = Instant::now();
    while sample(&scrape(&metrics), "kqlc_nats_messages_received_total").unwrap_or(0.0) == 0.0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "nothing received"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let (status, _, stderr) = first.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    // It stopped fetching, and acked everything it had taken (after
    // publishing its alerts): nothing is left unacked, the rest pending.
    let (pending, unacked) = client.pending("AUDIT", "detectors").unwrap();
    assert_eq!(unacked, 0, "{stderr:?}");
    assert!(
        pending > 0 && pending < SCALE_EVENTS,
        "{pending} pending: {stderr:?}"
    );
    let next = Service::start(&binary, &args);
    client.wait_acked_within("AUDIT", "detectors", Duration::from_secs(300));
    let (status, _, stderr) = next.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    assert_eq!(published_alerts(&client, "ALERTS"), expected);
}

/// The documented id (`runtime/detector/src/alert_id.rs`) of `row`, a row
/// of rule `rule` as `--output rows` writes it for that rule alone.
fn row_id(rule: &str, row: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(format!("kqlc-alert-v1\0{rule}\0{row}").as_bytes());
    hash.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_scheduled_rules_rows_are_published_with_their_ids_on_the_subjects_of_their_partition_key() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rule = MANY_EXECS.replace(
        "// @period 10m\n",
        "// @period 10m\n// @partition-key User\n",
    );
    let binary = scheduled_detector(dir.path(), &rule);
    let users = ["alice", "bob", "carol", "system:serviceaccount:ci:runner"];
    const WINDOWS: i64 = 6;
    let events = exec_events(&users, WINDOWS);
    let lines: Vec<String> = events.iter().map(|(_, line)| line.clone()).collect();
    let mut expected = batch_rows(&binary, &lines);
    expected.sort();
    assert!(expected.len() >= WINDOWS as usize, "{expected:#?}");

    let client = Client::connect(&server.url);
    client.create_memory_stream("EXECS", "execs.>");
    // `alerts.>` stores alerts.execs and alerts.execs.TOKEN alike.
    client.create_memory_stream("ALERTS", "alerts.>");
    client.create_memory_stream("NARROW", "narrow.execs");
    // A stream that stores only the subject itself is refused at start:
    // the partition key sends alerts to narrow.execs.TOKEN.
    let input = dir.path().join("one.jsonl");
    std::fs::write(&input, format!("{}\n", lines[0])).unwrap();
    let refused = Command::new(&binary)
        .arg(&input)
        .args(["--nats", &server.url, "--publish", "narrow.execs"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: --publish narrow.execs: a rule has a partition key, so its alerts go to narrow.execs.TOKEN, and no JetStream stream stores narrow.execs._"),
        "{stderr}"
    );

    client.publish_many(
        events
            .iter()
            .map(|(user, line)| (format!("execs.{}", user.replace(':', "-")), line.clone())),
    );
    let service = Service::start(
        &binary,
        &[
            "--nats",
            &server.url,
            "--stream",
            "EXECS",
            "--consumer",
            "d",
            "--clock",
            "event",
            "--publish",
            "alerts.execs",
        ],
    );
    client.wait_acked_within("EXECS", "d", Duration::from_secs(60));
    let (status, stdout, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    assert!(stdout.is_empty(), "--publish replaces stdout: {stdout:?}");
    let mut published = Vec::new();
    for message in client.stream_messages("ALERTS") {
        let payload = String::from_utf8(message.payload.to_vec()).unwrap();
        let row: serde_json::Value = serde_json::from_str(&payload).unwrap();
        let user = row["User"].as_str().unwrap();
        let token: String = user
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        assert_eq!(
            message.subject.as_str(),
            format!("alerts.execs.{token}"),
            "{payload}"
        );
        let id = message
            .headers
            .as_ref()
            .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
            .map(|v| v.as_str().to_string());
        assert_eq!(id, Some(row_id("many-execs", &payload)), "{payload}");
        published.push(payload);
    }
    published.sort();
    assert_eq!(published, expected);
    assert!(
        published
            .iter()
            .any(|p| p.contains("system:serviceaccount:ci:runner")),
        "{published:#?}"
    );
}

#[test]
fn deliver_since_creates_the_consumer_at_the_first_message_stored_from_that_time() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let client = Client::connect(&server.url);
    client.create_stream("AUDIT", "audit.>");
    let before: Vec<String> = (0..3)
        .map(|i| event(&format!("before-{i}"), "create"))
        .collect();
    let after: Vec<String> = (0..4)
        .map(|i| event(&format!("after-{i}"), "create"))
        .collect();
    client.publish("audit.k8s", &before);
    std::thread::sleep(Duration::from_millis(100));
    let since = chrono::Utc::now();
    std::thread::sleep(Duration::from_millis(100));
    client.publish("audit.k8s", &after);
    let binary = detector("create_ids", CREATE_IDS);
    let deliver = format!(
        "since {}",
        since.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    );
    let service = Service::start(
        &binary,
        &[
            "--nats",
            &server.url,
            "--stream",
            "AUDIT",
            "--consumer",
            "late",
            "--deliver",
            &deliver,
        ],
    );
    client.wait_all_acked("AUDIT", "late");
    let (status, mut rows, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    rows.sort();
    let expected: Vec<String> = (0..4)
        .map(|i| format!("{{\"Id\":\"after-{i}\"}}"))
        .collect();
    assert_eq!(rows, expected, "{stderr:?}");
    // The consumer was created starting at that time.
    let policy = client.runtime.block_on(async {
        let stream = client.context.get_stream("AUDIT").await.unwrap();
        let mut consumer: jetstream::consumer::Consumer<pull::Config> =
            stream.get_consumer("late").await.unwrap();
        consumer.info().await.unwrap().config.deliver_policy
    });
    assert!(
        matches!(
            policy,
            jetstream::consumer::DeliverPolicy::ByStartTime { .. }
        ),
        "{policy:?}"
    );
    // A bad time is one clear error naming the option.
    let output = Command::new(&binary)
        .args([
            "--nats",
            &server.url,
            "--stream",
            "AUDIT",
            "--consumer",
            "x",
        ])
        .args(["--deliver", "since yesterday"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--deliver") && stderr.contains("since 'yesterday': not an RFC 3339 time"),
        "{stderr}"
    );
}

/// `bytes` in base64url without padding (the JWT alphabet).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// A NATS JWT (`ed25519-nkey`): `nats` claims about `subject`, signed by
/// `issuer`, as `nsc` would issue it.
fn nats_jwt(issuer: &nkeys::KeyPair, subject: &str, name: &str, nats: serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let mut claims = serde_json::json!({
        "iat": chrono::Utc::now().timestamp(),
        "iss": issuer.public_key(),
        "name": name,
        "sub": subject,
        "nats": nats,
    });
    let digest = Sha256::digest(claims.to_string().as_bytes());
    claims["jti"] = serde_json::Value::String(base64url(&digest));
    let header = base64url(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let body = base64url(claims.to_string().as_bytes());
    let signature = issuer.sign(format!("{header}.{body}").as_bytes()).unwrap();
    format!("{header}.{body}.{}", base64url(&signature))
}

/// The server configuration of a JWT-secured (operator mode) nats-server
/// whose account has JetStream, and the credentials file of a user of that
/// account: operator, account and user keys made here, the accounts
/// preloaded into the server's memory resolver.
fn operator_mode() -> (String, String) {
    let operator = nkeys::KeyPair::new_operator();
    let system = nkeys::KeyPair::new_account();
    let account = nkeys::KeyPair::new_account();
    let user = nkeys::KeyPair::new_user();
    let limits = serde_json::json!({
        "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
        "wildcards": true, "conn": -1, "leaf": -1,
    });
    let mut jetstream = limits.clone();
    for key in ["mem_storage", "disk_storage", "streams", "consumer"] {
        jetstream[key] = serde_json::json!(-1);
    }
    let operator_jwt = nats_jwt(
        &operator,
        &operator.public_key(),
        "kqlc-test",
        serde_json::json!({
            "type": "operator", "version": 2, "system_account": system.public_key(),
        }),
    );
    let system_jwt = nats_jwt(
        &operator,
        &system.public_key(),
        "SYS",
        serde_json::json!({"type": "account", "version": 2, "limits": limits}),
    );
    let account_jwt = nats_jwt(
        &operator,
        &account.public_key(),
        "AUDIT",
        serde_json::json!({"type": "account", "version": 2, "limits": jetstream}),
    );
    let user_jwt = nats_jwt(
        &account,
        &user.public_key(),
        "detector",
        serde_json::json!({
            "type": "user", "version": 2, "pub": {}, "sub": {},
            "subs": -1, "data": -1, "payload": -1,
        }),
    );
    let config = format!(
        "operator: {operator_jwt}\nsystem_account: {}\nresolver: MEMORY\nresolver_preload: {{\n  {}: {system_jwt}\n  {}: {account_jwt}\n}}",
        system.public_key(),
        system.public_key(),
        account.public_key(),
    );
    let creds = format!(
        "-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n\
         -----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n",
        user.seed().unwrap()
    );
    (config, creds)
}

#[test]
fn a_server_in_operator_mode_is_reached_with_nats_creds_of_a_jwt_user() {
    let (config, creds) = operator_mode();
    let Some(server) = NatsServer::start_with(&config) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let creds_path = dir.path().join("detector.creds");
    std::fs::write(&creds_path, &creds).unwrap();
    let client = Client::connect_with(
        &server.url,
        async_nats::ConnectOptions::with_credentials(&creds).unwrap(),
    );
    client.create_stream("AUDIT", "audit.>");
    client.create_stream("ALERTS", "alerts.>");
    let events: Vec<String> = (0..5)
        .map(|i| event(&format!("jwt-{i}"), "create"))
        .collect();
    client.publish("audit.k8s", &events);
    let binary = detector("create_ids", CREATE_IDS);
    let source = [
        "--nats",
        &server.url,
        "--stream",
        "AUDIT",
        "--consumer",
        "d",
    ];
    // Without credentials: refused by the server.
    let refused = Command::new(&binary)
        .args(source)
        .args(["--now", "2024-05-28T12:00:00Z"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot connect"), "{stderr}");
    // With the user's JWT and seed: consumed, and the rows published.
    let service = Service::start(
        &binary,
        &[
            &source[..],
            &[
                "--nats-creds",
                creds_path.to_str().unwrap(),
                "--publish",
                "alerts.k8s",
            ],
        ]
        .concat(),
    );
    client.wait_all_acked("AUDIT", "d");
    let (status, _, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    let mut ids: Vec<String> = client
        .stream_messages("ALERTS")
        .iter()
        .map(|m| String::from_utf8(m.payload.to_vec()).unwrap())
        .collect();
    ids.sort();
    let expected: Vec<String> = (0..5).map(|i| format!("{{\"Id\":\"jwt-{i}\"}}")).collect();
    assert_eq!(ids, expected);
}

#[test]
fn a_detector_built_without_kafka_refuses_kafka_options_saying_how_to_build_one() {
    // No broker is needed: the refusal comes before any connection.
    let binary = detector("create_ids", CREATE_IDS);
    let kafka = ["--kafka", "127.0.0.1:9", "--topic", "audit", "--group", "g"];
    for (extra, flag) in [
        (&["--publish-kafka", "alerts"][..], "--publish-kafka alerts"),
        (&[][..], "--kafka"),
    ] {
        let output = Command::new(&binary)
            .args(kafka)
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "error: {flag}: this detector was built without Kafka: build it with `kqlc build --kafka`"
            )),
            "{stderr}"
        );
    }
}
