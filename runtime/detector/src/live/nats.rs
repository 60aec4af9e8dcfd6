//! `--nats URL --stream NAME --consumer NAME`: a NATS JetStream source.
//!
//! The detector reads the stream through a durable pull consumer. Any
//! number of detectors may name the same consumer: JetStream hands each
//! message to one of them. The consumer is created when it is missing
//! (explicit acks, [`ACK_WAIT`], [`MAX_ACK_PENDING`], `--subject` as its
//! filter, `--deliver all` by default), and used as it is when it exists.
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
use async_nats::jetstream::{self, consumer::pull, AckKind};
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

/// What `--nats` and its options say.
#[derive(Clone, Debug)]
pub struct Config {
    url: String,
    stream: String,
    consumer: String,
    subject: Option<String>,
    deliver: Deliver,
}

impl Config {
    /// The configuration of `--nats URL` (the options were checked).
    pub fn from_options(url: &str, options: &LiveOptions) -> Config {
        Config {
            url: url.to_string(),
            stream: options.stream.clone().unwrap_or_default(),
            consumer: options.consumer.clone().unwrap_or_default(),
            subject: options.subject.clone(),
            deliver: options.deliver,
        }
    }
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
        Ok((
            Consumer {
                runtime,
                client,
                consumer,
                name,
                work,
                failing: false,
            },
            notes,
        ))
    }

    /// The source's name: `nats:STREAM/CONSUMER`.
    pub fn name(&self) -> &str {
        &self.name
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
        // What each message gets once the output is flushed.
        let mut outcomes: Vec<AckKind> = Vec::with_capacity(messages.len());
        let mut stop = None;
        for message in &messages {
            let sequence = message.info().map_or(0, |info| info.stream_sequence);
            match session.take_message(&self.name, sequence, &message.payload, &mut self.work) {
                Ok((rejected, total)) if rejected > 0 && rejected == total => {
                    outcomes.push(AckKind::Term)
                }
                Ok(_) => outcomes.push(AckKind::Ack),
                // --strict: the bad message was reported; it ends the run.
                Err(Stop::Strict) => {
                    outcomes.push(AckKind::Term);
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
    let client = async_nats::ConnectOptions::new()
        .name("kql-detector")
        .connect(config.url.as_str())
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
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
