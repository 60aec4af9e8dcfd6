//! `--listen ADDR`: the Kubernetes API server's audit webhook backend.
//!
//! The API server POSTs an `audit.k8s.io/v1` `EventList` (in its `batch`
//! and `blocking` modes) to the URL of its webhook kubeconfig, and retries
//! a batch that did not get a 2xx answer. So a request is answered:
//! - **200** only after every event of the batch went through the rules and
//!   the rows they gave were written and flushed (events the normalizer
//!   rejects are reported on stderr, as a bad line is, and not retried);
//! - **400** for a body that is not JSON or not an `EventList`;
//! - **401** for a missing or wrong bearer token (`--token-file`);
//! - **405** for a method other than POST;
//! - **413** for a body over `--max-body-bytes`;
//! - **429** (with `Retry-After`) when `--queue` batches are already waiting;
//! - **503** (with `Retry-After`) once the detector is shutting down.
//!
//! Each refusal carries a one-line reason, and the server goes on serving.
//! HTTP runs on a small tokio runtime (hyper), TLS on rustls with the
//! `ring` provider, with client certificates (`--tls-client-ca`) checked by
//! rustls' WebPKI verifier. The body is parsed and normalized on the
//! server's threads; the rules and the output stay on the detector's thread
//! (`Server::process`), in the order batches were queued.

use crate::detector::{Session, Stop};
use crate::live::{LiveOptions, DEFAULT_MAX_BODY_BYTES, DEFAULT_QUEUE};
use crate::parallel::{LineWork, RecordRows};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use kql_runtime::record::describe;
use kql_runtime::value::Value;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio_rustls::rustls;

/// Connections served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 256;

/// How long a client has to send a request's headers, and to finish a TLS
/// handshake.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// How long shutdown waits for requests in flight to be answered.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What `--listen` and its options say, with the files read.
pub struct Config {
    addr: String,
    tls: Option<rustls::ServerConfig>,
    token: Option<Vec<u8>>,
    max_body_bytes: usize,
    queue: usize,
}

impl Config {
    /// Reads the certificate, key, CA and token files the options name.
    /// Each error names its option and file.
    pub fn from_options(addr: &str, options: &LiveOptions) -> Result<Config, String> {
        let token = match &options.token_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("--token-file {path}: cannot read: {e}"))?;
                let token = text.trim();
                if token.is_empty() {
                    return Err(format!("--token-file {path}: the file holds no token"));
                }
                Some(token.as_bytes().to_vec())
            }
            None => None,
        };
        let tls = match (&options.tls_cert, &options.tls_key) {
            (Some(cert), Some(key)) => {
                Some(tls_config(cert, key, options.tls_client_ca.as_deref())?)
            }
            _ => None,
        };
        Ok(Config {
            addr: addr.to_string(),
            tls,
            token,
            max_body_bytes: options.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
            queue: options.queue.unwrap_or(DEFAULT_QUEUE),
        })
    }
}

/// The rustls server configuration: the certificate chain and key, and
/// client certificates checked against `client_ca` when given.
fn tls_config(
    cert: &str,
    key: &str,
    client_ca: Option<&str>,
) -> Result<rustls::ServerConfig, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| format!("--tls-cert {cert}: cannot read a PEM certificate chain: {e}"))?;
    if certs.is_empty() {
        return Err(format!("--tls-cert {cert}: no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("--tls-key {key}: cannot read a PEM private key: {e}"))?;
    // ring, not aws-lc-rs: pure Rust and assembly, no cmake in a detector
    // build. rustls marks it deprecated for lacking post-quantum key
    // exchange, which the API server's Go client does not offer either.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match client_ca {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            let cas = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    format!("--tls-client-ca {path}: cannot read PEM certificates: {e}")
                })?;
            for ca in cas {
                roots.add(ca).map_err(|e| {
                    format!("--tls-client-ca {path}: not a usable CA certificate: {e}")
                })?;
            }
            if roots.is_empty() {
                return Err(format!(
                    "--tls-client-ca {path}: no certificate in the file"
                ));
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| format!("--tls-client-ca {path}: {e}"))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("--tls-cert {cert} with --tls-key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A request's events, queued for the detector's thread.
struct Batch {
    /// Names the request in messages: `webhook PEER #N`.
    source: String,
    /// The body, for `--rejects`.
    body: Bytes,
    records: Vec<RecordRows>,
    /// Items the prefilter skipped unparsed (no rule can match them).
    skipped: u64,
    reply: oneshot::Sender<Reply>,
}

/// What the detector's thread made of a batch.
enum Reply {
    Done { events: usize, rejected: usize },
    Failed(StatusCode, String),
}

/// State the request handlers share.
struct Shared {
    /// The queue's sending side; `None` once shutting down.
    queue: RwLock<Option<SyncSender<Batch>>>,
    queue_len: usize,
    token: Option<Vec<u8>>,
    max_body_bytes: usize,
    work: Mutex<LineWork>,
    requests: AtomicU64,
}

/// The running webhook server.
pub struct Server {
    runtime: tokio::runtime::Runtime,
    shared: Arc<Shared>,
    batches: Receiver<Batch>,
    local: SocketAddr,
    tls: bool,
    stopping: Arc<AtomicBool>,
    accept_loop: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Binds `config.addr` and starts serving; `work` normalizes the events
    /// (format `k8s`).
    pub fn start(config: Config, work: LineWork) -> Result<Server, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kql-webhook")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| format!("cannot start the server's threads: {e}"))?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(&config.addr))
            .map_err(|e| format!("cannot listen: {e}"))?;
        let local = listener
            .local_addr()
            .map_err(|e| format!("cannot listen: {e}"))?;
        let (sender, batches) = mpsc::sync_channel(config.queue);
        let shared = Arc::new(Shared {
            queue: RwLock::new(Some(sender)),
            queue_len: config.queue,
            token: config.token,
            max_body_bytes: config.max_body_bytes,
            work: Mutex::new(work),
            requests: AtomicU64::new(0),
        });
        let tls = config.tls.is_some();
        let acceptor = config
            .tls
            .map(|tls| tokio_rustls::TlsAcceptor::from(Arc::new(tls)));
        let stopping = Arc::new(AtomicBool::new(false));
        let accept_loop = runtime.spawn(accept_loop(
            listener,
            acceptor,
            Arc::clone(&shared),
            Arc::clone(&stopping),
        ));
        Ok(Server {
            runtime,
            shared,
            batches,
            local,
            tls,
            stopping,
            accept_loop: Some(accept_loop),
        })
    }

    /// The address served, as a URL.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.local)
    }

    /// Runs the queued batches through the rules (waiting up to `wait` for
    /// the first), flushes the output, then answers their requests.
    pub(crate) fn process<W: Write, E: Write>(
        &mut self,
        session: &mut Session<'_, W, E>,
        wait: Duration,
    ) -> Result<(), Stop> {
        let first = match self.batches.recv_timeout(wait) {
            Ok(batch) => batch,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return Ok(()),
        };
        let mut done: Vec<(oneshot::Sender<Reply>, Reply)> = Vec::new();
        let mut next = Some(first);
        let mut stop = None;
        while let Some(batch) = next.take() {
            let events = batch.records.len() + batch.skipped as usize;
            let rejected = batch.records.iter().filter(|r| r.is_err()).count();
            match session.take_unit_skipping(
                &batch.source,
                1,
                &batch.body,
                batch.records,
                batch.skipped,
            ) {
                Ok(()) => done.push((batch.reply, Reply::Done { events, rejected })),
                Err(e) => {
                    let (status, reason) = match &e {
                        Stop::Strict => (
                            StatusCode::BAD_REQUEST,
                            "an event was rejected and --strict stops the detector".to_string(),
                        ),
                        Stop::Write(e) => (
                            StatusCode::INTERNAL_SERVER_ERROR,
                            format!("writing results failed: {e}"),
                        ),
                        Stop::NoThread(message) => {
                            (StatusCode::INTERNAL_SERVER_ERROR, message.clone())
                        }
                    };
                    let _ = batch.reply.send(Reply::Failed(status, reason));
                    stop = Some(e);
                    break;
                }
            }
            // Batches already waiting are taken too: one flush for all.
            if done.len() < 256 {
                next = self.batches.try_recv().ok();
            }
        }
        let flushed = session.flush_output();
        for (reply, outcome) in done {
            let outcome = match &flushed {
                Ok(()) => outcome,
                Err(e) => Reply::Failed(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("writing results failed: {e}"),
                ),
            };
            let _ = reply.send(outcome);
        }
        if let Some(stop) = stop {
            return Err(stop);
        }
        flushed.map_err(Stop::Write)
    }

    /// Stops taking requests (503 from now on), processes and answers the
    /// batches already queued, and waits (up to [`SHUTDOWN_GRACE`]) for
    /// the answers to go out.
    pub(crate) fn close<W: Write, E: Write>(
        &mut self,
        session: &mut Session<'_, W, E>,
    ) -> Result<(), Stop> {
        self.stopping.store(true, Ordering::SeqCst);
        if let Ok(mut queue) = self.shared.queue.write() {
            queue.take();
        }
        let deadline = std::time::Instant::now() + SHUTDOWN_GRACE;
        let mut result = Ok(());
        loop {
            // Handlers hold a clone of the sender only while queueing: the
            // queue disconnects once those in progress have queued.
            match self.batches.recv_timeout(Duration::from_millis(20)) {
                Ok(batch) => {
                    // Put it back in front by processing it directly.
                    let (sender, receiver) = mpsc::sync_channel(1);
                    let _ = sender.send(batch);
                    let mut single = std::mem::replace(&mut self.batches, receiver);
                    if result.is_ok() {
                        result = self.process(session, Duration::ZERO);
                    }
                    std::mem::swap(&mut self.batches, &mut single);
                }
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) if std::time::Instant::now() > deadline => break,
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
        if let Some(accept_loop) = self.accept_loop.take() {
            let _ = self
                .runtime
                .block_on(async { tokio::time::timeout(SHUTDOWN_GRACE, accept_loop).await });
        }
        result
    }
}

/// Accepts connections until `stopping`, serving each on its own task;
/// then waits for the connections' requests in flight.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    stopping: Arc<AtomicBool>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    while !stopping.load(Ordering::SeqCst) {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break;
        };
        let accepted = tokio::time::timeout(Duration::from_millis(50), listener.accept()).await;
        let (stream, peer) = match accepted {
            Ok(Ok(accepted)) => accepted,
            // Out of descriptors and the like: wait a little, go on.
            Ok(Err(_)) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(_) => continue,
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let watcher = graceful.watcher();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, std::convert::Infallible>(handle(request, &shared, peer).await) }
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            match acceptor {
                None => {
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    let _ = watcher.watch(connection).await;
                }
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(stream)).await;
                    let Ok(Ok(stream)) = handshake else {
                        // A failed handshake (no or a bad client
                        // certificate) is the client's to see.
                        return;
                    };
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    let _ = watcher.watch(connection).await;
                }
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

/// Answers one request.
async fn handle(
    request: Request<Incoming>,
    shared: &Shared,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let number = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    if request.method() != Method::POST {
        let mut response = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!(
                "{} is not accepted: the audit webhook takes a POST of an EventList",
                request.method()
            ),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    if let Some(token) = &shared.token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "));
        let reason = match given {
            None => Some("a bearer token is required (Authorization: Bearer ...)"),
            Some(given) if !same_bytes(given, token) => {
                Some("the bearer token is not the one expected")
            }
            Some(_) => None,
        };
        if let Some(reason) = reason {
            let mut response = reply(StatusCode::UNAUTHORIZED, reason);
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kql-detector\""),
            );
            return response;
        }
    }
    let too_large = || {
        reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "the request body is larger than the limit of {} bytes (--max-body-bytes)",
                shared.max_body_bytes
            ),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > shared.max_body_bytes as u64) {
        return too_large();
    }
    let body = match Limited::new(request.into_body(), shared.max_body_bytes)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return too_large()
        }
        Err(e) => {
            return reply(
                StatusCode::BAD_REQUEST,
                &format!("reading the request body failed: {e}"),
            )
        }
    };
    let mut work = match shared.work.lock() {
        Ok(work) => work.clone(),
        Err(_) => {
            return reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the server's state is poisoned",
            )
        }
    };
    // Items no rule can match are skipped unparsed when that cannot change
    // what the request gets (`LineWork::event_list`); otherwise the body
    // is parsed whole.
    let (records, skipped) = match work.event_list(&body) {
        Some(outcome) => outcome,
        None => {
            let value: Value = match serde_json::from_slice(&body) {
                Ok(value) => value,
                Err(e) => return reply(StatusCode::BAD_REQUEST, &format!("malformed JSON: {e}")),
            };
            if let Err(reason) = check_event_list(&value) {
                return reply(StatusCode::BAD_REQUEST, &reason);
            }
            (work.value(value), 0)
        }
    };
    let (reply_to, answer) = oneshot::channel();
    let batch = Batch {
        source: format!("webhook {peer} #{number}"),
        body,
        records,
        skipped,
        reply: reply_to,
    };
    let sender = shared.queue.read().ok().and_then(|queue| queue.clone());
    let queued = match sender {
        Some(sender) => sender.try_send(batch),
        None => Err(TrySendError::Disconnected(batch)),
    };
    match queued {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return retry_later(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "the queue is full ({} batches waiting, --queue): retry",
                    shared.queue_len
                ),
                1,
            )
        }
        Err(TrySendError::Disconnected(_)) => {
            return retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                "the detector is shutting down: retry",
                5,
            )
        }
    }
    match answer.await {
        Ok(Reply::Done { events, rejected }) => reply(
            StatusCode::OK,
            &format!("{{\"events\":{events},\"rejected\":{rejected}}}"),
        ),
        Ok(Reply::Failed(status, reason)) => reply(status, &reason),
        Err(_) => retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "the detector stopped before processing the batch: retry",
            5,
        ),
    }
}

/// `Ok` for an `EventList` of `audit.k8s.io`; otherwise why not.
fn check_event_list(value: &Value) -> Result<(), String> {
    let Value::Bag(bag) = value else {
        return Err(format!(
            "expected an audit.k8s.io/v1 EventList (a JSON object), found {}",
            describe(value)
        ));
    };
    match bag.get("kind") {
        Some(Value::String(kind)) if kind.as_str() == "EventList" => {}
        Some(other) => {
            return Err(format!(
                "expected an audit.k8s.io/v1 EventList, found kind {}",
                describe(other)
            ))
        }
        None => {
            return Err(
                "expected an audit.k8s.io/v1 EventList, found an object without 'kind'".to_string(),
            )
        }
    }
    match bag.get("apiVersion") {
        Some(Value::String(version)) if version.as_str().starts_with("audit.k8s.io/") => Ok(()),
        Some(other) => Err(format!(
            "expected an audit.k8s.io/v1 EventList, found apiVersion {}",
            describe(other)
        )),
        None => Ok(()),
    }
}

/// A response with a one-line text body.
fn reply(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *response.status_mut() = status;
    let kind = if status == StatusCode::OK {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    response
}

/// A refusal the client should retry after `seconds`.
fn retry_later(status: StatusCode, text: &str, seconds: u32) -> Response<Full<Bytes>> {
    let mut response = reply(status, text);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// Compares a given token with the expected one in time that does not
/// depend on where they differ.
fn same_bytes(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    given
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn only_an_audit_event_list_is_accepted() {
        assert!(check_event_list(&json(
            r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}"#
        ))
        .is_ok());
        assert!(
            check_event_list(&json(r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1"}"#))
                .unwrap_err()
                .contains("found kind string 'Event'")
        );
        assert!(
            check_event_list(&json(r#"{"kind":"EventList","apiVersion":"v1"}"#))
                .unwrap_err()
                .contains("apiVersion")
        );
        assert!(check_event_list(&json("[1]"))
            .unwrap_err()
            .contains("JSON object"));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abd", b"abc"));
        assert!(!same_bytes(b"ab", b"abc"));
    }
}
