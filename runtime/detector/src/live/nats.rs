//! `--nats URL --stream NAME --consumer NAME`: a NATS JetStream source.
//!
//! The detector reads the stream through a durable pull consumer. Any
//! number of detectors may name the same consumer: JetStream hands each
//! message to one of them. The consumer is created when it is missing
//! (explicit acks, [`ACK_WAIT`], [`MAX_ACK_PENDING`], `--subject` as its
//! filter, `--deliver all` by default: from the stream's start; `new`:
//! from the messages stored after; `since T`: from the first message
//! stored at or after T), and used as it is when it exists.
//!
//! A message is one JSON value in any format the detector reads (a
//! CloudAuditEvents row, a Kubernetes audit `Event` or `EventList`, an
//! AKS, EKS, GKE or ARM record). It goes through the rules as a line of a
//! file does, named `nats:STREAM/CONSUMER` with its stream sequence as its
//! position (in messages and alerts). Then:
//! - a batch of messages is **acked** only after the rows they gave were
//!   written and flushed (at least once: a detector killed before that
//!   leaves them to be redelivered after [`ACK_WAIT`]);
//! - a message none of whose records could be read (not JSON, not a known
//!   format) is reported like a bad line, written to `--rejects`, and
//!   **terminated** (`+TERM`), so it is not redelivered forever;
//! - when writing or flushing the output fails, the batch's messages are
//!   **nak**ed with [`NAK_DELAY`] (another instance, or this one restarted,
//!   takes them again) and the detector stops, as in batch mode.
//!
//! Fetching runs on a small tokio runtime (the client's connection task
//! lives there); the rules and the output stay on the detector's thread,
//! which waits for each pull (`Consumer::process`).

use crate::detector::{Session, Stop};
use crate::live::{Deliver, LiveOptions};
use crate::parallel::LineWork;
use async_nats::jetstream::{self, consumer::pull, message::PublishMessage, AckKind};
use futures_util::StreamExt;
use std::io::Write;
use std::time::Duration;

/// Messages asked for in one pull.
pub const BATCH: usize = 256;

/// How long a pull waits for messages when JetStream is the only source;
/// SIGTERM is seen within about this time.
pub const PULL_WAIT: Duration = Duration::from_millis(500);

/// The ack wait of a consumer the detector creates: a message not acked
/// within it is delivered again (to any instance).
pub const ACK_WAIT: Duration = Duration::from_secs(30);

/// The most messages delivered and not yet acked, over all instances, of
/// a consumer the detector creates.
pub const MAX_ACK_PENDING: i64 = 4 * BATCH as i64;

/// How long JetStream holds back a message naked after an output failure.
pub const NAK_DELAY: Duration = Duration::from_secs(5);

/// How long closing waits for the last acks to reach the server.
const FLUSH_WAIT: Duration = Duration::from_secs(5);

/// How to reach the `--nats` server: its URL(s), credentials and TLS
/// (`--nats-creds`, `--nats-nkey`, `--nats-token-file`, `--nats-tls-ca`,
/// `--nats-tls-cert`, `--nats-tls-key`). Used by the consumer and by
/// `--publish`.
#[derive(Clone, Debug, Default)]
pub struct Connect {
    url: String,
    creds: Option<String>,
    nkey: Option<String>,
    token_file: Option<String>,
    tls_ca: Option<String>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
}

impl Connect {
    /// The connection `--nats URL` and its options describe.
    pub fn from_options(url: &str, options: &LiveOptions) -> Connect {
        Connect {
            url: url.to_string(),
            creds: options.nats_creds.clone(),
            nkey: options.nats_nkey.clone(),
            token_file: options.nats_token_file.clone(),
            tls_ca: options.nats_tls_ca.clone(),
            tls_cert: options.nats_tls_cert.clone(),
            tls_key: options.nats_tls_key.clone(),
        }
    }

    /// Connects, with the credentials and TLS asked for.
    pub async fn connect(&self) -> Result<async_nats::Client, String> {
        let mut options = async_nats::ConnectOptions::new().name("kql-detector");
        if let Some(path) = &self.creds {
            options = options
                .credentials_file(path)
                .await
                .map_err(|e| format!("--nats-creds {path}: {e}"))?;
        }
        if let Some(path) = &self.nkey {
            let seed = secret_file("--nats-nkey", path)?;
            options = options.nkey(seed);
        }
        if let Some(path) = &self.token_file {
            let token = secret_file("--nats-token-file", path)?;
            options = options.token(token);
        }
        if let Some(path) = &self.tls_ca {
            options = options.add_root_certificates(path.into()).require_tls(true);
        }
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            options = options
                .add_client_certificate(cert.into(), key.into())
                .require_tls(true);
        }
        options
            .connect(self.url.as_str())
            .await
            .map_err(|e| format!("cannot connect: {e}"))
    }
}

/// The first line of a file holding a secret (an NKey seed, a token).
fn secret_file(flag: &str, path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{flag} {path}: {e}"))?;
    let secret = text.lines().map(str::trim).find(|l| !l.is_empty());
    secret
        .map(str::to_string)
        .ok_or_else(|| format!("{flag} {path}: the file is empty"))
}

/// What `--nats` and its options say.
#[derive(Clone, Debug)]
pub struct Config {
    connect: Connect,
    stream: String,
    consumer: String,
    subject: Option<String>,
    deliver: Deliver,
    rejects: Option<String>,
}

impl Config {
    /// The configuration of `--nats URL` (the options were checked).
    pub fn from_options(url: &str, options: &LiveOptions) -> Config {
        Config {
            connect: Connect::from_options(url, options),
            stream: options.stream.clone().unwrap_or_default(),
            consumer: options.consumer.clone().unwrap_or_default(),
            subject: options.subject.clone(),
            deliver: options.deliver,
            rejects: options.nats_rejects.clone(),
        }
    }
}

/// What the consumer has done, for `--metrics`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsumerCounts {
    /// `nats:STREAM/CONSUMER`.
    pub name: String,
    /// Messages received.
    pub received: u64,
    /// Messages received that had been delivered before (redeliveries:
    /// unacked by an instance that stopped, or nak'ed).
    pub redelivered: u64,
    /// Messages acked.
    pub acked: u64,
    /// Messages nak'ed (output failures).
    pub naked: u64,
    /// Messages terminated (unreadable).
    pub terminated: u64,
    /// Unreadable messages copied to `--nats-rejects`.
    pub rejects_copied: u64,
    /// Copies to `--nats-rejects` that failed (the message is nak'ed).
    pub rejects_failed: u64,
    /// Messages still to deliver after the last one received, as the
    /// server said with it.
    pub pending: u64,
}

/// A durable pull consumer being read.
pub struct Consumer {
    runtime: tokio::runtime::Runtime,
    client: async_nats::Client,
    consumer: jetstream::consumer::Consumer<pull::Config>,
    /// `nats:STREAM/CONSUMER`, the source's name in messages.
    name: String,
    work: LineWork,
    /// A pull failed and that was reported: the next success is reported
    /// too, and failures until then are not.
    failing: bool,
    /// `--nats-rejects`: where unreadable messages are copied.
    rejects: Option<(jetstream::Context, String)>,
    stream: String,
    counts: ConsumerCounts,
}

impl Consumer {
    /// Connects, finds the stream, and gets or creates the consumer. Also
    /// returns notes for stderr (an existing consumer whose settings differ
    /// from the options).
    pub fn start(config: Config, work: LineWork) -> Result<(Consumer, Vec<String>), String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("kql-nats")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| format!("cannot start the client's thread: {e}"))?;
        let (client, consumer, notes) = runtime.block_on(connect(&config))?;
        let name = format!("nats:{}/{}", config.stream, config.consumer);
        let rejects = match &config.rejects {
            Some(subject) => {
                let context = runtime.block_on(async {
                    let context = jetstream::new(client.clone());
                    context.stream_by_subject(subject).await.map(|_| context)
                });
                match context {
                    Ok(context) => Some((context, subject.clone())),
                    Err(e) => {
                        return Err(format!(
                            "--nats-rejects {subject}: no JetStream stream stores this subject ({e}); create one, e.g. nats stream add REJECTS --subjects '{subject}'"
                        ))
                    }
                }
            }
            None => None,
        };
        Ok((
            Consumer {
                runtime,
                client,
                consumer,
                counts: ConsumerCounts {
                    name: name.clone(),
                    ..ConsumerCounts::default()
                },
                name,
                work,
                failing: false,
                rejects,
                stream: config.stream.clone(),
            },
            notes,
        ))
    }

    /// The source's name: `nats:STREAM/CONSUMER`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the consumer has done so far.
    pub fn counts(&self) -> &ConsumerCounts {
        &self.counts
    }

    /// Pulls up to [`BATCH`] messages (waiting up to `wait` for them), runs
    /// them through the rules, flushes the output, then acks them.
    /// `Ok(true)` when messages came.
    pub(crate) fn process<W: Write, E: Write>(
        &mut self,
        session: &mut Session<'_, W, E>,
        wait: Duration,
    ) -> Result<bool, Stop> {
        let (messages, failed) = self.runtime.block_on(pull(&self.consumer, wait));
        match failed {
            None if self.failing => {
                self.failing = false;
                session.report(format_args!("{}: pulling messages again", self.name))?;
            }
            None => {}
            Some(e) => {
                if !self.failing {
                    self.failing = true;
                    session.report(format_args!(
                        "{}: pulling messages failed: {e} (retrying)",
                        self.name
                    ))?;
                }
                if messages.is_empty() {
                    // The server is away or refusing: not at once again.
                    std::thread::sleep(wait.max(Duration::from_millis(100)));
                }
            }
        }
        if messages.is_empty() {
            return Ok(false);
        }
        // What each message gets once the output is flushed, and why an
        // unreadable one could not be read.
        let mut outcomes: Vec<AckKind> = Vec::with_capacity(messages.len());
        let mut reasons: Vec<Option<String>> = Vec::with_capacity(messages.len());
        let mut stop = None;
        for message in &messages {
            let (sequence, delivered, pending) = message.info().map_or((0, 1, 0), |info| {
                (info.stream_sequence, info.delivered, info.pending)
            });
            self.counts.received += 1;
            self.counts.pending = pending;
            if delivered > 1 {
                self.counts.redelivered += 1;
            }
            match session.take_message(&self.name, sequence, &message.payload, &mut self.work) {
                Ok(taken) if taken.rejected > 0 && taken.rejected == taken.total => {
                    outcomes.push(AckKind::Term);
                    reasons.push(taken.reason);
                }
                Ok(_) => {
                    outcomes.push(AckKind::Ack);
                    reasons.push(None);
                }
                // --strict: the bad message was reported; it ends the run.
                Err(Stop::Strict) => {
                    outcomes.push(AckKind::Term);
                    reasons.push(Some("rejected with --strict".to_string()));
                    stop = Some(Stop::Strict);
                    break;
                }
                Err(e) => {
                    stop = Some(e);
                    break;
                }
            }
        }
        let flushed = session.flush_output();
        let written_ok = flushed.is_ok() && !matches!(stop, Some(Stop::Write(_)));
        // Unreadable messages are copied to --nats-rejects before they are
        // terminated; a copy that fails leaves the message nak'ed.
        if let (Some((context, subject)), true) = (&self.rejects, written_ok) {
            for (i, message) in messages.iter().enumerate() {
                let Some(reason) = reasons.get(i).cloned().flatten() else {
                    continue;
                };
                let sequence = message.info().map_or(0, |info| info.stream_sequence);
                let copied = self.runtime.block_on(copy_reject(
                    context,
                    subject,
                    &self.stream,
                    sequence,
                    &message.subject,
                    &reason,
                    message.payload.clone(),
                ));
                match copied {
                    Ok(()) => self.counts.rejects_copied += 1,
                    Err(e) => {
                        self.counts.rejects_failed += 1;
                        outcomes[i] = AckKind::Nak(Some(NAK_DELAY));
                        session.report(format_args!(
                            "{}:{sequence}: cannot copy the unreadable message to --nats-rejects {subject}: {e} (nak'ed: it is delivered again)",
                            self.name
                        ))?;
                    }
                }
            }
        }
        let acks: Vec<(&jetstream::Message, AckKind)> = messages
            .iter()
            .enumerate()
            .map(|(i, message)| {
                let kind = match outcomes.get(i) {
                    Some(kind) if written_ok => *kind,
                    // Unwritten, or not reached before --strict stopped.
                    _ => AckKind::Nak(Some(NAK_DELAY)),
                };
                (message, kind)
            })
            .collect();
        for (_, kind) in &acks {
            match kind {
                AckKind::Ack => self.counts.acked += 1,
                AckKind::Term => self.counts.terminated += 1,
                _ => self.counts.naked += 1,
            }
        }
        let acked = self.runtime.block_on(async {
            for (message, kind) in acks {
                message.ack_with(kind).await?;
            }
            self.client.flush().await?;
            Ok::<(), async_nats::Error>(())
        });
        if let Err(e) = acked {
            // Not acked: JetStream delivers them again after the ack wait.
            session.report(format_args!(
                "{}: acking failed: {e} (the messages will be delivered again)",
                self.name
            ))?;
        }
        if let Some(stop) = stop {
            return Err(stop);
        }
        flushed.map_err(Stop::Write)?;
        Ok(true)
    }

    /// Makes sure the last acks reached the server.
    pub(crate) fn close(&mut self) {
        let client = self.client.clone();
        let _ = self
            .runtime
            .block_on(async { tokio::time::timeout(FLUSH_WAIT, client.flush()).await });
    }
}

/// Connects to `config.url` and gets or creates the consumer.
async fn connect(
    config: &Config,
) -> Result<
    (
        async_nats::Client,
        jetstream::consumer::Consumer<pull::Config>,
        Vec<String>,
    ),
    String,
> {
    let client = config.connect.connect().await?;
    let context = jetstream::new(client.clone());
    let stream = context
        .get_stream(&config.stream)
        .await
        .map_err(|e| format!("--stream {}: {e}", config.stream))?;
    let wanted = pull::Config {
        durable_name: Some(config.consumer.clone()),
        deliver_policy: match config.deliver {
            Deliver::All => jetstream::consumer::DeliverPolicy::All,
            Deliver::New => jetstream::consumer::DeliverPolicy::New,
            Deliver::Since(at) => jetstream::consumer::DeliverPolicy::ByStartTime {
                start_time: at
                    .timestamp_nanos_opt()
                    .and_then(|n| time::OffsetDateTime::from_unix_timestamp_nanos(n.into()).ok())
                    .ok_or_else(|| format!("--deliver since {at}: out of range"))?,
            },
        },
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ack_wait: ACK_WAIT,
        max_ack_pending: MAX_ACK_PENDING,
        filter_subject: config.subject.clone().unwrap_or_default(),
        ..Default::default()
    };
    let mut consumer: jetstream::consumer::Consumer<pull::Config> = stream
        .get_or_create_consumer(&config.consumer, wanted)
        .await
        .map_err(|e| format!("--consumer {}: {e}", config.consumer))?;
    let mut notes = Vec::new();
    let info = consumer
        .info()
        .await
        .map_err(|e| format!("--consumer {}: {e}", config.consumer))?;
    if let Some(subject) = &config.subject {
        if info.config.filter_subject != *subject {
            notes.push(format!(
                "note: consumer {} exists with filter subject '{}'; it is used as it is (not --subject {subject})",
                config.consumer, info.config.filter_subject
            ));
        }
    }
    Ok((client, consumer, notes))
}

/// Copies an unreadable message to `--nats-rejects` and waits for the ack.
async fn copy_reject(
    context: &jetstream::Context,
    subject: &str,
    stream: &str,
    sequence: u64,
    source_subject: &async_nats::Subject,
    reason: &str,
    payload: bytes::Bytes,
) -> Result<(), String> {
    // Header values are one line of printable text.
    let reason: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let message = PublishMessage::build()
        .payload(payload)
        .message_id(format!("{stream}:{sequence}"))
        .header("Kqlc-Reject-Reason", reason.as_str())
        .header("Kqlc-Source-Stream", stream)
        .header("Kqlc-Source-Sequence", sequence.to_string().as_str())
        .header("Kqlc-Source-Subject", source_subject.as_str());
    let ack = context
        .send_publish(subject.to_string(), message)
        .await
        .map_err(|e| e.to_string())?;
    ack.await.map(|_| ()).map_err(|e| e.to_string())
}

/// The messages of one pull: up to [`BATCH`], waiting up to `wait` (no
/// waiting when zero), with the error that ended it early, if any (the
/// messages taken before it are processed all the same).
async fn pull(
    consumer: &jetstream::consumer::Consumer<pull::Config>,
    wait: Duration,
) -> (Vec<jetstream::Message>, Option<async_nats::Error>) {
    let batch = if wait.is_zero() {
        consumer.fetch().max_messages(BATCH).messages().await
    } else {
        consumer
            .batch()
            .max_messages(BATCH)
            .expires(wait)
            .messages()
            .await
    };
    let mut batch = match batch {
        Ok(batch) => batch,
        Err(e) => return (Vec::new(), Some(e.into())),
    };
    let mut messages = Vec::new();
    while let Some(message) = batch.next().await {
        match message {
            Ok(message) => messages.push(message),
            Err(e) => return (messages, Some(e)),
        }
    }
    (messages, None)
}
