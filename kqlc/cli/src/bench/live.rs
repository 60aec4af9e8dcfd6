//! `kqlc bench --suite live`: a detector run as a service (issue 14).
//!
//! One release detector of a stateless rule (`where OperationName ==
//! "create"`, two columns projected) is measured three ways:
//! - **webhook**: `--listen` over HTTPS on loopback (a throwaway PKI made
//!   with the `openssl` CLI); [`CLIENTS`] threads each post `EventList`
//!   batches of [`BATCH`] events over a kept-alive TLS connection for
//!   [`WEBHOOK_SECONDS`]. Events per second, and p50/p99 of a request's
//!   time from its first byte sent to its 200 read: the detector answers
//!   only after the batch's rows are written and flushed, so this bounds
//!   the time from an event received to its row written.
//! - **follow**: the detect suite's sample file, read by the detector in
//!   batch mode and with `--follow` (the time until the output holds every
//!   row, polled every 5 ms); `--follow`'s throughput as a share of batch
//!   mode's, in wall-clock time and in CPU time (user + system from
//!   `/proc`, steadier on a shared machine; 10 ms resolution, so give it a
//!   file that takes a second or more).
//! - **burst**: the webhook at a steady rate ([`STEADY_RATE`] events/s),
//!   then ten times that, then steady again, each for [`PHASE_SECONDS`];
//!   the detector's resident memory (`VmRSS`, sampled every 20 ms) at its
//!   highest in each phase, the rates reached and the 429s answered.
//!
//! Every run checks its rows: each `create` event posted and answered 200
//! gives exactly one row, and `--follow` writes exactly batch mode's bytes.

use super::{write_sample, BenchOptions, NOW};
use crate::build::{Profile, Rule, Toolchain};
use kqlc::sema::Schema;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Client threads posting to the webhook.
pub const CLIENTS: usize = 4;
/// Events per `EventList` (the API server's default `--audit-webhook-batch-max-size`).
pub const BATCH: usize = 400;
/// How long the webhook throughput run lasts.
pub const WEBHOOK_SECONDS: u64 = 10;
/// The burst run's steady rate, in events per second.
pub const STEADY_RATE: u64 = 5_000;
/// How long each phase of the burst run lasts.
pub const PHASE_SECONDS: u64 = 4;

/// The rule measured.
const RULE: &str = r#"CloudAuditEvents
| where OperationName == "create"
| project Id = tostring(RawEventData.AuditId), User = tostring(RawEventData.User.username)"#;

/// The webhook run's figures.
#[derive(Clone, Debug)]
pub struct WebhookFigures {
    /// Events answered 200.
    pub events: u64,
    /// Seconds from the first request to the last answer.
    pub seconds: f64,
    /// Requests' time from sent to answered, in milliseconds.
    pub p50_ms: f64,
    /// The 99th percentile.
    pub p99_ms: f64,
    /// The slowest request.
    pub max_ms: f64,
    /// Requests answered 429 (and retried).
    pub refused: u64,
    /// Rows written, and rows expected.
    pub rows: (u64, u64),
}

/// The follow run's figures.
#[derive(Clone, Debug)]
pub struct FollowFigures {
    /// The sample's size in bytes.
    pub bytes: u64,
    /// Batch mode's time (fastest of `--repeat`).
    pub batch_seconds: f64,
    /// `--follow`'s time to the last row (fastest of `--repeat`).
    pub follow_seconds: f64,
    /// Batch mode's CPU time (user + system; least of `--repeat`).
    pub batch_cpu: f64,
    /// `--follow`'s CPU time up to its last row (least of `--repeat`).
    pub follow_cpu: f64,
    /// Rows written.
    pub rows: u64,
}

/// One phase of the burst run.
#[derive(Clone, Debug)]
pub struct Phase {
    /// "steady", "10× burst", "steady again".
    pub name: &'static str,
    /// The rate asked for (events/s).
    pub target_rate: u64,
    /// Events answered 200 per second.
    pub rate: f64,
    /// The highest VmRSS seen, in KiB.
    pub peak_rss_kib: u64,
    /// Requests answered 429.
    pub refused: u64,
}

/// All the suite's figures.
#[derive(Clone, Debug)]
pub struct LiveReport {
    /// Over HTTPS, as fast as the clients go.
    pub webhook: WebhookFigures,
    /// Batch against `--follow`.
    pub follow: FollowFigures,
    /// Steady, burst, steady.
    pub burst: Vec<Phase>,
    /// The burst run's rows written and expected.
    pub burst_rows: (u64, u64),
}

/// Runs the suite.
pub fn run(options: &BenchOptions) -> Result<LiveReport, String> {
    std::fs::create_dir_all(&options.dir).map_err(|e| format!("{}: {e}", options.dir.display()))?;
    let pipeline = kqlc::compile(RULE, &Schema::builtin()).map_err(|d| d[0].message.clone())?;
    let rule = Rule {
        name: "creates".to_string(),
        kql: RULE.to_string(),
        path: "creates.kql".to_string(),
        pipeline,
    };
    eprintln!("building the detector (release)...");
    let binary = Toolchain::discover()
        .map_err(|e| e.to_string())?
        .build(&[rule], Profile::Release)
        .map_err(|e| e.to_string())?;
    let pki = options.dir.join("live-pki");
    make_certificates(&pki)?;
    eprintln!("webhook over HTTPS: {CLIENTS} clients, {WEBHOOK_SECONDS} s...");
    let webhook = webhook_run(&binary, &options.dir, &pki)?;
    eprintln!("burst: {STEADY_RATE}/s, 10x, {STEADY_RATE}/s...");
    let (burst, burst_rows) = burst_run(&binary, &options.dir, &pki)?;
    eprintln!("follow against batch...");
    let follow = follow_run(&binary, options)?;
    Ok(LiveReport {
        webhook,
        follow,
        burst,
        burst_rows,
    })
}

/// The figures as Markdown, and whether every row count was right.
pub fn report(report: &LiveReport) -> (String, bool) {
    let w = &report.webhook;
    let f = &report.follow;
    let mut text = String::new();
    text.push_str(&format!(
        "webhook over HTTPS ({CLIENTS} clients, batches of {BATCH} events, keep-alive):\n\n\
         | events | seconds | events/s | p50 | p99 | max | 429s | rows written / expected |\n\
         |---|---|---|---|---|---|---|---|\n\
         | {} | {:.2} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} / {} |\n\n",
        w.events,
        w.seconds,
        w.events as f64 / w.seconds,
        w.p50_ms,
        w.p99_ms,
        w.max_ms,
        w.refused,
        w.rows.0,
        w.rows.1
    ));
    let mb = f.bytes as f64 / 1e6;
    text.push_str(&format!(
        "--follow against batch mode ({mb:.0} MB sample, {} rows):\n\n\
         | mode | seconds | MB/s |\n|---|---|---|\n\
         | batch | {:.2} | {:.0} |\n| --follow | {:.2} | {:.0} |\n\n\
         --follow / batch throughput: {:.0}% in wall-clock time, {:.0}% in CPU time \
         (batch {:.2} s, --follow {:.2} s of CPU)\n\n",
        f.rows,
        f.batch_seconds,
        mb / f.batch_seconds,
        f.follow_seconds,
        mb / f.follow_seconds,
        100.0 * f.batch_seconds / f.follow_seconds,
        100.0 * f.batch_cpu / f.follow_cpu,
        f.batch_cpu,
        f.follow_cpu
    ));
    text.push_str(
        "webhook burst (resident memory):\n\n\
         | phase | rate asked | rate answered | peak VmRSS | 429s |\n|---|---|---|---|---|\n",
    );
    for p in &report.burst {
        text.push_str(&format!(
            "| {} | {}/s | {:.0}/s | {:.1} MiB | {} |\n",
            p.name,
            p.target_rate,
            p.rate,
            p.peak_rss_kib as f64 / 1024.0,
            p.refused
        ));
    }
    text.push_str(&format!(
        "\nburst rows written / expected: {} / {}\n",
        report.burst_rows.0, report.burst_rows.1
    ));
    let ok = w.rows.0 == w.rows.1 && report.burst_rows.0 == report.burst_rows.1;
    (text, ok)
}

/// A throwaway PKI in `dir` made with the openssl CLI: `ca.crt`,
/// `server.crt`/`server.key` for 127.0.0.1, and `client.crt`/`client.key`
/// for client authentication, all P-256 and valid for two days. The live
/// benchmark and the HTTPS and TLS tests (`tests/common`) use it.
pub fn make_certificates(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let openssl = |args: &[&str]| -> Result<(), String> {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("openssl (needed for the HTTPS certificates): {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "openssl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    };
    let p256 = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(p256);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=kqlc throwaway CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&ca)?;
    for (serial, name, usage) in [
        (
            "2",
            "server",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        ),
        ("3", "client", "extendedKeyUsage=clientAuth\n"),
    ] {
        let (key, csr, crt, ext) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
            format!("{name}.ext"),
        );
        let subject = format!("/CN=kqlc throwaway {name}");
        let mut request = vec!["req"];
        request.extend(p256);
        request.extend(["-keyout", &key, "-out", &csr, "-subj", &subject]);
        openssl(&request)?;
        std::fs::write(
            dir.join(&ext),
            format!(
                "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n{usage}"
            ),
        )
        .map_err(|e| format!("{}: {e}", dir.join(&ext).display()))?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-set_serial",
            serial,
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &crt,
        ])?;
    }
    Ok(())
}

/// A rustls client trusting `pki/ca.crt`.
fn tls_client(pki: &Path) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    // The provider the detector uses (ring).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let ca = CertificateDer::from_pem_file(pki.join("ca.crt")).map_err(|e| e.to_string())?;
    roots.add(ca).map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A running detector: its process and what it said on stderr.
struct Detector {
    child: Child,
    stderr: Arc<std::sync::Mutex<String>>,
}

impl Detector {
    fn start(binary: &Path, args: &[&str]) -> Result<Detector, String> {
        let mut child = Command::new(binary)
            .args(args)
            .args(["--now", NOW])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let stderr = Arc::new(std::sync::Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let mut stream = child.stderr.take().expect("piped");
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        Ok(Detector { child, stderr })
    }

    /// Waits (at most 60 s) for a stderr line containing `text`; the line.
    fn wait_stderr(&mut self, text: &str) -> Result<String, String> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if let Some(line) = self
                .stderr
                .lock()
                .unwrap()
                .lines()
                .find(|l| l.contains(text))
            {
                return Ok(line.to_string());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "the detector stopped ({status}): {}",
                    self.stderr.lock().unwrap()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(format!(
            "no '{text}' from the detector in 60 s: {}",
            self.stderr.lock().unwrap()
        ))
    }

    /// The process's resident memory in KiB (`VmRSS`).
    fn rss_kib(pid: u32) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// SIGTERM, and the exit (at most 60 s).
    fn stop(mut self) -> Result<(), String> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!(
                        "the detector ended with {status}: {}",
                        self.stderr.lock().unwrap()
                    ))
                };
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                return Err("the detector did not stop within 60 s of SIGTERM".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Detector {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts the detector listening over HTTPS with output to `output`;
/// returns it and its address.
fn start_webhook(binary: &Path, pki: &Path, output: &Path) -> Result<(Detector, String), String> {
    let _ = std::fs::remove_file(output);
    let path = |name: &str| pki.join(name).display().to_string();
    let (cert, key, out) = (
        path("server.crt"),
        path("server.key"),
        output.display().to_string(),
    );
    let mut detector = Detector::start(
        binary,
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--output-file",
            &out,
        ],
    )?;
    let line = detector.wait_stderr("listening on https://")?;
    let addr = line
        .rsplit("https://")
        .next()
        .unwrap_or_default()
        .trim()
        .trim_end_matches('/')
        .to_string();
    Ok((detector, addr))
}

/// One audit event: a `create` every fourth, with a unique id.
fn audit_event(id: u64) -> String {
    let verb = if id % 4 == 0 { "create" } else { "get" };
    format!(
        concat!(
            "{{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",",
            "\"auditID\":\"bench-{id:012}\",\"stage\":\"ResponseComplete\",",
            "\"requestURI\":\"/api/v1/namespaces/team-{ns}/pods/web-{id}\",\"verb\":\"{verb}\",",
            "\"user\":{{\"username\":\"user-{user}@example.com\",\"groups\":[\"system:authenticated\",\"team-{ns}\"]}},",
            "\"sourceIPs\":[\"10.0.{ns}.{user}\"],\"userAgent\":\"kubectl/v1.30.1 (linux/amd64) kubernetes/7b3f1e2\",",
            "\"objectRef\":{{\"resource\":\"pods\",\"namespace\":\"team-{ns}\",\"name\":\"web-{id}\",\"apiVersion\":\"v1\"}},",
            "\"responseStatus\":{{\"metadata\":{{}},\"code\":200}},",
            "\"requestReceivedTimestamp\":\"2024-05-28T10:00:00.000000Z\",\"stageTimestamp\":\"2024-05-28T10:00:00.004000Z\",",
            "\"annotations\":{{\"authorization.k8s.io/decision\":\"allow\",\"authorization.k8s.io/reason\":\"RBAC: allowed by RoleBinding\"}}}}"
        ),
        id = id,
        verb = verb,
        ns = id % 7,
        user = id % 13
    )
}

/// An `EventList` of events `first..first + BATCH`.
fn event_list(first: u64) -> String {
    let items: Vec<String> = (first..first + BATCH as u64).map(audit_event).collect();
    format!(
        "{{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"metadata\":{{}},\"items\":[{}]}}",
        items.join(",")
    )
}

/// A kept-alive HTTPS connection to the webhook.
struct Connection {
    tls: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    addr: String,
}

impl Connection {
    fn open(addr: &str, client: &Arc<rustls::ClientConfig>) -> Result<Connection, String> {
        let tcp = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        let name =
            rustls::pki_types::ServerName::try_from("127.0.0.1").map_err(|e| e.to_string())?;
        let connection =
            rustls::ClientConnection::new(Arc::clone(client), name).map_err(|e| e.to_string())?;
        Ok(Connection {
            tls: rustls::StreamOwned::new(connection, tcp),
            addr: addr.to_string(),
        })
    }

    /// POSTs `body`; the status.
    fn post(&mut self, body: &[u8]) -> Result<u16, String> {
        let head = format!(
            "POST /audit HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        self.tls
            .write_all(&request)
            .and_then(|_| self.tls.flush())
            .map_err(|e| format!("TLS write: {e}"))?;
        // The head, then Content-Length bytes of body.
        let mut response = Vec::new();
        let mut buffer = [0u8; 4096];
        let head_end = loop {
            if let Some(at) = response.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let n = self
                .tls
                .read(&mut buffer)
                .map_err(|e| format!("TLS read: {e}"))?;
            if n == 0 {
                return Err("the connection closed before an answer".into());
            }
            response.extend_from_slice(&buffer[..n]);
        };
        let head = String::from_utf8_lossy(&response[..head_end]).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("not an HTTP answer: {head:?}"))?;
        let length: usize = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        while response.len() < head_end + length {
            let n = self
                .tls
                .read(&mut buffer)
                .map_err(|e| format!("TLS read: {e}"))?;
            if n == 0 {
                break;
            }
            response.extend_from_slice(&buffer[..n]);
        }
        Ok(status)
    }
}

/// What the clients of one run did.
#[derive(Default)]
struct Posted {
    /// Events answered 200.
    events: u64,
    /// `create` events answered 200 (rows expected).
    creates: u64,
    /// Requests' times in microseconds (200s only).
    latencies: Vec<u64>,
    refused: u64,
}

/// Posts batches from `CLIENTS` threads until `until`, at most `rate`
/// events per second in all (`None`: as fast as they go). Batch ids come
/// from `next_id`, so every event is new.
fn post_for(
    addr: &str,
    client: &Arc<rustls::ClientConfig>,
    until: Instant,
    rate: Option<u64>,
    next_id: &Arc<AtomicU64>,
) -> Result<Posted, String> {
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (addr, client, next_id) =
                (addr.to_string(), Arc::clone(client), Arc::clone(next_id));
            std::thread::spawn(move || -> Result<Posted, String> {
                let mut connection = Connection::open(&addr, &client)?;
                let mut posted = Posted::default();
                // Each client's share of the rate, as a time per batch.
                let every =
                    rate.map(|r| Duration::from_secs_f64(BATCH as f64 * CLIENTS as f64 / r as f64));
                let mut due = Instant::now();
                while Instant::now() < until {
                    if let Some(every) = every {
                        let now = Instant::now();
                        if due > now {
                            std::thread::sleep(due - now);
                        }
                        due += every;
                    }
                    let first = next_id.fetch_add(BATCH as u64, Ordering::SeqCst);
                    let body = event_list(first);
                    loop {
                        let sent = Instant::now();
                        let status = match connection.post(body.as_bytes()) {
                            Ok(status) => status,
                            Err(_) => {
                                // A closed connection: open another and retry.
                                connection = Connection::open(&addr, &client)?;
                                continue;
                            }
                        };
                        match status {
                            200 => {
                                posted.latencies.push(sent.elapsed().as_micros() as u64);
                                posted.events += BATCH as u64;
                                posted.creates += (first..first + BATCH as u64)
                                    .filter(|id| id % 4 == 0)
                                    .count()
                                    as u64;
                                break;
                            }
                            429 | 503 => {
                                posted.refused += 1;
                                std::thread::sleep(Duration::from_millis(20));
                            }
                            other => return Err(format!("the webhook answered {other}")),
                        }
                    }
                }
                Ok(posted)
            })
        })
        .collect();
    let mut all = Posted::default();
    for thread in threads {
        let posted = thread
            .join()
            .map_err(|_| "a client thread panicked".to_string())??;
        all.events += posted.events;
        all.creates += posted.creates;
        all.refused += posted.refused;
        all.latencies.extend(posted.latencies);
    }
    Ok(all)
}

/// The lines of `path`.
fn count_lines(path: &Path) -> u64 {
    std::fs::read(path)
        .map(|b| b.iter().filter(|c| **c == b'\n').count() as u64)
        .unwrap_or(0)
}

fn webhook_run(binary: &Path, dir: &Path, pki: &Path) -> Result<WebhookFigures, String> {
    let output = dir.join("live-webhook.jsonl");
    let (detector, addr) = start_webhook(binary, pki, &output)?;
    let client = tls_client(pki)?;
    let next_id = Arc::new(AtomicU64::new(0));
    // Warm up (connections, the allocator), not counted.
    let warm_rows = post_for(
        &addr,
        &client,
        Instant::now() + Duration::from_millis(500),
        None,
        &next_id,
    )?
    .creates;
    let start = Instant::now();
    let mut posted = post_for(
        &addr,
        &client,
        start + Duration::from_secs(WEBHOOK_SECONDS),
        None,
        &next_id,
    )?;
    let seconds = start.elapsed().as_secs_f64();
    detector.stop()?;
    posted.latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        let l = &posted.latencies;
        if l.is_empty() {
            return 0.0;
        }
        let at = ((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1;
        l[at] as f64 / 1000.0
    };
    Ok(WebhookFigures {
        events: posted.events,
        seconds,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        max_ms: percentile(1.0),
        refused: posted.refused,
        rows: (count_lines(&output), warm_rows + posted.creates),
    })
}

fn burst_run(binary: &Path, dir: &Path, pki: &Path) -> Result<(Vec<Phase>, (u64, u64)), String> {
    let output = dir.join("live-burst.jsonl");
    let (detector, addr) = start_webhook(binary, pki, &output)?;
    let client = tls_client(pki)?;
    let next_id = Arc::new(AtomicU64::new(0));
    let pid = detector.child.id();
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (Arc::clone(&peak), Arc::clone(&sampling));
        std::thread::spawn(move || {
            while sampling.load(Ordering::SeqCst) {
                if let Some(rss) = Detector::rss_kib(pid) {
                    peak.fetch_max(rss, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let mut phases = Vec::new();
    let mut creates = 0;
    for (name, rate) in [
        ("steady", STEADY_RATE),
        ("10× burst", STEADY_RATE * 10),
        ("steady again", STEADY_RATE),
    ] {
        peak.store(Detector::rss_kib(pid).unwrap_or(0), Ordering::SeqCst);
        let start = Instant::now();
        let posted = post_for(
            &addr,
            &client,
            start + Duration::from_secs(PHASE_SECONDS),
            Some(rate),
            &next_id,
        )?;
        let seconds = start.elapsed().as_secs_f64();
        creates += posted.creates;
        phases.push(Phase {
            name,
            target_rate: rate,
            rate: posted.events as f64 / seconds,
            peak_rss_kib: peak.load(Ordering::SeqCst),
            refused: posted.refused,
        });
    }
    sampling.store(false, Ordering::SeqCst);
    let _ = sampler.join();
    detector.stop()?;
    Ok((phases, (count_lines(&output), creates)))
}

/// User + system CPU seconds of process `pid` (`"self"`), or with
/// `children` of its waited-for children, from `/proc/PID/stat` (in
/// USER_HZ ticks, 100 a second on Linux).
fn cpu_seconds(pid: &str, children: bool) -> Result<f64, String> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    // Fields after the command name, which is in parentheses.
    let after = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime, stime, cutime, cstime are fields 14 to 17 (1-based), so 11 to
    // 14 after the name and state.
    let (user, system) = if children { (13, 14) } else { (11, 12) };
    let tick = |i: usize| -> Result<f64, String> {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .ok_or_else(|| format!("{path}: unexpected layout"))
    };
    Ok((tick(user)? + tick(system)?) / 100.0)
}

fn follow_run(binary: &Path, options: &BenchOptions) -> Result<FollowFigures, String> {
    let (input, _) = write_sample(options)?;
    let bytes = std::fs::metadata(&input).map_err(|e| e.to_string())?.len();
    let batch_out: PathBuf = options.dir.join("live-batch.jsonl");
    let follow_out: PathBuf = options.dir.join("live-follow.jsonl");
    // Warm the page cache.
    let _ = std::fs::read(&input);
    let mut batch_seconds = f64::MAX;
    let mut batch_cpu = f64::MAX;
    for _ in 0..options.repeat.max(1) {
        let _ = std::fs::remove_file(&batch_out);
        let cpu_before = cpu_seconds("self", true)?;
        let start = Instant::now();
        let status = Command::new(binary)
            .arg(&input)
            .args(["--now", NOW, "--output-file"])
            .arg(&batch_out)
            .stderr(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        batch_seconds = batch_seconds.min(start.elapsed().as_secs_f64());
        batch_cpu = batch_cpu.min(cpu_seconds("self", true)? - cpu_before);
        if !status.success() {
            return Err(format!("the batch run ended with {status}"));
        }
    }
    let expected = std::fs::metadata(&batch_out)
        .map_err(|e| e.to_string())?
        .len();
    let mut follow_seconds = f64::MAX;
    let mut follow_cpu = f64::MAX;
    for _ in 0..options.repeat.max(1) {
        let _ = std::fs::remove_file(&follow_out);
        let (input_arg, out_arg) = (
            input.display().to_string(),
            follow_out.display().to_string(),
        );
        let start = Instant::now();
        let detector =
            Detector::start(binary, &["--follow", &input_arg, "--output-file", &out_arg])?;
        loop {
            let len = std::fs::metadata(&follow_out).map_or(0, |m| m.len());
            if len >= expected {
                break;
            }
            if start.elapsed() > Duration::from_secs(600) {
                return Err("--follow did not write batch mode's rows in 10 minutes".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        follow_seconds = follow_seconds.min(start.elapsed().as_secs_f64());
        follow_cpu = follow_cpu.min(cpu_seconds(&detector.child.id().to_string(), false)?);
        detector.stop()?;
        let (a, b) = (
            std::fs::read(&batch_out).map_err(|e| e.to_string())?,
            std::fs::read(&follow_out).map_err(|e| e.to_string())?,
        );
        if a != b {
            return Err("--follow wrote other rows than batch mode".into());
        }
    }
    Ok(FollowFigures {
        bytes,
        batch_seconds,
        follow_seconds,
        batch_cpu,
        follow_cpu,
        rows: count_lines(&batch_out),
    })
}
