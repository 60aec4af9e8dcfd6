//! Live sources (issue 14), through the user's path: a detector built from
//! a rule, run as a process, fed by files being written and rotated, or by
//! HTTP requests on loopback, and stopped with SIGTERM.

use kqlc::sema::Schema;
use kqlc_cli::build::{Profile, Rule, Toolchain};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
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

    /// Waits (at most `limit`) until `done` holds for the output rows.
    fn wait_rows(&self, limit: Duration, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let start = Instant::now();
        loop {
            let rows = self.stdout.lock().unwrap().clone();
            if done(&rows) || start.elapsed() > limit {
                return rows;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
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
        // Let the reader threads take the last lines.
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

const CREATES_N: &str =
    "CloudAuditEvents | where OperationName == \"create\" | project N = tolong(RawEventData.n)";

fn row_line(n: usize) -> String {
    format!(
        "{{\"Timestamp\":\"2024-05-28T10:00:00Z\",\"OperationName\":\"create\",\"RawEventData\":{{\"n\":{n}}}}}\n"
    )
}

/// Appends lines `range` to `file` in bursts of 10, each burst's last line
/// written in two halves a little apart (a partial line must wait).
fn write_lines(file: &mut File, range: std::ops::Range<usize>) {
    for burst in range.collect::<Vec<_>>().chunks(10) {
        let mut text = String::new();
        for n in burst {
            text.push_str(&row_line(*n));
        }
        let (first, second) = text.split_at(text.len() - 20);
        file.write_all(first.as_bytes()).unwrap();
        file.flush().unwrap();
        std::thread::sleep(Duration::from_millis(15));
        file.write_all(second.as_bytes()).unwrap();
        file.flush().unwrap();
    }
}

fn append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

#[test]
fn follow_reads_each_line_once_across_two_renames_a_copy_truncate_and_a_late_file() {
    let binary = detector("creates_n", CREATES_N);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let mut writer = append(&log);
    write_lines(&mut writer, 0..100);
    let rotated = format!("{}/audit.log*", dir.path().display());
    let late = format!("{}/late*.log", dir.path().display());
    let service = Service::start(&binary, &["--follow", &rotated, &late]);
    let seen = |n: usize| move |rows: &[String]| rows.len() >= n;
    service.wait_rows(Duration::from_secs(20), seen(100));
    write_lines(&mut writer, 100..200);

    // Rotation 1: rename; the writer still appends to the renamed file a
    // little, then moves to a new file.
    std::fs::rename(&log, dir.path().join("audit.log.1")).unwrap();
    write_lines(&mut writer, 200..210);
    let mut writer = append(&log);
    write_lines(&mut writer, 210..300);

    // Rotation 2: rename again.
    std::fs::rename(
        dir.path().join("audit.log.1"),
        dir.path().join("audit.log.2"),
    )
    .unwrap();
    std::fs::rename(&log, dir.path().join("audit.log.1")).unwrap();
    let mut writer = append(&log);
    write_lines(&mut writer, 300..400);
    service.wait_rows(Duration::from_secs(20), seen(400));

    // Copy-truncate, with lines written just before the copy.
    write_lines(&mut writer, 400..450);
    std::fs::copy(&log, dir.path().join("audit.log.copy")).unwrap();
    writer.set_len(0).unwrap();
    write_lines(&mut writer, 450..500);

    // A file that appears after the start.
    let mut late_writer = append(&dir.path().join("late-1.log"));
    write_lines(&mut late_writer, 500..550);

    service.wait_rows(Duration::from_secs(30), seen(550));
    let (status, rows, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    let counts = counts(&rows, "N");
    let missing: Vec<usize> = (0..550)
        .filter(|n| !counts.contains_key(&n.to_string()))
        .collect();
    let repeated: Vec<(&String, &usize)> = counts.iter().filter(|(_, c)| **c > 1).collect();
    assert!(
        missing.is_empty(),
        "missing {missing:?}; stderr: {stderr:?}"
    );
    assert!(
        repeated.is_empty(),
        "read twice {repeated:?}; stderr: {stderr:?}"
    );
    assert_eq!(rows.len(), 550);
    assert!(stderr.iter().any(|l| l.contains("truncated")), "{stderr:?}");
    assert!(
        stderr.iter().any(|l| l.starts_with("summary: ")),
        "{stderr:?}"
    );
}

const CREATE_IDS: &str =
    "CloudAuditEvents | where OperationName == \"create\" | project Id = tostring(RawEventData.AuditId)";

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

/// One HTTP/1.1 POST over a fresh loopback connection: status and body.
fn post(addr: &str, token: Option<&str>, body: &[u8]) -> (u16, String) {
    request(addr, "POST", token, body)
}

fn request(addr: &str, method: &str, token: Option<&str>, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "{method} /audit HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before reading the whole body.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[test]
fn webhook_takes_event_lists_from_several_clients_and_emits_each_event_once() {
    let binary = detector("create_ids", CREATE_IDS);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let service = Service::start(
        &binary,
        &[
            "--listen",
            "127.0.0.1:0",
            "--token-file",
            token_file.to_str().unwrap(),
            "--max-body-bytes",
            "100000",
            "--queue",
            "2",
        ],
    );
    let listening = service.wait_stderr("listening on http://");
    let addr = listening
        .rsplit("http://")
        .next()
        .unwrap()
        .trim()
        .to_string();

    // Refusals, each with its reason; the server keeps serving.
    let one = event_list(&[event("x", "create")]);
    let (status, reason) = post(&addr, Some("wrong"), one.as_bytes());
    assert_eq!(
        (status, reason.trim()),
        (401, "the bearer token is not the one expected")
    );
    assert_eq!(post(&addr, None, one.as_bytes()).0, 401);
    let big = event_list(&vec![event("big", "create"); 400]);
    assert!(big.len() > 100_000);
    let (status, reason) = post(&addr, Some("s3cret-token"), big.as_bytes());
    assert_eq!(status, 413, "{reason}");
    assert!(reason.contains("--max-body-bytes"), "{reason}");
    let (status, reason) = post(&addr, Some("s3cret-token"), b"{\"kind\": ");
    assert_eq!(status, 400);
    assert!(reason.starts_with("malformed JSON"), "{reason}");
    let (status, reason) = post(&addr, Some("s3cret-token"), event("e", "get").as_bytes());
    assert_eq!(status, 400);
    assert!(
        reason.contains("expected an audit.k8s.io/v1 EventList, found kind string 'Event'"),
        "{reason}"
    );
    assert_eq!(request(&addr, "GET", Some("s3cret-token"), b"").0, 405);

    // 4 clients × 10 batches × 20 events, half of them creates; a batch
    // refused with 429 (queue of 2) is sent again, as the API server does.
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut retries = 0;
                for batch in 0..10 {
                    let events: Vec<String> = (0..20)
                        .map(|i| {
                            let verb = if i % 2 == 0 { "create" } else { "get" };
                            event(&format!("c{client}-b{batch}-e{i}"), verb)
                        })
                        .collect();
                    let body = event_list(&events);
                    let mut tries = 0;
                    loop {
                        let (status, reason) = post(&addr, Some("s3cret-token"), body.as_bytes());
                        if status == 200 {
                            assert_eq!(reason.trim(), "{\"events\":20,\"rejected\":0}");
                            break;
                        }
                        assert_eq!(status, 429, "{reason}");
                        tries += 1;
                        retries += 1;
                        assert!(tries < 200, "batch {batch} refused 200 times");
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
                retries
            })
        })
        .collect();
    let retries: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    // Every 200 came after its rows were flushed: they are all out.
    let rows = service.wait_rows(Duration::from_secs(5), |rows| rows.len() >= 400);
    let counts = counts(&rows, "Id");
    assert_eq!(counts.len(), 400, "{retries} retries");
    assert!(
        counts.values().all(|c| *c == 1),
        "an event's row was emitted twice"
    );
    assert!(counts
        .keys()
        .all(|id| id.ends_with(&['0', '2', '4', '6', '8'][..])));

    let (status, rows, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    assert_eq!(rows.len(), 400);
    let summary = stderr.iter().find(|l| l.starts_with("summary: ")).unwrap();
    assert!(
        summary.contains("800 rows read, 0 rejected, 400 emitted"),
        "{summary}"
    );
}
