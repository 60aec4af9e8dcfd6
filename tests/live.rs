//! Live sources (issue 14), through the user's path: a detector built from
//! a rule, run as a process, fed by files being written and rotated, or by
//! HTTP requests on loopback, and stopped with SIGTERM.

use crate::common::{
    counts, detector, event, event_list, exit_status, kqlc, make_certificates, sample, Lcg, Service,
};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// Appends lines `range` to `file` in one write but for the last 30
/// bytes, written a little later (a partial line must wait); line `long`,
/// when in the range, is padded to 100 KiB.
fn write_burst(file: &mut File, range: std::ops::Range<usize>, long: Option<usize>) {
    let mut text = String::new();
    for n in range {
        if Some(n) == long {
            let pad = "x".repeat(100 << 10);
            text.push_str(&format!(
                "{{\"Timestamp\":\"2024-05-28T10:00:00Z\",\"OperationName\":\"create\",\"RawEventData\":{{\"n\":{n},\"pad\":\"{pad}\"}}}}\n"
            ));
        } else {
            text.push_str(&row_line(n));
        }
    }
    let (first, second) = text.split_at(text.len() - 30);
    file.write_all(first.as_bytes()).unwrap();
    file.flush().unwrap();
    std::thread::sleep(Duration::from_millis(60));
    file.write_all(second.as_bytes()).unwrap();
    file.flush().unwrap();
}

/// Bursts far larger than a poll's small reads go from the file straight
/// into the line reader: each line is still read once, across a partial
/// last line, a rename, a copy-truncate and a long last line.
#[test]
fn follow_reads_large_bursts_in_place_each_line_once() {
    let binary = detector("creates_n", CREATES_N);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let mut writer = append(&log);
    // About 450 KB before the start, its last line partial.
    let text: String = (0..5000).map(row_line).collect();
    writer
        .write_all(&text.as_bytes()[..text.len() - 30])
        .unwrap();
    writer.flush().unwrap();
    let pattern = format!("{}/audit.log*", dir.path().display());
    let service = Service::start(&binary, &["--follow", &pattern]);
    std::thread::sleep(Duration::from_millis(300));
    writer
        .write_all(&text.as_bytes()[text.len() - 30..])
        .unwrap();
    writer.flush().unwrap();
    let seen = |n: usize| move |rows: &[String]| rows.len() >= n;
    service.wait_rows(Duration::from_secs(30), seen(5000));
    // A long line last in its burst: no line end in the read's last bytes.
    write_burst(&mut writer, 5000..7000, Some(6999));
    write_burst(&mut writer, 7000..9000, None);
    std::fs::rename(&log, dir.path().join("audit.log.1")).unwrap();
    write_burst(&mut writer, 9000..10000, None);
    let mut writer = append(&log);
    write_burst(&mut writer, 10000..13000, None);
    service.wait_rows(Duration::from_secs(30), seen(13000));
    write_burst(&mut writer, 13000..15000, None);
    std::fs::copy(&log, dir.path().join("audit.log.copy")).unwrap();
    writer.set_len(0).unwrap();
    write_burst(&mut writer, 15000..18000, None);
    service.wait_rows(Duration::from_secs(30), seen(18000));
    let (status, rows, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    let counts = counts(&rows, "N");
    let missing: Vec<usize> = (0..18000)
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
    assert_eq!(rows.len(), 18000);
    assert!(!stderr.iter().any(|l| l.contains("error")), "{stderr:?}");
}

const CREATE_IDS: &str =
    "CloudAuditEvents | where OperationName == \"create\" | project Id = tostring(RawEventData.AuditId)";

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

#[test]
fn webhook_skips_items_no_rule_can_match_and_answers_as_a_full_parse_would() {
    // The rule's needle (`create`) holds in a k8s event's text: items
    // without it are skipped unparsed, but counted as events, and a body
    // or surviving item that is bad gets the same answer as before. (A
    // rule of its own name: a binary shared with a test running at the
    // same time could be rewritten while it starts.)
    let binary = detector("create_ids_skipping", CREATE_IDS);
    let service = Service::start(&binary, &["--listen", "127.0.0.1:0"]);
    let listening = service.wait_stderr("listening on http://");
    let addr = listening
        .rsplit("http://")
        .next()
        .unwrap()
        .trim()
        .to_string();
    let bad_time = |verb: &str| {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"bad-{verb}","verb":"{verb}","stageTimestamp":"yesterday"}}"#
        )
    };
    let items = [
        event("w-created", "create"),
        event("w-read", "get"),
        // Skipped unparsed: not validated, as a skipped line is not.
        bad_time("get"),
        // Survives the prefilter: rejected as before.
        bad_time("create"),
        // `create` spelt with an escape: never skipped.
        event("w-escaped", "cre\\u0061te"),
        r#""create, but not an event""#.to_string(),
        event("w-list", "list"),
    ];
    let (status, answer) = post(&addr, None, event_list(&items).as_bytes());
    assert_eq!(
        (status, answer.trim()),
        (200, r#"{"events":7,"rejected":2}"#)
    );
    // A skipped item that would make the whole body unreadable still does.
    let deep = format!(
        r#"{{"kind":"Event","verb":"get","requestObject":{}{}}}"#,
        "[".repeat(125),
        "]".repeat(125)
    );
    let out_of_range =
        r#"{"kind":"Event","verb":"get","responseStatus":{"code":1e400}}"#.to_string();
    let mut bodies: Vec<String> = [&deep, &out_of_range]
        .iter()
        .map(|item| event_list(&[event("w-never", "create"), item.to_string()]))
        .collect();
    // Also outside the items, and a lone surrogate (which serde_json
    // refuses) beside the items.
    for envelope in [
        r#""metadata":{"n":1e400}"#,
        r#""metadata":{"s":"\ud800"}"#,
        r#""apiVersion":"audit.k8s.io/\ud800""#,
    ] {
        bodies.push(format!(
            r#"{{"kind":"EventList",{envelope},"items":[{}]}}"#,
            event("w-never", "create")
        ));
    }
    for body in bodies {
        let (status, reason) = post(&addr, None, body.as_bytes());
        assert_eq!(status, 400, "{reason}");
        assert!(reason.starts_with("malformed JSON"), "{reason}");
    }
    // Two levels less deep is read (and skipped).
    let shallower = deep.replacen('[', "", 2).replacen(']', "", 2);
    let body = event_list(&[event("w-deep-ok", "create"), shallower]);
    assert_eq!(
        post(&addr, None, body.as_bytes()),
        (200, "{\"events\":2,\"rejected\":0}\n".to_string())
    );
    // Envelopes the fast path does not read plainly: the general path.
    let escaped_kind = format!(
        r#"{{"kind":"Event\u004cist","items":[{}]}}"#,
        event("w-kind", "create")
    );
    assert_eq!(post(&addr, None, escaped_kind.as_bytes()).0, 200);
    let (status, reason) = post(
        &addr,
        None,
        br#"{"kind":"EventList","apiVersion":"v1","items":[]}"#,
    );
    assert_eq!(status, 400);
    assert!(reason.contains("found apiVersion"), "{reason}");
    let (status, reason) = post(
        &addr,
        None,
        br#"{"kind":"EventList","kind":"Event","items":[]}"#,
    );
    assert_eq!(status, 400);
    assert!(reason.contains("found kind"), "{reason}");

    let rows = service.wait_rows(Duration::from_secs(5), |rows| rows.len() >= 4);
    let (status, rows_after, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    let counts = counts(&rows_after, "Id");
    let expected: BTreeMap<String, usize> = ["w-created", "w-escaped", "w-deep-ok", "w-kind"]
        .iter()
        .map(|id| (id.to_string(), 1))
        .collect();
    assert_eq!(counts, expected, "{rows:?}");
    let reported = |text: &str| stderr.iter().any(|line| line.contains(text));
    assert!(
        reported("items[3]: stageTimestamp: 'yesterday' is not a datetime"),
        "{stderr:?}"
    );
    assert!(
        reported("items[5]: event: expected a Kubernetes audit event"),
        "{stderr:?}"
    );
    assert!(
        !reported("items[2]"),
        "a skipped item was parsed: {stderr:?}"
    );
    let summary = stderr.iter().find(|l| l.starts_with("summary: ")).unwrap();
    assert!(
        summary.contains("10 rows read, 2 rejected, 4 emitted"),
        "{summary}"
    );
    assert!(summary.contains("4 lines skipped unparsed"), "{summary}");
}

/// A rustls client that trusts `dir/ca.crt`, presenting `dir/client.crt`
/// when `with_certificate`.
fn tls_client(dir: &Path, with_certificate: bool) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    // The provider the detector uses (see runtime/detector/src/live/webhook.rs).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(dir.join("ca.crt")).unwrap())
        .unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = if with_certificate {
        let chain = vec![CertificateDer::from_pem_file(dir.join("client.crt")).unwrap()];
        let key = PrivateKeyDer::from_pem_file(dir.join("client.key")).unwrap();
        builder.with_client_auth_cert(chain, key).unwrap()
    } else {
        builder.with_no_client_auth()
    };
    Arc::new(config)
}

/// An HTTP answer: status, headers (lower-case names) and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 POST over a fresh TLS connection to `addr` (127.0.0.1).
/// With `send_body` false only the headers go out (a `Content-Length`
/// refused before the body is read). `Err` when TLS fails or no HTTP
/// answer comes.
fn https_post(
    addr: &str,
    client: &Arc<rustls::ClientConfig>,
    token: Option<&str>,
    body: &[u8],
    send_body: bool,
) -> Result<Answer, String> {
    let tcp = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let connection = rustls::ClientConnection::new(Arc::clone(client), name).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "POST /audit HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes())
        .map_err(|e| format!("TLS: {e}"))?;
    if send_body {
        tls.write_all(body).map_err(|e| format!("TLS: {e}"))?;
    }
    tls.flush().map_err(|e| format!("TLS: {e}"))?;
    let mut response = Vec::new();
    // A peer that closes without close_notify ends the read with an error
    // after the answer: what was read counts.
    if let Err(e) = tls.read_to_end(&mut response) {
        if response.is_empty() {
            return Err(format!("TLS: {e}"));
        }
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP response: {text:?}"))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {text:?}"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Answer {
        status,
        headers,
        body: body.to_string(),
    })
}

/// POSTs `body` until it is answered 200; each 429 must carry
/// `Retry-After` (it is counted in `refused`; the retry comes sooner than
/// the header says, to keep the test short).
fn post_until_done(
    addr: &str,
    client: &Arc<rustls::ClientConfig>,
    body: &str,
    refused: &AtomicUsize,
) -> Answer {
    for _ in 0..2000 {
        let answer = https_post(addr, client, Some("s3cret-token"), body.as_bytes(), true)
            .unwrap_or_else(|e| panic!("{e}"));
        if answer.status != 429 {
            assert_eq!(answer.status, 200, "{answer:?}");
            return answer;
        }
        assert_eq!(answer.header("retry-after"), Some("1"), "{answer:?}");
        assert!(answer.body.contains("the queue is full"), "{answer:?}");
        refused.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("a batch was refused 2000 times");
}

#[test]
fn webhook_over_https_with_client_certificates_refuses_what_it_must_and_emits_each_event_once() {
    let binary = detector("create_ids", CREATE_IDS);
    let dir = tempfile::tempdir().unwrap();
    make_certificates(dir.path());
    let file = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    std::fs::write(dir.path().join("token"), "s3cret-token\n").unwrap();
    let service = Service::start(
        &binary,
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &file("server.crt"),
            "--tls-key",
            &file("server.key"),
            "--tls-client-ca",
            &file("ca.crt"),
            "--token-file",
            &file("token"),
            "--max-body-bytes",
            "1000000",
            "--queue",
            "1",
        ],
    );
    let listening = service.wait_stderr("listening on https://");
    let addr = listening
        .rsplit("https://")
        .next()
        .unwrap()
        .trim()
        .to_string();
    let client = tls_client(dir.path(), true);
    let one = event_list(&[event("x", "create")]);

    // Without a client certificate the handshake fails: no HTTP answer.
    let anonymous = tls_client(dir.path(), false);
    let refused = https_post(
        &addr,
        &anonymous,
        Some("s3cret-token"),
        one.as_bytes(),
        true,
    );
    assert!(refused.is_err(), "{refused:?}");
    // With one, a wrong or missing token is 401, and the server goes on.
    let answer = https_post(&addr, &client, Some("wrong"), one.as_bytes(), true).unwrap();
    assert_eq!(
        (answer.status, answer.body.trim()),
        (401, "the bearer token is not the one expected")
    );
    assert!(answer.header("www-authenticate").is_some(), "{answer:?}");
    let answer = https_post(&addr, &client, None, one.as_bytes(), true).unwrap();
    assert_eq!(answer.status, 401, "{answer:?}");
    // A body declared larger than the limit is refused before it is read.
    let big = event_list(&vec![event("big", "create"); 3000]);
    assert!(big.len() > 1_000_000);
    let answer = https_post(&addr, &client, Some("s3cret-token"), big.as_bytes(), false).unwrap();
    assert_eq!(answer.status, 413, "{answer:?}");
    assert!(answer.body.contains("--max-body-bytes"), "{answer:?}");

    // A full queue. The detector's stdout is not read: the filler batch's
    // 400 long rows fill the pipe and the detector's buffer, and its thread
    // blocks writing them before it answers. Then one batch waits in the
    // queue (--queue 1) and the next is refused with 429 and Retry-After.
    service.pause_stdout(true);
    let refusals = Arc::new(AtomicUsize::new(0));
    let padding = "p".repeat(600);
    let filler = event_list(
        &(0..400)
            .map(|i| event(&format!("filler-{i}-{padding}"), "create"))
            .collect::<Vec<_>>(),
    );
    let spawn_post = |body: String| {
        let (addr, client, refusals) = (addr.clone(), Arc::clone(&client), Arc::clone(&refusals));
        std::thread::spawn(move || post_until_done(&addr, &client, &body, &refusals))
    };
    let mut waiting = vec![spawn_post(filler)];
    // Probes, one at a time, until one is refused; one accepted while the
    // detector is blocked waits for its answer (kept, joined later).
    let mut refused_probe = None;
    for probe in 0..200 {
        let body = event_list(&[event(&format!("probe-{probe}"), "create")]);
        let (sender, answers) = std::sync::mpsc::channel();
        let (addr2, client2) = (addr.clone(), Arc::clone(&client));
        let probe_body = body.clone();
        let handle = std::thread::spawn(move || {
            let answer = https_post(
                &addr2,
                &client2,
                Some("s3cret-token"),
                probe_body.as_bytes(),
                true,
            );
            let _ = sender.send(());
            answer
        });
        match answers.recv_timeout(Duration::from_millis(300)) {
            Ok(()) => {
                let answer = handle.join().unwrap().unwrap();
                if answer.status == 429 {
                    assert_eq!(answer.header("retry-after"), Some("1"), "{answer:?}");
                    assert!(
                        answer
                            .body
                            .contains("the queue is full (1 batches waiting, --queue)"),
                        "{answer:?}"
                    );
                    refused_probe = Some(body);
                    break;
                }
                assert_eq!(answer.status, 200, "{answer:?}");
            }
            // Accepted, waiting for the blocked detector.
            Err(_) => waiting.push(std::thread::spawn(move || {
                let answer = handle.join().unwrap().unwrap();
                assert_eq!(answer.status, 200, "{answer:?}");
                answer
            })),
        }
    }
    let refused_probe = refused_probe.expect("no batch was refused with the queue full");
    // The detector takes its output again; the refused batch, sent again,
    // is taken.
    service.pause_stdout(false);
    let retried = post_until_done(&addr, &client, &refused_probe, &refusals);
    assert_eq!(retried.body.trim(), "{\"events\":1,\"rejected\":0}");
    for handle in waiting {
        handle.join().unwrap();
    }

    // 4 clients × 10 batches × 20 events, half of them creates.
    let clients: Vec<_> = (0..4)
        .map(|client_number| {
            let (addr, client, refusals) =
                (addr.clone(), Arc::clone(&client), Arc::clone(&refusals));
            std::thread::spawn(move || {
                for batch in 0..10 {
                    let events: Vec<String> = (0..20)
                        .map(|i| {
                            let verb = if i % 2 == 0 { "create" } else { "get" };
                            event(&format!("c{client_number}-b{batch}-e{i}"), verb)
                        })
                        .collect();
                    let answer = post_until_done(&addr, &client, &event_list(&events), &refusals);
                    assert_eq!(answer.body.trim(), "{\"events\":20,\"rejected\":0}");
                }
            })
        })
        .collect();
    for handle in clients {
        handle.join().unwrap();
    }

    eprintln!(
        "{} batches refused with 429 and sent again",
        refusals.load(Ordering::SeqCst) + 1
    );
    let (status, rows, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    let counts = counts(&rows, "Id");
    let repeated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "emitted twice: {repeated:?}");
    let filler_rows = counts.keys().filter(|id| id.starts_with("filler-")).count();
    let client_rows = counts.keys().filter(|id| id.starts_with('c')).count();
    let probes = counts.keys().filter(|id| id.starts_with("probe-")).count();
    assert_eq!((filler_rows, client_rows), (400, 400), "{stderr:?}");
    assert!(probes >= 1);
    assert_eq!(rows.len(), 800 + probes);
    let summary = stderr.iter().find(|l| l.starts_with("summary: ")).unwrap();
    assert!(
        summary.contains(&format!("{} rows read, 0 rejected", 1200 + probes)),
        "{summary}"
    );
}

/// The values of `N` in the rows, leaving out a row torn by `kill -9`.
fn numbers(rows: &[String]) -> Vec<usize> {
    rows.iter()
        .filter_map(|row| serde_json::from_str::<serde_json::Value>(row).ok())
        .filter_map(|value| value["N"].as_u64())
        .map(|n| n as usize)
        .collect()
}

#[test]
fn state_survives_sigterm_and_a_restart_repeats_nothing_and_reads_what_came_meanwhile_renamed_or_copied(
) {
    let binary = detector("creates_n", CREATES_N);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();
    let pattern = format!("{}/audit.log*", dir.path().display());
    let args = [
        "--follow",
        &pattern,
        "--state",
        state_arg,
        "--checkpoint-interval",
        "100ms",
    ];
    let mut writer = append(&log);
    write_lines(&mut writer, 0..100);
    let service = Service::start(&binary, &args);
    service.wait_rows(Duration::from_secs(20), |rows| rows.len() >= 100);

    // A second detector on the same directory is refused.
    let mut second = Command::new(&binary)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(exit_status(&mut second), Some(2));
    let mut stderr = String::new();
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("another detector is using this state directory"),
        "{stderr}"
    );

    let (status, rows, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    assert_eq!(numbers(&rows), (0..100).collect::<Vec<_>>(), "{stderr:?}");
    assert!(state.join("checkpoint.json").is_file());

    // While it is down: more lines, then a rotation by rename and lines in
    // the new file. The renamed file is known by its identity.
    write_lines(&mut writer, 100..130);
    std::fs::rename(&log, dir.path().join("audit.log.1")).unwrap();
    let mut writer = append(&log);
    write_lines(&mut writer, 130..150);

    let service = Service::start(&binary, &args);
    service.wait_stderr("resuming 1 file from the checkpoint");
    service.wait_rows(Duration::from_secs(20), |rows| rows.len() >= 50);
    write_lines(&mut writer, 150..160);
    service.wait_rows(Duration::from_secs(20), |rows| rows.len() >= 60);
    // Time for a repeat to show, were there one.
    std::thread::sleep(Duration::from_millis(300));
    let (status, rows, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    let mut seen = numbers(&rows);
    seen.sort_unstable();
    assert_eq!(seen, (100..160).collect::<Vec<_>>(), "{stderr:?}");

    // While it is down again: lines, then logrotate's copytruncate. The
    // copy takes on the truncated file's position; the truncated file is
    // read from its start.
    write_lines(&mut writer, 160..170);
    std::fs::copy(&log, dir.path().join("audit.log.copy")).unwrap();
    writer.set_len(0).unwrap();
    write_lines(&mut writer, 170..180);
    let service = Service::start(&binary, &args);
    service.wait_stderr("from the checkpoint");
    service.wait_rows(Duration::from_secs(20), |rows| rows.len() >= 20);
    std::thread::sleep(Duration::from_millis(300));
    let (status, rows, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    let mut seen = numbers(&rows);
    seen.sort_unstable();
    assert_eq!(seen, (160..180).collect::<Vec<_>>(), "{stderr:?}");

    // A checkpoint from another rule set is refused, naming both.
    let path = state.join("checkpoint.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut checkpoint: serde_json::Value = serde_json::from_str(&text).unwrap();
    checkpoint["detector"]["rules"] = serde_json::json!(["other-rule 00"]);
    std::fs::write(&path, checkpoint.to_string()).unwrap();
    let mut other = Command::new(&binary)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(exit_status(&mut other), Some(2));
    let mut stderr = String::new();
    other
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("the checkpoint was written by another detector")
            && stderr.contains("rules [other-rule]"),
        "{stderr}"
    );
}

/// A small deterministic generator for the kill moments (xorshift).
struct Moments(u64);

impl Moments {
    fn next(&mut self, range: std::ops::Range<u64>) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        range.start + self.0 % (range.end - range.start)
    }
}

#[test]
fn kill_9_during_a_follow_replay_loses_no_row_and_repeats_at_most_one_interval_per_kill() {
    // 20 kills over a replay of about 16 s: each run lives 0.3 to 1 s, and
    // the detector is down up to 0.3 s between runs.
    const LINES: usize = 16_000;
    const BURST: usize = 20;
    const BURST_EVERY: Duration = Duration::from_millis(20);
    const INTERVAL_MS: u64 = 200;
    const KILLS: usize = 20;
    let started = Instant::now();
    let binary = detector("creates_n", CREATES_N);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let state = dir.path().join("state");
    let interval = format!("{INTERVAL_MS}ms");
    let log_arg = log.to_str().unwrap().to_string();
    let state_arg = state.to_str().unwrap().to_string();
    let args = [
        "--follow",
        &log_arg,
        "--state",
        &state_arg,
        "--checkpoint-interval",
        &interval,
    ];
    // The kill moments are the same on every run; KQLC_CRASH_SEED tries
    // others (any non-zero number).
    let seed = std::env::var("KQLC_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s != 0)
        .unwrap_or(0x5eed_0014);
    eprintln!("kill moments seed: {seed} (KQLC_CRASH_SEED)");
    let mut moments = Moments(seed);

    // The replay: bursts of 20 lines every 20 ms (at most 1000 lines/s).
    let writer_log = log.clone();
    let writer = std::thread::spawn(move || {
        let mut file = append(&writer_log);
        for burst in (0..LINES).collect::<Vec<_>>().chunks(BURST) {
            let text: String = burst.iter().map(|n| row_line(*n)).collect();
            file.write_all(text.as_bytes()).unwrap();
            std::thread::sleep(BURST_EVERY);
        }
    });

    let mut counts = vec![0usize; LINES];
    for _ in 0..KILLS {
        let service = Service::start(&binary, &args);
        std::thread::sleep(Duration::from_millis(moments.next(300..1000)));
        for n in numbers(&service.kill()) {
            counts[n] += 1;
        }
        std::thread::sleep(Duration::from_millis(moments.next(0..300)));
    }
    writer.join().unwrap();
    let service = Service::start(&binary, &args);
    // The killed runs may have read everything already: wait until this one
    // handles SIGTERM (it says so after installing the handler).
    service.wait_stderr("from the checkpoint");
    let missing = |counts: &[usize], rows: &[String]| {
        let now = numbers(rows);
        let mut seen: Vec<bool> = counts.iter().map(|c| *c > 0).collect();
        for n in now {
            seen[n] = true;
        }
        seen.iter().filter(|s| !**s).count()
    };
    service.wait_rows(Duration::from_secs(60), |rows| missing(&counts, rows) == 0);
    let (status, rows, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    for n in numbers(&rows) {
        counts[n] += 1;
    }
    let lost: Vec<usize> = (0..LINES).filter(|n| counts[*n] == 0).collect();
    assert!(lost.is_empty(), "rows lost: {lost:?}");
    let duplicates: usize = counts.iter().map(|c| c - 1).sum();
    // A kill repeats what was read after the last checkpoint: at most one
    // interval of lines, plus what one poll reads and scheduling delays
    // (0.5 s of slack), at the writer's rate.
    let rate = (BURST as f64) / BURST_EVERY.as_secs_f64();
    let per_kill = (rate * (INTERVAL_MS as f64 / 1000.0 + 0.5)) as usize;
    eprintln!(
        "{KILLS} kills, {LINES} lines: {duplicates} rows repeated ({:.1} per kill; bound {per_kill} per kill) in {:.1} s",
        duplicates as f64 / KILLS as f64,
        started.elapsed().as_secs_f64()
    );
    assert!(
        duplicates <= KILLS * per_kill,
        "{duplicates} repeated rows, more than {per_kill} per kill"
    );
}

/// The lines of `path` (none when it does not exist).
fn file_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits (at most 30 s) until `done` holds.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "waited 30 s for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn output_file_is_appended_to_and_reopened_on_sighup_after_logrotate_renames_it() {
    let binary = detector("creates_n", CREATES_N);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let output = dir.path().join("rows.jsonl");
    std::fs::write(&output, "{\"kept\":true}\n").unwrap();
    // The glob matches the output file and its rotated names: none is read.
    let pattern = format!("{}/*", dir.path().display());
    let mut writer = append(&log);
    write_lines(&mut writer, 0..50);
    let service = Service::start(
        &binary,
        &[
            "--follow",
            &pattern,
            "--output-file",
            output.to_str().unwrap(),
        ],
    );
    // Lines keep coming while the file is rotated twice.
    let writer = std::thread::spawn(move || write_lines(&mut writer, 50..400));
    let rotated = |n: usize| dir.path().join(format!("rows.jsonl.{n}"));
    let written =
        |paths: &[PathBuf]| -> usize { paths.iter().map(|p| numbers(&file_lines(p)).len()).sum() };
    wait_for("100 rows", || written(std::slice::from_ref(&output)) >= 100);
    std::fs::rename(&output, rotated(1)).unwrap();
    service.signal("HUP");
    service.wait_stderr("reopened (SIGHUP)");
    wait_for("rows in the new file", || {
        written(std::slice::from_ref(&output)) > 0
    });
    std::fs::rename(&output, rotated(2)).unwrap();
    service.signal("HUP");
    wait_for("rows in the third file", || {
        written(std::slice::from_ref(&output)) > 0
    });
    writer.join().unwrap();
    let all = [rotated(1), rotated(2), output.clone()];
    wait_for("400 rows", || written(&all) >= 400);
    // Time for a repeat to show, were there one.
    std::thread::sleep(Duration::from_millis(300));
    let (status, stdout, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    assert!(stdout.is_empty(), "{stdout:?}");
    let first = file_lines(&rotated(1));
    assert_eq!(first[0], "{\"kept\":true}", "appended, not truncated");
    let mut seen: Vec<usize> = all.iter().flat_map(|p| numbers(&file_lines(p))).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..400).collect::<Vec<_>>(), "{stderr:?}");
    for path in &all {
        assert!(!numbers(&file_lines(path)).is_empty(), "{}", path.display());
    }
    assert_eq!(
        stderr
            .iter()
            .filter(|l| l.contains("reopened (SIGHUP)"))
            .count(),
        2,
        "{stderr:?}"
    );
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("rows.jsonl: matches --follow")
                && l.contains("is this detector's --output-file")),
        "{stderr:?}"
    );
    // Only the audit log was read.
    let summary = stderr.iter().find(|l| l.starts_with("summary: ")).unwrap();
    assert!(
        summary.contains("400 rows read, 0 rejected, 400 emitted"),
        "{summary}"
    );
}

/// The offset of `log` in the checkpoint of `state`, if it has one.
fn checkpoint_offset(state: &Path, log: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(state.join("checkpoint.json")).ok()?;
    let checkpoint: serde_json::Value = serde_json::from_str(&text).ok()?;
    checkpoint["files"]
        .as_array()?
        .iter()
        .find(|f| f["path"] == log.to_str().unwrap())
        .and_then(|f| f["offset"].as_u64())
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_output_write_stops_with_status_2_and_the_checkpoint_covers_only_written_rows() {
    let binary = detector("creates_n", CREATES_N);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let state = dir.path().join("state");
    let good = dir.path().join("rows.jsonl");
    let args = |output: &Path| -> Vec<String> {
        [
            "--follow",
            log.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
            "--checkpoint-interval",
            "100ms",
            "--output-file",
            output.to_str().unwrap(),
        ]
        .map(str::to_string)
        .to_vec()
    };
    let start = |output: &Path| {
        let args = args(output);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Service::start(&binary, &args)
    };
    let mut writer = append(&log);
    write_lines(&mut writer, 0..50);
    let service = start(&good);
    wait_for("50 rows", || numbers(&file_lines(&good)).len() >= 50);
    let (status, _, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    let covered = std::fs::metadata(&log).unwrap().len();
    assert_eq!(checkpoint_offset(&state, &log), Some(covered));

    // The disk is full (/dev/full: every write fails with ENOSPC) when the
    // next lines come.
    let service = start(Path::new("/dev/full"));
    service.wait_stderr("resuming 1 file from the checkpoint");
    write_lines(&mut writer, 50..100);
    let (status, stderr) = service.wait_exit();
    assert_eq!(status, Some(2), "{stderr:?}");
    assert!(
        stderr
            .iter()
            .any(|l| l.starts_with("error: writing results: No space left on device")),
        "{stderr:?}"
    );
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("keeps the last checkpoint")),
        "{stderr:?}"
    );
    assert_eq!(
        checkpoint_offset(&state, &log),
        Some(covered),
        "the checkpoint went past rows not written"
    );

    // Room again: a restart writes the rows that were not, once.
    let service = start(&good);
    service.wait_stderr("resuming 1 file from the checkpoint");
    wait_for("100 rows", || numbers(&file_lines(&good)).len() >= 100);
    std::thread::sleep(Duration::from_millis(300));
    let (status, _, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    assert_eq!(
        numbers(&file_lines(&good)),
        (0..100).collect::<Vec<_>>(),
        "{stderr:?}"
    );
}

#[test]
fn landlock_lets_a_live_detector_write_only_its_output_and_state_and_read_only_its_inputs() {
    let binary = detector("creates_n", CREATES_N);
    let dir = tempfile::tempdir().unwrap();
    let (logs, out, elsewhere) = (
        dir.path().join("logs"),
        dir.path().join("out"),
        dir.path().join("elsewhere"),
    );
    for d in [&logs, &out, &elsewhere] {
        std::fs::create_dir(d).unwrap();
    }
    let output = out.join("rows.jsonl");
    let state = dir.path().join("state");
    let pattern = format!("{}/*.log", logs.display());
    let mut writer = append(&logs.join("audit.log"));
    write_lines(&mut writer, 0..20);
    let service = Service::start(
        &binary,
        &[
            "--follow",
            &pattern,
            "--output-file",
            output.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
        ],
    );
    let landlock = service.wait_stderr("Landlock: ");
    if landlock.contains("not available") {
        eprintln!("skipped: {landlock}");
        let (status, _, stderr) = service.terminate();
        assert_eq!(status, Some(0), "{stderr:?}");
        return;
    }
    assert!(landlock.contains("file access is confined"), "{landlock}");
    wait_for("20 rows", || numbers(&file_lines(&output)).len() >= 20);

    // A file outside the inputs' directories, linked into one, cannot be
    // read; the followed files still are, and the checkpoint is written.
    std::fs::write(elsewhere.join("secret.log"), row_line(999)).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("secret.log"), logs.join("secret.log")).unwrap();
    let refused = service.wait_stderr("secret.log: cannot open");
    assert!(refused.contains("Permission denied"), "{refused}");
    write_lines(&mut writer, 20..40);
    wait_for("40 rows", || numbers(&file_lines(&output)).len() >= 40);
    wait_for("the checkpoint", || {
        checkpoint_offset(&state, &logs.join("audit.log"))
            == Some(std::fs::metadata(logs.join("audit.log")).unwrap().len())
    });

    // --output-file reopened (SIGHUP) through a link to another directory:
    // the write is refused, and the detector stops with status 2.
    std::fs::remove_file(&output).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("rows.jsonl"), &output).unwrap();
    service.signal("HUP");
    let (status, stderr) = service.wait_exit();
    assert_eq!(status, Some(2), "{stderr:?}");
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("cannot reopen: Permission denied")),
        "{stderr:?}"
    );
    assert!(!elsewhere.join("rows.jsonl").exists());
}

#[test]
fn landlock_keeps_the_rules_data_readable_for_scheduled_runs() {
    // A scheduled rule's run starts a fresh rule, which reads its
    // `externaldata` file again: the file stays readable when confined.
    // (The path is relative to the tests' working directory, kqlc/cli.)
    let binary = detector(
        "creates_not_listed",
        "// @frequency 10m
let Listed = externaldata (User: string) [\"../../tests/cases/operators/externaldata/data/domains.txt\"] with (format = \"txt\");
CloudAuditEvents
| where OperationName == \"create\"
| extend User = tostring(RawEventData.User.username)
| where User !in (Listed)
| summarize n = count() by User",
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let mut text = String::new();
    for (i, user) in ["alice", "evil.example", "alice", "bob"].iter().enumerate() {
        text.push_str(&exec_line(T0 + i as i64, user, "create", "exec"));
    }
    // The next window's first event: the first window's tick.
    text.push_str(&exec_line(T0 + 605, "carol", "create", "exec"));
    std::fs::write(&log, text).unwrap();
    let service = Service::start(
        &binary,
        &["--follow", log.to_str().unwrap(), "--clock", "event"],
    );
    let landlock = service.wait_stderr("Landlock: ");
    let rows = service.wait_rows(Duration::from_secs(30), |rows| rows.len() >= 2);
    let (status, _, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    if landlock.contains("not available") {
        eprintln!("(not confined here: {landlock})");
    }
    assert_eq!(
        rows,
        ["{\"User\":\"alice\",\"n\":2}", "{\"User\":\"bob\",\"n\":1}"],
        "{stderr:?}"
    );
}

#[test]
fn an_output_file_that_is_an_input_is_refused() {
    let binary = detector("creates_n", CREATES_N);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::write(&log, row_line(1)).unwrap();
    let link = dir.path().join("same.jsonl");
    std::fs::hard_link(&log, &link).unwrap();
    for live in [false, true] {
        let mut command = Command::new(&binary);
        if live {
            command.arg("--follow");
        }
        let output = command
            .arg(&log)
            .arg("--output-file")
            .arg(&link)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "error: --output-file {} is the input file {}",
                link.display(),
                log.display()
            )),
            "{stderr}"
        );
    }
    assert_eq!(std::fs::read_to_string(&log).unwrap(), row_line(1));
}

/// One HTTP/1.1 GET: status and body.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
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
fn metrics_count_a_follow_run_and_probes_answer() {
    let binary = detector("creates_n", CREATES_N);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let state = dir.path().join("state");
    let mut writer = append(&log);
    write_lines(&mut writer, 0..40);
    for _ in 0..30 {
        writer
            .write_all(b"{\"Timestamp\":\"2024-05-28T10:00:00Z\",\"OperationName\":\"get\"}\n")
            .unwrap();
    }
    for _ in 0..5 {
        writer
            .write_all(b"{\"OperationName\":\"create\", broken\n")
            .unwrap();
    }
    let service = Service::start(
        &binary,
        &[
            "--follow",
            log.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
            "--metrics",
            "127.0.0.1:0",
        ],
    );
    let line = service.wait_stderr("metrics on http://");
    let addr = line
        .rsplit("http://")
        .next()
        .unwrap()
        .trim()
        .trim_end_matches("/metrics")
        .to_string();
    service.wait_rows(Duration::from_secs(20), |rows| rows.len() >= 40);
    let labels = format!(
        "{{source=\"follow\",path=\"{}\",format=\"auto\"}}",
        log.display()
    );
    let start = Instant::now();
    let metrics = loop {
        let (status, body) = get(&addr, "/metrics");
        assert_eq!(status, 200);
        let done = sample(&body, &format!("kqlc_events_read_total{labels}")) == Some(75.0)
            && sample(&body, "kqlc_checkpoint_writes_total") >= Some(1.0);
        if done || start.elapsed() > Duration::from_secs(10) {
            break body;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        sample(&metrics, &format!("kqlc_events_read_total{labels}")),
        Some(75.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, &format!("kqlc_events_rejected_total{labels}")),
        Some(5.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, &format!("kqlc_lines_skipped_total{labels}")),
        Some(30.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "kqlc_rows_emitted_total{rule=\"creates_n\"}"),
        Some(40.0),
        "{metrics}"
    );
    let age = sample(&metrics, "kqlc_checkpoint_age_seconds").unwrap();
    assert!((0.0..5.0).contains(&age), "{metrics}");
    assert!(metrics.contains("# TYPE kqlc_events_read_total counter"));
    assert_eq!(get(&addr, "/healthz"), (200, "ok\n".to_string()));
    assert_eq!(get(&addr, "/readyz"), (200, "ready\n".to_string()));
    assert_eq!(get(&addr, "/nothing").0, 404);

    // More lines: the counters move.
    write_lines(&mut writer, 40..60);
    service.wait_rows(Duration::from_secs(20), |rows| rows.len() >= 60);
    let (_, metrics) = get(&addr, "/metrics");
    assert_eq!(
        sample(&metrics, "kqlc_rows_emitted_total{rule=\"creates_n\"}"),
        Some(60.0),
        "{metrics}"
    );
    let (status, _, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
}

#[test]
fn a_follow_glob_never_reads_the_detectors_own_rejects_file() {
    // Issue 13 item 9, live: `--follow 'dir/*' --rejects dir/rejects.jsonl`
    // matches the rejects file; reading it would feed each bad line back
    // as a new bad line, without end. It is named once and not followed.
    let binary = detector("creates_n", CREATES_N);
    let dir = tempfile::tempdir().unwrap();
    let mut writer = append(&dir.path().join("audit.log"));
    write_lines(&mut writer, 0..20);
    writer.write_all(b"{\"broken\n").unwrap();
    let pattern = format!("{}/*", dir.path().display());
    let rejects = dir.path().join("rejects.jsonl");
    let service = Service::start(
        &binary,
        &["--follow", &pattern, "--rejects", rejects.to_str().unwrap()],
    );
    let note = service.wait_stderr("not followed");
    assert!(
        note.contains("rejects.jsonl: matches --follow")
            && note.contains("is this detector's --rejects"),
        "{note}"
    );
    write_lines(&mut writer, 20..40);
    writer.write_all(b"{\"broken again\n").unwrap();
    service.wait_rows(Duration::from_secs(20), |rows| rows.len() >= 40);
    // A few polls more: a rejects file read back would grow line by line.
    std::thread::sleep(Duration::from_millis(500));
    let (status, rows, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    assert_eq!(rows.len(), 40, "{stderr:?}");
    let rejected = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(rejected, "{\"broken\n{\"broken again\n", "{stderr:?}");
    let summary = stderr.iter().find(|l| l.starts_with("summary: ")).unwrap();
    assert!(summary.contains("2 rejected"), "{summary}");
    assert_eq!(
        stderr.iter().filter(|l| l.contains("not followed")).count(),
        1,
        "{stderr:?}"
    );
}

/// A rule file's text: more than 5 execs by one user in a 10-minute bin.
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

/// The same threshold as a Sentinel rule that alerts only when more than
/// one user passes it, then stays quiet for 20 minutes.
const MANY_EXECS_YAML: &str = "id: many-execs-quiet
name: Several users with many execs
severity: High
queryFrequency: 10m
queryPeriod: 10m
triggerOperator: gt
triggerThreshold: 1
suppressionEnabled: true
suppressionDuration: PT20M
query: |
  CloudAuditEvents
  | where OperationName == \"create\" and RawEventData.ObjectRef.subresource == \"exec\"
  | summarize n = count() by bin(Timestamp, 10m), User = tostring(RawEventData.User.username)
  | where n > 5
";

/// The first event's time: 2024-05-28T10:00:00Z, in seconds since the epoch.
const T0: i64 = 1_716_890_400;

fn exec_line(at: i64, user: &str, operation: &str, subresource: &str) -> String {
    let time = chrono::DateTime::from_timestamp(at, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ");
    format!(
        "{{\"Timestamp\":\"{time}\",\"OperationName\":\"{operation}\",\"RawEventData\":{{\"ObjectRef\":{{\"subresource\":\"{subresource}\"}},\"User\":{{\"username\":\"{user}\"}}}}}}\n"
    )
}

/// Events over `windows` 10-minute windows from [`T0`], in time order
/// across windows and shuffled inside each (the event clock takes the
/// newest time): per window and user, 0 to 10 execs (the threshold is
/// more than 5), with other operations between them; some at the very
/// first second of their window. The last window has alerts for both
/// rules, and a final exec opens one more window, so that every window's
/// tick comes. Returns the lines and each line's window.
fn exec_events(windows: i64) -> Vec<(i64, String)> {
    let users = ["alice", "bob", "carol", "dave"];
    let mut rng = Lcg(14);
    let mut lines = Vec::new();
    for window in 0..windows {
        let start = T0 + window * 600;
        let mut events: Vec<String> = Vec::new();
        for (u, user) in users.iter().enumerate() {
            let mut execs = rng.next(11);
            if window == windows - 1 && u < 2 {
                execs = 8;
            }
            for i in 0..execs {
                let at = if i == 0 && u == 0 {
                    start
                } else {
                    start + rng.next(600) as i64
                };
                events.push(exec_line(at, user, "create", "exec"));
            }
            for _ in 0..rng.next(4) {
                let at = start + rng.next(600) as i64;
                events.push(exec_line(at, user, "get", "log"));
                events.push(exec_line(at, user, "create", "attach"));
            }
        }
        // Shuffle inside the window (Fisher-Yates).
        for i in (1..events.len()).rev() {
            events.swap(i, rng.next(i as u64 + 1) as usize);
        }
        lines.extend(events.into_iter().map(|line| (window, line)));
    }
    lines.push((
        windows,
        exec_line(T0 + windows * 600 + 5, "erin", "create", "exec"),
    ));
    lines
}

/// The rows of a batch run of `binary` over `lines`.
fn batch_rows(binary: &Path, dir: &Path, lines: &[&str]) -> Vec<String> {
    let input = dir.join("window.jsonl");
    std::fs::write(&input, lines.concat()).unwrap();
    let output = Command::new(binary).arg(&input).output().unwrap();
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

/// The detector of [`MANY_EXECS`] and [`MANY_EXECS_YAML`], built by
/// `kqlc build` into `dir`, and its manifest.
fn build_execs_pack(dir: &Path) -> (PathBuf, serde_json::Value) {
    let pack = dir.join("pack");
    std::fs::create_dir(&pack).unwrap();
    std::fs::write(pack.join("many-execs.kql"), MANY_EXECS).unwrap();
    std::fs::write(pack.join("many-execs-quiet.yaml"), MANY_EXECS_YAML).unwrap();
    let binary = dir.join("execs");
    let built = kqlc()
        .arg("build")
        .arg(&pack)
        .arg("-o")
        .arg(&binary)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("execs.manifest.json")).unwrap())
            .unwrap();
    (binary, manifest)
}

/// The oracle: the alerts of the pack's detector in batch mode over each
/// window's lines of `events` (the first `windows`), in the order a live
/// run writes them, each rule with its trigger and suppression.
fn batch_alerts(
    binary: &Path,
    dir: &Path,
    manifest: &serde_json::Value,
    events: &[(i64, String)],
    windows: i64,
) -> Vec<String> {
    let quiet_for = 2; // windows: suppressionDuration / queryFrequency
    let mut expected = Vec::new();
    let mut quiet_until = -1;
    for window in 0..windows {
        let lines: Vec<&str> = events
            .iter()
            .filter(|(w, _)| *w == window)
            .map(|(_, l)| l.as_str())
            .collect();
        let rows = batch_rows(binary, dir, &lines);
        // The rules in the detector's order, each with its trigger.
        for rule in manifest["rules"].as_array().unwrap() {
            let id = rule["id"].as_str().unwrap();
            let mine: Vec<String> = rows
                .iter()
                .filter(|r| r.starts_with(&format!("{{\"_rule\":\"{id}\"")))
                .cloned()
                .collect();
            if id == "many-execs" {
                // Any row alerts.
                expected.extend(mine);
            } else if mine.len() > 1 && window + 1 >= quiet_until {
                // More than one row, and not within 20 minutes of its last
                // alert (a window's tick is its end: window + 1).
                expected.extend(mine);
                quiet_until = window + 1 + quiet_for;
            }
        }
    }
    expected
}

#[test]
fn scheduled_rules_with_the_event_clock_fire_what_batch_runs_over_each_window_give() {
    let dir = tempfile::tempdir().unwrap();
    let (binary, manifest) = build_execs_pack(dir.path());
    assert_eq!(manifest["rules"][0]["id"], "many-execs-quiet");
    assert_eq!(
        manifest["rules"][0]["schedule"],
        serde_json::json!({"frequency": 600, "period": 600, "trigger_operator": "gt", "trigger_threshold": 1, "suppression": 1200})
    );

    // The oracle: the same detector in batch mode over each window's lines.
    const WINDOWS: i64 = 8;
    let events = exec_events(WINDOWS);
    let expected = batch_alerts(&binary, dir.path(), &manifest, &events, WINDOWS);
    assert!(
        expected.len() >= WINDOWS as usize,
        "the events give alerts in most windows: {expected:#?}"
    );

    // Live: half the log is there at start, the rest comes in bursts.
    let log = dir.path().join("audit.log");
    let mut writer = append(&log);
    let half = events.len() / 2;
    for (_, line) in &events[..half] {
        writer.write_all(line.as_bytes()).unwrap();
    }
    writer.flush().unwrap();
    let service = Service::start(
        &binary,
        &[
            "--follow",
            log.to_str().unwrap(),
            "--clock",
            "event",
            "--metrics",
            "127.0.0.1:0",
        ],
    );
    let line = service.wait_stderr("metrics on http://");
    let addr = line
        .rsplit("http://")
        .next()
        .unwrap()
        .trim()
        .trim_end_matches("/metrics")
        .to_string();
    for burst in events[half..].chunks(37) {
        for (_, line) in burst {
            writer.write_all(line.as_bytes()).unwrap();
        }
        writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    // The last window's rows come only after the last line is read.
    service.wait_rows(Duration::from_secs(60), |rows| rows.len() >= expected.len());
    let start = Instant::now();
    let metrics = loop {
        let (_, body) = get(&addr, "/metrics");
        let runs = sample(&body, "kqlc_schedule_runs_total{rule=\"many-execs\"}");
        if runs == Some(WINDOWS as f64) || start.elapsed() > Duration::from_secs(10) {
            break body;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (status, rows, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    assert_eq!(rows, expected, "{stderr:#?}");
    assert_eq!(
        sample(&metrics, "kqlc_schedule_runs_total{rule=\"many-execs\"}"),
        Some(WINDOWS as f64),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "kqlc_schedule_buffered_rows{rule=\"many-execs\"}"),
        Some(1.0),
        "the last window's one exec waits for its tick: {metrics}"
    );
    assert!(
        sample(
            &metrics,
            "kqlc_schedule_suppressed_total{rule=\"many-execs-quiet\"}"
        ) > Some(0.0),
        "the events make the suppression matter: {metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "kqlc_schedule_dropped_rows_total{rule=\"many-execs\"}"
        ),
        Some(0.0)
    );
    // Run time and lag (the wall clock at the scrape minus the newest event
    // time read, the final exec's).
    assert!(
        sample(
            &metrics,
            "kqlc_schedule_run_seconds_total{rule=\"many-execs\"}"
        ) > Some(0.0),
        "{metrics}"
    );
    assert!(metrics.contains("# TYPE kqlc_schedule_last_run_seconds gauge"));
    let newest = (T0 + WINDOWS * 600 + 5) as f64;
    assert_eq!(
        sample(&metrics, "kqlc_newest_event_timestamp_seconds"),
        Some(newest),
        "{metrics}"
    );
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let lag = sample(&metrics, "kqlc_lag_seconds").unwrap();
    assert!(
        lag <= wall - newest && lag > wall - newest - 60.0,
        "lag {lag}, expected about {}: {metrics}",
        wall - newest
    );
    assert!(
        stderr.iter().any(|l| l
            .contains("rule many-execs: 1 buffered row waits for the run at 2024-05-28T11:30:00")),
        "{stderr:#?}"
    );
}

/// The rows of `rows` that are alerts (JSON objects), leaving out a row
/// torn by `kill -9`.
fn whole_rows(rows: &[String]) -> Vec<String> {
    rows.iter()
        .filter(|row| serde_json::from_str::<serde_json::Value>(row).is_ok())
        .cloned()
        .collect()
}

#[test]
fn kill_9_during_a_scheduled_replay_with_state_fires_each_batch_windows_alerts_with_bounded_repeats(
) {
    const WINDOWS: i64 = 24;
    const KILLS: usize = 5;
    const INTERVAL_MS: u64 = 100;
    let dir = tempfile::tempdir().unwrap();
    let (binary, manifest) = build_execs_pack(dir.path());
    let events = exec_events(WINDOWS);
    let expected = batch_alerts(&binary, dir.path(), &manifest, &events, WINDOWS);
    let mut unique = expected.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), expected.len(), "each alert is one row");

    let log = dir.path().join("audit.log");
    let state = dir.path().join("state");
    let (log_arg, state_arg) = (log.to_str().unwrap(), state.to_str().unwrap());
    let interval = format!("{INTERVAL_MS}ms");
    let args = [
        "--follow",
        log_arg,
        "--clock",
        "event",
        "--state",
        state_arg,
        "--checkpoint-interval",
        &interval,
    ];
    let seed = std::env::var("KQLC_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s != 0)
        .unwrap_or(0x5eed_0004);
    eprintln!("kill moments seed: {seed} (KQLC_CRASH_SEED)");
    let mut moments = Moments(seed);
    // The replay: a window's events in about 100 ms, in bursts of 5 lines.
    const BURST: usize = 5;
    const BURST_EVERY: Duration = Duration::from_millis(15);
    let lines: Vec<String> = events.iter().map(|(_, l)| l.clone()).collect();
    let writer_log = log.clone();
    let writer = std::thread::spawn(move || {
        let mut file = append(&writer_log);
        for burst in lines.chunks(BURST) {
            file.write_all(burst.concat().as_bytes()).unwrap();
            std::thread::sleep(BURST_EVERY);
        }
    });
    let mut outputs = Vec::new();
    for _ in 0..KILLS {
        let service = Service::start(&binary, &args);
        std::thread::sleep(Duration::from_millis(moments.next(200..700)));
        outputs.extend(whole_rows(&service.kill()));
        std::thread::sleep(Duration::from_millis(moments.next(0..200)));
    }
    writer.join().unwrap();
    let service = Service::start(&binary, &args);
    service.wait_stderr("from the checkpoint");
    let seen_all = |rows: &[String]| {
        expected
            .iter()
            .all(|e| outputs.contains(e) || rows.contains(e))
    };
    service.wait_rows(Duration::from_secs(60), seen_all);
    // Time for a repeat to show, were there one.
    std::thread::sleep(Duration::from_millis(300));
    let (status, rows, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    outputs.extend(rows);

    let mut union = outputs.clone();
    union.sort();
    union.dedup();
    assert_eq!(union, unique, "the alerts are those of the batch runs");
    let repeated = outputs.len() - union.len();
    // A kill repeats the runs made after the last checkpoint: at most the
    // windows the writer wrote in an interval plus 0.5 s of slack (one poll,
    // scheduling), each with at most the most alerts a window has.
    let windows_per_second = 1000.0 / (BURST_EVERY.as_millis() as f64) * BURST as f64
        / (events.len() as f64 / WINDOWS as f64);
    let per_window = (0..WINDOWS)
        .map(|w| {
            let time = chrono::DateTime::from_timestamp(T0 + w * 600, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string();
            expected.iter().filter(|e| e.contains(&time)).count()
        })
        .max()
        .unwrap();
    let per_kill =
        ((INTERVAL_MS as f64 / 1000.0 + 0.5) * windows_per_second).ceil() as usize * per_window;
    eprintln!(
        "{KILLS} kills, {} alerts: {repeated} repeated (bound {per_kill} per kill)",
        expected.len()
    );
    assert!(
        repeated <= KILLS * per_kill,
        "{repeated} repeated alerts, more than {per_kill} per kill"
    );
}

#[test]
fn sigterm_and_a_restart_with_state_keep_a_scheduled_window_that_spans_the_restart() {
    const WINDOWS: i64 = 6;
    let dir = tempfile::tempdir().unwrap();
    let (binary, manifest) = build_execs_pack(dir.path());
    let events = exec_events(WINDOWS);
    let expected = batch_alerts(&binary, dir.path(), &manifest, &events, WINDOWS);
    let log = dir.path().join("audit.log");
    let state = dir.path().join("state");
    let args = [
        "--follow",
        log.to_str().unwrap(),
        "--clock",
        "event",
        "--state",
        state.to_str().unwrap(),
    ];
    // Stop in the middle of window 3, which has alerts of both rules: its
    // first half is read before SIGTERM, its second half after the restart.
    let middle = events
        .iter()
        .position(|(w, _)| *w == 3)
        .map(|start| start + events.iter().filter(|(w, _)| *w == 3).count() / 2)
        .unwrap();
    let mut writer = append(&log);
    for (_, line) in &events[..middle] {
        writer.write_all(line.as_bytes()).unwrap();
    }
    writer.flush().unwrap();
    let before: Vec<&String> = expected
        .iter()
        .take_while(|e| !e.contains("2024-05-28T10:30:00"))
        .collect();
    let service = Service::start(&binary, &args);
    service.wait_rows(Duration::from_secs(30), |rows| rows.len() >= before.len());
    let (status, first, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("rule many-execs:")
                && l.contains("for the run at 2024-05-28T10:40:00")),
        "{stderr:#?}"
    );
    let checkpoint: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("checkpoint.json")).unwrap())
            .unwrap();
    let held: usize = checkpoint["schedules"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["rows"].as_array().unwrap().len())
        .sum();
    assert!(held > 0, "the window's first half is in the checkpoint");

    // While it is down, the rest of the log.
    for (_, line) in &events[middle..] {
        writer.write_all(line.as_bytes()).unwrap();
    }
    writer.flush().unwrap();
    let service = Service::start(&binary, &args);
    let restored = service.wait_stderr("scheduled rules resume with");
    assert!(restored.contains("buffered row"), "{restored}");
    service.wait_rows(Duration::from_secs(30), |rows| {
        first.len() + rows.len() >= expected.len()
    });
    std::thread::sleep(Duration::from_millis(300));
    let (status, second, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    let all: Vec<String> = first.iter().chain(&second).cloned().collect();
    assert_eq!(all, expected, "nothing repeated, nothing lost: {stderr:#?}");
}

#[test]
fn a_stateful_rule_without_a_schedule_is_refused_in_live_mode_with_help() {
    let binary = detector(
        "execs_by_user",
        "CloudAuditEvents | summarize n = count() by tostring(RawEventData.User.username)",
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::write(&log, exec_line(T0, "alice", "create", "exec")).unwrap();
    let mut child = Command::new(&binary)
        .args(["--follow", log.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = exit_status(&mut child);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("error: rule execs_by_user keeps state")
            && stderr.contains("help: add '// @frequency 10m'"),
        "{stderr}"
    );
    // Batch mode runs it as always.
    let output = Command::new(&binary).arg(&log).output().unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 1);
}

#[test]
fn a_scheduled_rule_over_its_row_bound_says_so_and_runs_over_the_newest_rows() {
    let binary = detector(
        "execs_bounded",
        "// @frequency 10m\nCloudAuditEvents | where OperationName == 'create' | count",
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let mut text = String::new();
    for i in 0..20 {
        text.push_str(&exec_line(T0 + i, "alice", "create", "exec"));
    }
    text.push_str(&exec_line(T0 + 600, "alice", "create", "exec"));
    std::fs::write(&log, text).unwrap();
    let service = Service::start(
        &binary,
        &[
            "--follow",
            log.to_str().unwrap(),
            "--clock",
            "event",
            "--max-buffered-rows",
            "5",
        ],
    );
    let rows = service.wait_rows(Duration::from_secs(30), |rows| !rows.is_empty());
    assert_eq!(rows, ["{\"Count\":5}"]);
    service.wait_stderr("the run at 2024-05-28T10:10:00");
    let (status, _, stderr) = service.terminate();
    assert_eq!(status, Some(0), "{stderr:?}");
    let warnings: Vec<&String> = stderr
        .iter()
        .filter(|l| l.contains("--max-buffered-rows"))
        .collect();
    assert!(
        warnings[0].contains("warning: rule execs_bounded: it holds --max-buffered-rows rows; the oldest are dropped until its run at 2024-05-28T10:10:00"),
        "{stderr:#?}"
    );
    assert!(
        warnings[1].contains("the run at 2024-05-28T10:10:00")
            && warnings[1].contains("lacks 15 rows"),
        "{stderr:#?}"
    );
}
