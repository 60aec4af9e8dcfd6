//! Live sources: a detector run as a service.
//!
//! (The modules named here are documented when the `live` feature is on:
//! plain names, so that the documentation builds without it.)
//!
//! - `--follow` (`live::follow`): files and globs followed like `tail -F`;
//! - `--listen` (`live::webhook`): the Kubernetes API server's audit webhook
//!   backend, over HTTP or HTTPS;
//! - `--nats` (`live::nats`): a durable pull consumer of a NATS JetStream
//!   stream, shared by any number of detectors;
//! - `--kafka` (`kafka`, behind the `kafka` cargo feature, `kqlc build
//!   --kafka`): a member of a Kafka consumer group, with `--publish-kafka`
//!   producing the rows to a topic.
//!
//! Both feed the session of [`crate::detector`] on the calling thread, by
//! the same per-line and per-event code as batch mode, so a rule gives the
//! same rows and a bad unit the same message. A source acknowledges input
//! only once the output it gave is written and flushed: a followed file's
//! rows are flushed after each burst of lines, a webhook request is
//! answered 200 only then, and a JetStream message is acked only then.
//!
//! ```text
//! main thread: loop { follow: poll files ─ read whole lines ─ rules ─ flush
//!                     webhook: take queued batches ─ rules ─ flush ─ reply 200 }
//!              until SIGTERM/SIGINT; then the webhook stops taking requests,
//!              the queued ones are finished, and the run ends as in batch mode
//! webhook threads (tokio): HTTP(S) ─ auth ─ body limit ─ parse and normalize
//!                          the EventList ─ bounded queue (full: 429)
//! ```
//!
//! With `--state DIR` (`live::state`) the followed files' positions and
//! the scheduled rules' state (buffered rows, last tick, suppression) are
//! checkpointed together between polls, when the output of every line read
//! and every run is flushed, so a restart resumes there; `--metrics ADDR`
//! (`live::metrics`) serves counts and probes over HTTP. SIGHUP reopens
//! `--output-file` between turns. Before any thread starts, `live::sandbox`
//! warns when the detector runs as root and confines its file access with
//! Landlock.
//!
//! The live parts that need the network, TLS or signals sit behind the
//! `live` cargo feature (on by default and in every detector `kqlc build`
//! makes); without it, the options parse but running says it is missing.

// Without the `live` feature the source modules linked above are absent.
#![cfg_attr(not(feature = "live"), allow(rustdoc::broken_intra_doc_links))]

use crate::args::heading;
use crate::detector::{InputFile, Session, Stop};
use crate::manifest::DetectorInfo;
use std::io::Write;
use std::time::Duration;

#[cfg(feature = "live")]
pub mod follow;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "live")]
pub mod metrics;
#[cfg(feature = "live")]
pub mod nats;
#[cfg(feature = "live")]
pub mod publish;
#[cfg(feature = "live")]
pub mod sandbox;
#[cfg(feature = "live")]
pub mod state;
#[cfg(feature = "live")]
pub mod webhook;

/// How long a message source waits for input when it is the only source
/// (`--kafka`); SIGTERM is seen within about this time.
#[cfg(feature = "live")]
const POLL_WAIT_ALONE: Duration = Duration::from_millis(500);

/// The default `--checkpoint-interval`.
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// The default `--max-body-bytes`: 32 MiB, well above the API server's
/// default webhook batch (at most 400 events, each at most a few hundred
/// KiB with request and response bodies).
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 << 20;

/// The default `--queue`: request batches waiting for the rules.
pub const DEFAULT_QUEUE: usize = 64;

/// Options of the live sources, with their flags (see [`crate::args`]
/// for how to add one).
#[derive(Clone, Debug, Default, PartialEq, Eq, clap::Args)]
pub struct LiveOptions {
    /// `--follow`: the files are followed.
    #[arg(
        long,
        help_heading = heading::LIVE,
        help = "follow the FILEs (paths, or globs such as 'audit*.log') like tail -F:\n\
                read each from its start, then lines as they are written; rotation by\n\
                rename and by copy-truncate; files that appear later are picked up"
    )]
    pub follow: bool,
    /// `--listen ADDR`.
    #[arg(
        long,
        value_name = "ADDR",
        help_heading = heading::LIVE,
        help = "a Kubernetes audit webhook backend on ADDR (e.g. 0.0.0.0:8443): a POST\n\
                of an audit.k8s.io/v1 EventList on any path; 200 once its rows are written"
    )]
    pub listen: Option<String>,
    /// `--nats URL`: the NATS server(s), comma-separated.
    #[arg(
        long,
        value_name = "URL",
        help_heading = heading::LIVE,
        help = "read a NATS JetStream stream (with --stream and --consumer); a message is\n\
                one event or EventList, acked once its rows are written and flushed;\n\
                several servers: comma-separated URLs"
    )]
    pub nats: Option<String>,
    /// `--tls-cert FILE`.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::WEBHOOK,
        help = "serve HTTPS with this PEM certificate chain (with --tls-key)"
    )]
    pub tls_cert: Option<String>,
    /// `--tls-key FILE`.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::WEBHOOK,
        help = "the PEM private key of --tls-cert"
    )]
    pub tls_key: Option<String>,
    /// `--tls-client-ca FILE`.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::WEBHOOK,
        help = "require a client certificate signed by a CA in this PEM file"
    )]
    pub tls_client_ca: Option<String>,
    /// `--token-file FILE`.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::WEBHOOK,
        help = "require 'Authorization: Bearer TOKEN', the token being FILE's text"
    )]
    pub token_file: Option<String>,
    /// `--max-body-bytes N` (`None`: [`DEFAULT_MAX_BODY_BYTES`]).
    #[arg(
        long,
        value_name = "N",
        value_parser = count("a number of bytes"),
        help_heading = heading::WEBHOOK,
        help = "the largest request body accepted (default 33554432, 32 MiB);\n\
                larger: 413"
    )]
    pub max_body_bytes: Option<usize>,
    /// `--queue N` (`None`: [`DEFAULT_QUEUE`]).
    #[arg(
        long,
        value_name = "N",
        value_parser = count("a number of batches"),
        help_heading = heading::WEBHOOK,
        help = "request batches waiting to be processed (default 64); when full: 429"
    )]
    pub queue: Option<usize>,
    /// `--stream NAME`: the JetStream stream read.
    #[arg(
        long,
        value_name = "NAME",
        help_heading = heading::NATS,
        help = "the JetStream stream"
    )]
    pub stream: Option<String>,
    /// `--consumer NAME`: the durable pull consumer, shared by instances.
    #[arg(
        long,
        value_name = "NAME",
        help_heading = heading::NATS,
        help = "the durable pull consumer, shared by detectors; created when missing"
    )]
    pub consumer: Option<String>,
    /// `--subject FILTER`: the consumer's filter subject when it is created.
    #[arg(
        long,
        value_name = "FILTER",
        help_heading = heading::NATS,
        help = "the filter subject of a consumer created here (e.g. 'audit.>')"
    )]
    pub subject: Option<String>,
    /// `--deliver new|all|since T`: where a consumer created here starts.
    #[arg(
        long,
        value_name = "new|all|since T",
        value_parser = deliver,
        default_value = "all",
        hide_default_value = true,
        help_heading = heading::NATS,
        help = "where a consumer created here starts: at the stream's start (all, the\n\
                default), at messages stored from then on (new), or at messages\n\
                stored from a time on ('since 2024-05-28T10:00:00Z'; 'since 2h': that\n\
                long before the start)"
    )]
    pub deliver: Deliver,
    /// `--publish SUBJECT`.
    #[arg(
        long,
        value_name = "SUBJECT",
        help_heading = heading::NATS,
        help = "publish each row or alert to JetStream (id: the rule and the row, so\n\
                a redelivered event is stored once) and wait for its ack; replaces stdout"
    )]
    pub publish: Option<String>,
    /// `--nats-rejects SUBJECT`.
    #[arg(
        long,
        value_name = "SUBJECT",
        help_heading = heading::NATS,
        help = "copy each unreadable message there, with its reason in headers"
    )]
    pub nats_rejects: Option<String>,
    /// `--nats-creds FILE`.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::NATS,
        help = "a NATS credentials file (JWT and NKey seed)"
    )]
    pub nats_creds: Option<String>,
    /// `--nats-nkey FILE`.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::NATS,
        help = "a file holding an NKey seed"
    )]
    pub nats_nkey: Option<String>,
    /// `--nats-token-file FILE`.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::NATS,
        help = "a file holding the NATS server's token"
    )]
    pub nats_token_file: Option<String>,
    /// `--nats-tls-ca FILE`.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::NATS,
        help = "PEM CA certificates the NATS server is checked with"
    )]
    pub nats_tls_ca: Option<String>,
    /// `--nats-tls-cert FILE`.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::NATS,
        help = "a PEM client certificate for the NATS server (with --nats-tls-key)"
    )]
    pub nats_tls_cert: Option<String>,
    /// `--nats-tls-key FILE`.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::NATS,
        help = "the PEM private key of --nats-tls-cert"
    )]
    pub nats_tls_key: Option<String>,
    /// `--state DIR`: checkpoints of the followed files' positions and the
    /// scheduled rules' state.
    #[arg(
        long,
        value_name = "DIR",
        help_heading = heading::STATE,
        help = "with --follow: keep each file's position in DIR (checkpoints) and\n\
                resume there after a restart; one detector per DIR (locked)"
    )]
    pub state: Option<String>,
    /// `--checkpoint-interval D` (`None`: [`DEFAULT_CHECKPOINT_INTERVAL`]).
    #[arg(
        long,
        value_name = "D",
        value_parser = duration,
        help_heading = heading::STATE,
        help = "how often a checkpoint is written while reading (default 1s; 250ms,\n\
                5s, 1m)"
    )]
    pub checkpoint_interval: Option<Duration>,
    /// `--metrics ADDR`.
    #[arg(
        long,
        value_name = "ADDR",
        help_heading = heading::STATE,
        help = "Prometheus metrics on http://ADDR/metrics, probes on /healthz and\n\
                /readyz"
    )]
    pub metrics: Option<String>,
    /// `--no-landlock`: file access is not confined (`live::sandbox`).
    #[arg(
        long,
        help_heading = heading::SANDBOX,
        help = "do not confine file access with Landlock (by default a live detector can\n\
                read only its inputs' directories and certificates, and write only\n\
                --output-file and --state; it warns when it runs as root)"
    )]
    pub no_landlock: bool,
    /// `--clock wall|event`: what moves scheduled rules' ticks.
    #[arg(
        long,
        value_name = "wall|event",
        value_parser = clock,
        default_value = "wall",
        hide_default_value = true,
        help_heading = heading::TIME,
        help = "live sources: what moves the schedule of stateful rules (each runs every\n\
                @frequency over the last @period): the system clock (the default), or\n\
                the newest event time read, so a replayed log fires the same runs in\n\
                seconds"
    )]
    pub clock: crate::schedule::ClockKind,
    /// `--max-buffered-rows N` (`None`:
    /// [`crate::schedule::DEFAULT_MAX_BUFFERED_ROWS`]): rows one scheduled
    /// rule holds between its runs.
    #[arg(
        long,
        value_name = "N",
        value_parser = count("a number of rows"),
        help_heading = heading::TIME,
        help = "live sources: rows one scheduled rule holds between runs (default\n\
                1000000); past it the oldest are dropped, with a warning and in the\n\
                metrics"
    )]
    pub max_buffered_rows: Option<usize>,
    /// `--kafka BROKERS`.
    #[arg(
        long,
        value_name = "BROKERS",
        help_heading = heading::KAFKA,
        help = "read a Kafka topic as a member of a consumer group (with --topic and\n\
                --group; detectors built with kqlc build --kafka); offsets are\n\
                committed once the rows are written and flushed"
    )]
    pub kafka: Option<String>,
    /// `--topic T`.
    #[arg(
        long,
        value_name = "T",
        help_heading = heading::KAFKA,
        help = "the Kafka topic"
    )]
    pub topic: Option<String>,
    /// `--group G`.
    #[arg(
        long,
        value_name = "G",
        help_heading = heading::KAFKA,
        help = "the consumer group, shared by detectors (a new group starts at the\n\
                earliest offsets; --kafka-option auto.offset.reset=latest: at the end)"
    )]
    pub group: Option<String>,
    /// `--kafka-option KEY=VALUE` (repeatable): librdkafka properties, in
    /// order.
    #[arg(
        long = "kafka-option",
        value_name = "K=V",
        value_parser = parse_kafka_option,
        help_heading = heading::KAFKA,
        help = "a librdkafka property, repeatable (SASL, TLS: e.g.\n\
                security.protocol=SASL_SSL)"
    )]
    pub kafka_options: Vec<(String, String)>,
    /// `--publish-kafka TOPIC`.
    #[arg(
        long,
        value_name = "TOPIC",
        help_heading = heading::KAFKA,
        help = "also produce every row or alert to this topic, keyed by its alert id;\n\
                offsets are committed only once the broker has acknowledged them"
    )]
    pub publish_kafka: Option<String>,
}

/// `--deliver`: where a consumer the detector creates starts in the
/// stream. An existing consumer keeps its own position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Deliver {
    /// From the stream's first message (the default).
    #[default]
    All,
    /// Only messages stored after the consumer is created.
    New,
    /// From the first message stored at or after this time.
    Since(chrono::DateTime<chrono::Utc>),
}

/// A positive count (`--queue`, `--max-body-bytes`, `--max-buffered-rows`);
/// `what` names it in the message.
fn count(what: &'static str) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync {
    move |text| match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "'{text}' is not {what} (a whole number, at least 1)"
        )),
    }
}

/// `--checkpoint-interval`.
fn duration(text: &str) -> Result<Duration, String> {
    parse_duration(text)
        .ok_or_else(|| format!("'{text}' is not a duration (e.g. 250ms, 1s, 1m; more than 0)"))
}

/// `--clock`.
fn clock(text: &str) -> Result<crate::schedule::ClockKind, String> {
    match text {
        "wall" => Ok(crate::schedule::ClockKind::Wall),
        "event" => Ok(crate::schedule::ClockKind::Event),
        other => Err(format!("'{other}' is not wall or event")),
    }
}

/// `--deliver`: `all`, `new`, or `since T` (also `since=T`), T an RFC 3339
/// time or a duration before now (`2h`, `30m`).
fn deliver(text: &str) -> Result<Deliver, String> {
    match text {
        "all" => Ok(Deliver::All),
        "new" => Ok(Deliver::New),
        other => {
            let Some(time) = other
                .strip_prefix("since")
                .filter(|rest| rest.is_empty() || rest.starts_with([' ', '=']))
            else {
                return Err(format!(
                    "'{other}' is not new, all or since T (e.g. 'since 2024-05-28T10:00:00Z', 'since 2h')"
                ));
            };
            let time = time.trim_start_matches([' ', '=']).trim();
            if time.is_empty() {
                return Err("since needs a time: 'since 2024-05-28T10:00:00Z' (one argument, quoted), since=2024-05-28T10:00:00Z, or 'since 2h' (that long before now)".to_string());
            }
            if let Ok(at) = chrono::DateTime::parse_from_rfc3339(time) {
                return Ok(Deliver::Since(at.with_timezone(&chrono::Utc)));
            }
            match parse_duration(time).and_then(|d| chrono::Duration::from_std(d).ok()) {
                Some(before) => Ok(Deliver::Since(chrono::Utc::now() - before)),
                None => Err(format!(
                    "since '{time}': not an RFC 3339 time (2024-05-28T10:00:00Z) or a duration (2h, 30m)"
                )),
            }
        }
    }
}

impl LiveOptions {
    /// True when a live source was asked for.
    pub fn is_live(&self) -> bool {
        self.follow || self.listen.is_some() || self.nats_source() || self.kafka.is_some()
    }

    /// True when `--nats` names a source (a stream to consume), not only
    /// the server `--publish` publishes to.
    pub fn nats_source(&self) -> bool {
        self.nats.is_some()
            && (self.stream.is_some() || self.consumer.is_some() || self.publish.is_none())
    }

    /// The `--max-buffered-rows` in force.
    pub fn max_buffered_rows(&self) -> usize {
        self.max_buffered_rows
            .unwrap_or(crate::schedule::DEFAULT_MAX_BUFFERED_ROWS)
    }

    /// The checkpoint interval in force.
    pub fn checkpoint_interval(&self) -> Duration {
        self.checkpoint_interval
            .unwrap_or(DEFAULT_CHECKPOINT_INTERVAL)
    }

    /// Checks the options together with the input files.
    pub fn check(&self, files: &[InputFile]) -> Result<(), String> {
        let server_option = [
            ("--tls-cert", &self.tls_cert),
            ("--tls-key", &self.tls_key),
            ("--tls-client-ca", &self.tls_client_ca),
            ("--token-file", &self.token_file),
        ]
        .into_iter()
        .find(|(_, v)| v.is_some())
        .map(|(f, _)| f)
        .or(self.max_body_bytes.map(|_| "--max-body-bytes"))
        .or(self.queue.map(|_| "--queue"));
        if let (Some(flag), None) = (server_option, &self.listen) {
            return Err(format!("{flag} needs --listen ADDR"));
        }
        if self.state.is_some() && !self.follow {
            return Err(
                "--state needs --follow (it keeps followed files' positions; the webhook's client retries what was not answered)"
                    .to_string(),
            );
        }
        if self.checkpoint_interval.is_some() && self.state.is_none() {
            return Err("--checkpoint-interval needs --state DIR".to_string());
        }
        let schedule_option = [
            ("--clock", self.clock != crate::schedule::ClockKind::Wall),
            ("--max-buffered-rows", self.max_buffered_rows.is_some()),
        ]
        .into_iter()
        .find(|(_, given)| *given);
        if let (Some((flag, _)), false) = (schedule_option, self.is_live()) {
            return Err(format!(
                "{flag} needs a live source (--follow, --listen ADDR, --nats URL or --kafka BROKERS): batch mode runs stateful rules once over all of the input"
            ));
        }
        if self.metrics.is_some() && !self.is_live() {
            return Err(
                "--metrics needs a live source (--follow, --listen ADDR, --nats URL or --kafka BROKERS)".to_string(),
            );
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("--tls-cert and --tls-key go together".to_string());
        }
        if self.tls_client_ca.is_some() && self.tls_cert.is_none() {
            return Err(
                "--tls-client-ca needs --tls-cert and --tls-key (client certificates need TLS)"
                    .to_string(),
            );
        }
        match (&self.nats, &self.stream, &self.consumer) {
            (Some(_), Some(_), Some(_)) => {}
            (Some(_), None, None) if self.publish.is_some() => {}
            (Some(_), None, _) => {
                return Err(
                    "--nats needs --stream NAME (or --publish SUBJECT alone, to publish the rows of other inputs)"
                        .to_string(),
                )
            }
            (Some(_), _, None) => return Err("--nats needs --consumer NAME".to_string()),
            (None, _, _) => {
                let nats_option = [
                    ("--stream", self.stream.is_some()),
                    ("--consumer", self.consumer.is_some()),
                    ("--subject", self.subject.is_some()),
                    ("--deliver", self.deliver != Deliver::All),
                    ("--publish", self.publish.is_some()),
                    ("--nats-rejects", self.nats_rejects.is_some()),
                    ("--nats-creds", self.nats_creds.is_some()),
                    ("--nats-nkey", self.nats_nkey.is_some()),
                    ("--nats-token-file", self.nats_token_file.is_some()),
                    ("--nats-tls-ca", self.nats_tls_ca.is_some()),
                    ("--nats-tls-cert", self.nats_tls_cert.is_some()),
                    ("--nats-tls-key", self.nats_tls_key.is_some()),
                ]
                .into_iter()
                .find(|(_, given)| *given);
                if let Some((flag, _)) = nats_option {
                    return Err(format!("{flag} needs --nats URL"));
                }
            }
        }
        if self.nats_rejects.is_some() && !self.nats_source() {
            return Err("--nats-rejects needs --stream and --consumer (it copies unreadable messages of the stream consumed)".to_string());
        }
        if self.nats_tls_cert.is_some() != self.nats_tls_key.is_some() {
            return Err("--nats-tls-cert and --nats-tls-key go together".to_string());
        }
        let auth = [
            self.nats_creds.is_some(),
            self.nats_nkey.is_some(),
            self.nats_token_file.is_some(),
        ];
        if auth.iter().filter(|given| **given).count() > 1 {
            return Err(
                "--nats-creds, --nats-nkey and --nats-token-file are alternatives: give one"
                    .to_string(),
            );
        }
        match (&self.kafka, &self.topic, &self.group) {
            (Some(_), Some(_), Some(_)) => {}
            (Some(_), None, _) => return Err("--kafka needs --topic T".to_string()),
            (Some(_), _, None) => return Err("--kafka needs --group G".to_string()),
            (None, _, _) => {
                let kafka_option = [
                    ("--topic", self.topic.is_some()),
                    ("--group", self.group.is_some()),
                    ("--kafka-option", !self.kafka_options.is_empty()),
                    ("--publish-kafka", self.publish_kafka.is_some()),
                ]
                .into_iter()
                .find(|(_, given)| *given);
                if let Some((flag, _)) = kafka_option {
                    return Err(format!("{flag} needs --kafka BROKERS"));
                }
            }
        }
        if self.follow {
            if files.is_empty() {
                return Err("--follow needs files or globs to follow".to_string());
            }
            if files.iter().any(|f| f.path == "-") {
                return Err(
                    "--follow cannot follow stdin ('-'); stdin is read live without it".to_string(),
                );
            }
        } else if !files.is_empty() {
            let flag = if self.listen.is_some() {
                Some("--listen")
            } else if self.nats_source() {
                Some("--nats")
            } else if self.kafka.is_some() {
                Some("--kafka")
            } else {
                None
            };
            if let Some(flag) = flag {
                return Err(format!("{flag} with files: add --follow to follow them too (a service does not read files once)"));
            }
        }
        Ok(())
    }
}

/// The `--publish SUBJECT` sink: connected, its stream found (and, when
/// `partitioned`, its partition key subjects).
#[cfg(not(feature = "live"))]
pub fn publisher(
    _subject: &str,
    _options: &LiveOptions,
    _partitioned: bool,
) -> Result<Box<dyn crate::output::Publish>, String> {
    Err("this detector was built without live sources (the kql-detector feature 'live')".into())
}

/// The `--publish SUBJECT` sink: connected, its stream found (and, when
/// `partitioned`, its partition key subjects).
#[cfg(feature = "live")]
pub fn publisher(
    subject: &str,
    options: &LiveOptions,
    partitioned: bool,
) -> Result<Box<dyn crate::output::Publish>, String> {
    let url = options.nats.as_deref().unwrap_or_default();
    let connect = nats::Connect::from_options(url, options);
    Ok(Box::new(publish::Publisher::start(
        connect,
        subject,
        partitioned,
    )?))
}

/// The `--publish-kafka TOPIC` sink: its producer configured (and, when
/// `partitioned`, the topic's partitions read).
#[cfg(feature = "kafka")]
pub fn kafka_publisher(
    topic: &str,
    options: &LiveOptions,
    partitioned: bool,
) -> Result<Box<dyn crate::output::Publish>, String> {
    let brokers = options.kafka.as_deref().unwrap_or_default();
    let config = kafka::Config::from_options(brokers, options);
    Ok(Box::new(kafka::Publisher::start(
        &config,
        topic,
        partitioned,
    )?))
}

/// The `--publish-kafka TOPIC` sink: not in a detector built without
/// Kafka.
#[cfg(not(feature = "kafka"))]
pub fn kafka_publisher(
    _topic: &str,
    _options: &LiveOptions,
    _partitioned: bool,
) -> Result<Box<dyn crate::output::Publish>, String> {
    Err(KAFKA_MISSING.to_string())
}

/// Why a detector built without Kafka refuses `--kafka` and
/// `--publish-kafka`.
pub const KAFKA_MISSING: &str = "this detector was built without Kafka: build it with `kqlc build --kafka` (the kql-detector feature 'kafka', which links librdkafka; docs/deploy.md, \"Reading a Kafka topic\")";

/// Runs the live sources until SIGTERM or SIGINT. `Ok(false)` when a
/// source could not start (reported).
#[cfg(not(feature = "live"))]
pub(crate) fn run<W: Write, E: Write>(
    session: &mut Session<'_, W, E>,
    _options: &LiveOptions,
    _files: &[InputFile],
    _info: Option<&'static DetectorInfo>,
) -> Result<bool, Stop> {
    session.report(format_args!(
        "error: this detector was built without live sources (the kql-detector feature 'live')"
    ))?;
    Ok(false)
}

/// Runs the live sources until SIGTERM or SIGINT. `Ok(false)` when a
/// source could not start (reported).
#[cfg(feature = "live")]
pub(crate) fn run<W: Write, E: Write>(
    session: &mut Session<'_, W, E>,
    options: &LiveOptions,
    files: &[InputFile],
    info: Option<&'static DetectorInfo>,
) -> Result<bool, Stop> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            session.report(format_args!("error: cannot handle signal {signal}: {e}"))?;
            return Ok(false);
        }
    }
    if sandbox::is_root() {
        session.report(format_args!(
            "warning: running as root: a detector needs no privilege to read the logs it is given, listen on a port above 1023 or write its state; run it as a user of its own (docs/deploy.md)"
        ))?;
    }
    // Before any other thread starts: Landlock confines the thread that
    // applies it and those it starts after.
    if !options.no_landlock {
        if let Some(dir) = &options.state {
            // Created here so that it can be allowed (an error is
            // reported when the state is opened).
            let _ = std::fs::create_dir_all(dir);
        }
        let allowed = sandbox::Allowed::for_options(options, files, session.output_file());
        let confined = sandbox::confine(&allowed);
        let note = confined
            .as_ref()
            .ok()
            .and_then(|c| c.network_note(&allowed));
        match confined.map(|c| c.confinement) {
            Ok(sandbox::Confinement::Full) => session.report(format_args!(
                "Landlock: file access is confined to the inputs' directories, the certificates, the rules' data, --output-file and --state (--no-landlock: not confined)"
            ))?,
            Ok(sandbox::Confinement::Partial) => session.report(format_args!(
                "Landlock: file access is confined to the inputs' directories, the certificates, the rules' data, --output-file and --state, partly (this kernel's Landlock lacks some access rights)"
            ))?,
            Ok(sandbox::Confinement::Unavailable(why)) => session.report(format_args!(
                "Landlock: not available ({why}): file access is not confined"
            ))?,
            Err(e) => session.report(format_args!(
                "warning: {e}: file access is not confined"
            ))?,
        }
        if let Some(note) = note {
            session.report(format_args!("{note}"))?;
        }
    }
    // SIGHUP reopens `--output-file` (logrotate); without one it keeps its
    // default action.
    let reopen = Arc::new(AtomicBool::new(false));
    if session.output_file().is_some() {
        let signal = signal_hook::consts::SIGHUP;
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&reopen)) {
            session.report(format_args!("error: cannot handle signal {signal}: {e}"))?;
            return Ok(false);
        }
    }
    let metrics = match &options.metrics {
        Some(addr) => match metrics::Metrics::start(addr) {
            Ok(metrics) => {
                session.report(format_args!("metrics on {}", metrics.url()))?;
                Some(metrics)
            }
            Err(e) => {
                session.report(format_args!("error: --metrics {addr}: {e}"))?;
                return Ok(false);
            }
        },
        None => None,
    };
    let mut checkpoints = match &options.state {
        Some(dir) => {
            let (_, names) = session.emitted();
            let rules = state::RuleSet::of(info, &names);
            match state::StateDir::open(std::path::Path::new(dir), rules) {
                Ok((state, restored)) => Some(Checkpoints {
                    state,
                    dir: dir.clone(),
                    positions: restored.files,
                    schedules: Some(restored.schedules),
                    interval: options.checkpoint_interval(),
                    last: None,
                    tried: None,
                    failing: false,
                    writes: 0,
                    errors: 0,
                }),
                Err(e) => {
                    session.report(format_args!("error: {e}"))?;
                    return Ok(false);
                }
            }
        }
        None => None,
    };
    let mut server = match &options.listen {
        Some(addr) => {
            let config = match webhook::Config::from_options(addr, options) {
                Ok(config) => config,
                Err(e) => {
                    session.report(format_args!("error: {e}"))?;
                    return Ok(false);
                }
            };
            let work = session.line_work(crate::formats::InputFormat::K8s);
            match webhook::Server::start(config, work) {
                Ok(server) => {
                    session.report(format_args!("listening on {}", server.url()))?;
                    Some(server)
                }
                Err(e) => {
                    session.report(format_args!("error: --listen {addr}: {e}"))?;
                    return Ok(false);
                }
            }
        }
        None => None,
    };
    let mut webhook_counts = server.as_ref().map(|_| follow::SourceCounts {
        pattern: String::new(),
        format: crate::formats::InputFormat::K8s.name(),
        ..follow::SourceCounts::default()
    });
    let mut consumer = match options.nats.as_ref().filter(|_| options.nats_source()) {
        Some(url) => {
            let config = nats::Config::from_options(url, options);
            let work = session.line_work(crate::formats::InputFormat::Auto);
            match nats::Consumer::start(config, work) {
                Ok((consumer, notes)) => {
                    for note in notes {
                        session.report(format_args!("{note}"))?;
                    }
                    session.report(format_args!("consuming {}", consumer.name()))?;
                    Some(consumer)
                }
                Err(e) => {
                    session.report(format_args!("error: --nats {url}: {e}"))?;
                    return Ok(false);
                }
            }
        }
        None => None,
    };
    let mut nats_counts = consumer.as_ref().map(|c| follow::SourceCounts {
        pattern: c.name().to_string(),
        format: crate::formats::InputFormat::Auto.name(),
        ..follow::SourceCounts::default()
    });
    #[cfg(feature = "kafka")]
    let mut kafka = match &options.kafka {
        Some(brokers) => {
            let config = kafka::Config::from_options(brokers, options);
            match kafka::Consumer::start(config, session) {
                Ok(consumer) => {
                    session.report(format_args!("consuming {}", consumer.name()))?;
                    Some(consumer)
                }
                Err(e) => {
                    session.report(format_args!("error: --kafka {brokers}: {e}"))?;
                    return Ok(false);
                }
            }
        }
        None => None,
    };
    #[cfg(not(feature = "kafka"))]
    if options.kafka.is_some() {
        session.report(format_args!("error: --kafka: {KAFKA_MISSING}"))?;
        return Ok(false);
    }
    #[cfg(feature = "kafka")]
    let kafka_counts =
        |kafka: &Option<kafka::Consumer>| kafka.as_ref().map(kafka::Consumer::counts);
    #[cfg(not(feature = "kafka"))]
    let kafka_counts = |_: &Option<()>| None;
    #[cfg(not(feature = "kafka"))]
    let kafka: Option<()> = None;
    let mut follower = if options.follow {
        let outputs = session.output_files();
        Some(follow::Follower::new(files, outputs, session))
    } else {
        None
    };
    if let (Some(follower), Some(checkpoints)) = (&mut follower, &mut checkpoints) {
        let positions = std::mem::take(&mut checkpoints.positions);
        if !positions.is_empty() {
            session.report(format_args!(
                "--state {}: resuming {} file{} from the checkpoint",
                checkpoints.dir,
                positions.len(),
                if positions.len() == 1 { "" } else { "s" }
            ))?;
        }
        follower.resume(positions);
    }
    let publishing = options.publish.is_some();
    if let Some(checkpoints) = &mut checkpoints {
        let saved = checkpoints.schedules.take().unwrap_or_default();
        match session.restore_schedules(&saved) {
            Ok(0) => {}
            Ok(rows) => session.report(format_args!(
                "--state {}: scheduled rules resume with {rows} buffered row{} from the checkpoint",
                checkpoints.dir,
                if rows == 1 { "" } else { "s" }
            ))?,
            Err(e) => {
                session.report(format_args!(
                    "error: --state {}: {e} (use another directory, or delete {}/{} to start over)",
                    checkpoints.dir,
                    checkpoints.dir,
                    state::CHECKPOINT_FILE
                ))?;
                return Ok(false);
            }
        }
    }
    let publish = |session: &Session<'_, W, E>,
                   follower: &Option<follow::Follower>,
                   webhook: &Option<follow::SourceCounts>,
                   nats: (&Option<follow::SourceCounts>, &Option<nats::Consumer>),
                   checkpoints: &Option<Checkpoints>,
                   kafka: Option<metrics::KafkaCounts>,
                   ready: bool| {
        let Some(metrics) = &metrics else { return };
        let (emitted, names) = session.emitted();
        let rules: Vec<(String, u64)> = names
            .iter()
            .zip(emitted)
            .map(|(name, n)| (name.to_string(), *n))
            .collect();
        let scheduled: Vec<_> = session
            .schedule_stats()
            .into_iter()
            .map(|(name, buffered, stats)| (name.to_string(), buffered, stats))
            .collect();
        let newest_event = session.newest_event();
        metrics.update(|snapshot| {
            snapshot.scheduled = scheduled;
            snapshot.newest_event = newest_event;
            snapshot.follow = follower
                .as_ref()
                .map(|f| f.sources().to_vec())
                .unwrap_or_default();
            snapshot.webhook = webhook.clone();
            snapshot.nats = nats.0.clone();
            snapshot.consumer = nats.1.as_ref().map(|c| c.counts().clone());
            snapshot.publishing = publishing;
            snapshot.kafka = kafka;
            snapshot.rules = rules;
            if let Some(c) = checkpoints {
                snapshot.checkpoint = Some(c.last.unwrap_or(snapshot.started));
                snapshot.checkpoint_writes = c.writes;
                snapshot.checkpoint_errors = c.errors;
            }
            snapshot.ready = ready;
            snapshot.heartbeat = Instant::now();
        });
    };
    let result = (|| -> Result<(), Stop> {
        while !stop.load(Ordering::Relaxed) {
            let mut busy = false;
            if let Some(follower) = &mut follower {
                busy |= follower.poll(session)?;
            }
            let idle = if busy {
                Duration::ZERO
            } else {
                follow::POLL_INTERVAL
            };
            // One source waits for input at a time: Kafka when it is
            // there (alone, with a longer poll), else JetStream (the
            // same), else the webhook.
            let (server_wait, nats_wait, kafka_wait) = match (
                kafka.is_some(),
                &consumer,
                follower.is_some() || server.is_some(),
            ) {
                (true, None, false) => (Duration::ZERO, Duration::ZERO, POLL_WAIT_ALONE),
                (true, _, _) => (Duration::ZERO, Duration::ZERO, idle),
                (false, Some(_), false) => (Duration::ZERO, nats::PULL_WAIT, Duration::ZERO),
                (false, Some(_), true) => (Duration::ZERO, idle, Duration::ZERO),
                (false, None, _) => (idle, Duration::ZERO, Duration::ZERO),
            };
            let _ = kafka_wait;
            match &mut server {
                Some(server) => {
                    let before = session.totals();
                    let processed = server.process(session, server_wait);
                    if let Some(counts) = &mut webhook_counts {
                        counts.add(&before, &session.totals());
                    }
                    processed?;
                }
                None if !busy && consumer.is_none() && kafka.is_none() => std::thread::sleep(idle),
                None => {}
            }
            if let Some(consumer) = &mut consumer {
                let before = session.totals();
                let processed = consumer.process(session, nats_wait);
                if let Some(counts) = &mut nats_counts {
                    counts.add(&before, &session.totals());
                }
                processed?;
            }
            #[cfg(feature = "kafka")]
            if let Some(kafka) = &mut kafka {
                kafka.process(session, kafka_wait)?;
            }
            // Scheduled rules whose tick the clock has passed run now (with
            // `--clock event` they ran as the events came).
            session.run_due()?;
            session.flush_output()?;
            // Every poll flushed the output of what it read: the positions
            // are covered.
            if let (Some(checkpoints), Some(follower)) = (&mut checkpoints, &follower) {
                if checkpoints.due() {
                    checkpoints.write(follower, session)?;
                }
            }
            // SIGHUP: the output so far is flushed (and checkpointed);
            // rows from now on go to a file opened again at the path.
            if reopen.swap(false, Ordering::SeqCst)
                && session.reopen_output().map_err(Stop::Write)?
            {
                let path = session.output_file().unwrap_or_default().to_string();
                session.report(format_args!("--output-file {path}: reopened (SIGHUP)"))?;
            }
            publish(
                session,
                &follower,
                &webhook_counts,
                (&nats_counts, &consumer),
                &checkpoints,
                kafka_counts(&kafka),
                true,
            );
        }
        Ok(())
    })();
    publish(
        session,
        &follower,
        &webhook_counts,
        (&nats_counts, &consumer),
        &checkpoints,
        kafka_counts(&kafka),
        false,
    );
    // Stop taking requests; answer those already queued.
    let closed = match &mut server {
        Some(server) => {
            let before = session.totals();
            let closed = server.close(session);
            if let Some(counts) = &mut webhook_counts {
                counts.add(&before, &session.totals());
            }
            closed
        }
        None => Ok(()),
    };
    if let Some(consumer) = &mut consumer {
        consumer.close();
    }
    // Kafka: what was written is delivered and committed, unless writing
    // failed; then the member leaves its group.
    #[cfg(feature = "kafka")]
    let closed = match &mut kafka {
        Some(kafka) => closed.and(kafka.close(session, result.is_ok())),
        None => closed,
    };
    if let (Err(Stop::Write(_)), Some(checkpoints)) = (&result, &checkpoints) {
        // The rows of the lines read since the last checkpoint may not all
        // be written: it is not advanced, so a restart reads them again.
        session.report(format_args!(
            "stopping: the output cannot be written; --state {} keeps the last checkpoint, which covers only rows written and flushed",
            checkpoints.dir
        ))?;
    }
    result?;
    closed?;
    session.flush_output()?;
    // Only now, after the last flush, the final checkpoint.
    if let (Some(checkpoints), Some(follower)) = (&mut checkpoints, &follower) {
        checkpoints.write(follower, session)?;
        let held: usize = (session.schedule_stats().iter())
            .map(|(_, rows, _)| rows)
            .sum();
        if held > 0 && !checkpoints.failing {
            session.report(format_args!(
                "--state {}: the checkpoint keeps {held} buffered row{} of scheduled rules for the next start",
                checkpoints.dir,
                if held == 1 { "" } else { "s" }
            ))?;
        }
    }
    publish(
        session,
        &follower,
        &webhook_counts,
        (&nats_counts, &consumer),
        &checkpoints,
        kafka_counts(&kafka),
        false,
    );
    session.report(format_args!(
        "stopping: signal received, input read so far is processed"
    ))?;
    Ok(true)
}

/// `--state`: the directory and when its checkpoint was last current.
#[cfg(feature = "live")]
struct Checkpoints {
    state: state::StateDir,
    dir: String,
    /// The positions read at start, until the follower takes them.
    positions: Vec<state::FilePosition>,
    /// The scheduled rules' state read at start, until the session takes it.
    schedules: Option<state::SavedSchedules>,
    interval: Duration,
    /// When the checkpoint was last known to cover all output written.
    last: Option<std::time::Instant>,
    /// When a checkpoint was last tried.
    tried: Option<std::time::Instant>,
    /// The last write failed (reported once until one succeeds).
    failing: bool,
    writes: u64,
    errors: u64,
}

#[cfg(feature = "live")]
impl Checkpoints {
    fn due(&self) -> bool {
        self.tried.is_none_or(|at| at.elapsed() >= self.interval)
    }

    /// Writes the follower's positions and the scheduled rules' state,
    /// which the caller has made sure are covered by flushed output (the
    /// rows of the lines read, and of the runs they caused). A failure is
    /// reported (once) and tried again at the next interval: the previous
    /// checkpoint stays.
    fn write<W: Write, E: Write>(
        &mut self,
        follower: &follow::Follower,
        session: &mut Session<'_, W, E>,
    ) -> Result<(), Stop> {
        self.tried = Some(std::time::Instant::now());
        let versions = session.schedule_versions();
        let written = self
            .state
            .write(follower.positions(), versions, || session.saved_schedules());
        match written {
            Ok(written) => {
                self.writes += u64::from(written);
                self.last = Some(std::time::Instant::now());
                if self.failing {
                    self.failing = false;
                    session.report(format_args!(
                        "--state {}: checkpoints are written again",
                        self.dir
                    ))?;
                }
            }
            Err(e) => {
                self.errors += 1;
                if !self.failing {
                    self.failing = true;
                    session.report(format_args!(
                        "error: --state {}: cannot write the checkpoint: {e} (the previous one stays; tried again every {:?})",
                        self.dir, self.interval
                    ))?;
                }
            }
        }
        Ok(())
    }
}

/// A `--kafka-option` value: `KEY=VALUE`, a librdkafka property the
/// detector does not set itself (the brokers, the group and committing are
/// its own).
pub fn parse_kafka_option(text: &str) -> Result<(String, String), String> {
    let shown = kql_runtime::printable::printable(text);
    let Some((key, value)) = text.split_once('=') else {
        return Err(format!(
            "'{shown}' is not KEY=VALUE (a librdkafka property, e.g. security.protocol=SASL_SSL)"
        ));
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(format!(
            "'{shown}' has no key (KEY=VALUE, e.g. security.protocol=SASL_SSL)"
        ));
    }
    let own = [
        ("bootstrap.servers", "give the brokers as --kafka BROKERS"),
        ("group.id", "give the group as --group G"),
        (
            "enable.auto.commit",
            "the detector commits offsets itself, once the rows are written (at least once)",
        ),
        (
            "enable.auto.offset.store",
            "the detector commits the offsets of the messages it processed",
        ),
    ];
    if let Some((_, why)) = own.iter().find(|(own, _)| *own == key) {
        return Err(format!(
            "{}: the detector sets it: {why}",
            kql_runtime::printable::printable(key)
        ));
    }
    Ok((key.to_string(), value.to_string()))
}

/// A duration: a number and a unit (`ms`, `s`, `m`, `h`; seconds without
/// one), more than zero.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return None,
    };
    (seconds > 0.0 && seconds.is_finite() && seconds < 1e9)
        .then(|| Duration::from_secs_f64(seconds))
}

/// The live options of a command line of `(flag, value)` pairs, parsed by
/// clap as the detector parses them, without [`LiveOptions::check`] (for
/// tests).
#[cfg(test)]
pub(crate) fn parse_for_test(args: &[(&str, Option<&str>)]) -> Result<LiveOptions, String> {
    use clap::Parser;
    #[derive(clap::Parser)]
    struct LiveOnly {
        #[command(flatten)]
        live: LiveOptions,
    }
    let mut line = vec!["DETECTOR".to_string()];
    for (flag, value) in args {
        line.push(flag.to_string());
        line.extend(value.map(str::to_string));
    }
    LiveOnly::try_parse_from(line)
        .map(|only| only.live)
        .map_err(|e| crate::args::describe(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("1 week"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn state_needs_follow_and_metrics_a_live_source() {
        let state = options(&[("--state", Some("/tmp/s"))]).unwrap();
        let error = state.check(&[]).unwrap_err();
        assert!(error.starts_with("--state needs --follow"), "{error}");
        let metrics = options(&[("--metrics", Some("127.0.0.1:0"))]).unwrap();
        assert!(metrics
            .check(&[])
            .unwrap_err()
            .starts_with("--metrics needs"));
        let error = options(&[("--checkpoint-interval", Some("soon"))]).unwrap_err();
        assert_eq!(
            error,
            "--checkpoint-interval: 'soon' is not a duration (e.g. 250ms, 1s, 1m; more than 0)"
        );
    }

    #[test]
    fn counts_are_positive_whole_numbers() {
        assert_eq!(
            options(&[("--queue", Some("0"))]).unwrap_err(),
            "--queue: '0' is not a number of batches (a whole number, at least 1)"
        );
        assert_eq!(
            options(&[("--max-body-bytes", Some("1M"))]).unwrap_err(),
            "--max-body-bytes: '1M' is not a number of bytes (a whole number, at least 1)"
        );
        let webhook = options(&[("--max-body-bytes", Some("1024")), ("--queue", Some("2"))]);
        let webhook = webhook.unwrap();
        assert_eq!(
            (webhook.max_body_bytes, webhook.queue),
            (Some(1024), Some(2))
        );
        assert_eq!(
            webhook.check(&[]).unwrap_err(),
            "--max-body-bytes needs --listen ADDR"
        );
    }

    #[test]
    fn schedule_options_need_a_live_source() {
        let clock = options(&[("--clock", Some("event"))]).unwrap();
        assert!(clock
            .check(&[])
            .unwrap_err()
            .starts_with("--clock needs a live source"));
        let bound = options(&[("--max-buffered-rows", Some("10"))]).unwrap();
        assert!(bound
            .check(&[])
            .unwrap_err()
            .starts_with("--max-buffered-rows needs a live source"));
        assert_eq!(
            options(&[("--clock", Some("cpu"))]).unwrap_err(),
            "--clock: 'cpu' is not wall or event"
        );
        let live = options(&[
            ("--follow", None),
            ("--clock", Some("event")),
            ("--max-buffered-rows", Some("10")),
        ])
        .unwrap();
        assert!(live.check(&[InputFile::auto("a.log")]).is_ok());
        assert_eq!(live.max_buffered_rows(), 10);
    }

    fn options(args: &[(&str, Option<&str>)]) -> Result<LiveOptions, String> {
        parse_for_test(args)
    }

    #[test]
    fn publish_needs_a_nats_server_and_alone_makes_no_source() {
        let url = Some("nats://127.0.0.1:4222");
        let publish = options(&[("--publish", Some("alerts.k8s"))]).unwrap();
        assert_eq!(
            publish.check(&[]).unwrap_err(),
            "--publish needs --nats URL"
        );
        let batch = options(&[("--nats", url), ("--publish", Some("alerts.k8s"))]).unwrap();
        assert!(batch.check(&[InputFile::auto("a.jsonl")]).is_ok());
        assert!(!batch.is_live() && !batch.nats_source());
        let rejects = options(&[
            ("--nats", url),
            ("--publish", Some("alerts.k8s")),
            ("--nats-rejects", Some("rejects")),
        ])
        .unwrap();
        assert!(rejects
            .check(&[])
            .unwrap_err()
            .starts_with("--nats-rejects needs --stream and --consumer"));
        let tls = options(&[
            ("--nats", url),
            ("--publish", Some("a")),
            ("--nats-tls-cert", Some("c.pem")),
        ])
        .unwrap();
        assert_eq!(
            tls.check(&[]).unwrap_err(),
            "--nats-tls-cert and --nats-tls-key go together"
        );
        let two = options(&[
            ("--nats", url),
            ("--publish", Some("a")),
            ("--nats-creds", Some("u.creds")),
            ("--nats-nkey", Some("u.nk")),
        ])
        .unwrap();
        assert!(two.check(&[]).unwrap_err().contains("are alternatives"));
        let creds = options(&[("--nats-creds", Some("u.creds"))]).unwrap();
        assert_eq!(
            creds.check(&[]).unwrap_err(),
            "--nats-creds needs --nats URL"
        );
    }

    #[test]
    fn kafka_needs_a_topic_and_a_group_and_its_options_need_kafka() {
        let brokers = Some("127.0.0.1:9092");
        let kafka = options(&[("--kafka", brokers), ("--group", Some("g"))]).unwrap();
        assert_eq!(kafka.check(&[]).unwrap_err(), "--kafka needs --topic T");
        let kafka = options(&[("--kafka", brokers), ("--topic", Some("t"))]).unwrap();
        assert_eq!(kafka.check(&[]).unwrap_err(), "--kafka needs --group G");
        for flag in ["--topic", "--group", "--publish-kafka"] {
            let alone = options(&[(flag, Some("x"))]).unwrap();
            assert_eq!(
                alone.check(&[]).unwrap_err(),
                format!("{flag} needs --kafka BROKERS")
            );
        }
        assert_eq!(
            options(&[("--kafka-option", Some("linger"))]).unwrap_err(),
            "--kafka-option: 'linger' is not KEY=VALUE (a librdkafka property, e.g. security.protocol=SASL_SSL)"
        );
        assert!(
            options(&[("--kafka-option", Some("enable.auto.commit=true"))])
                .unwrap_err()
                .starts_with("--kafka-option: enable.auto.commit: the detector sets it")
        );
        let full = options(&[
            ("--kafka", brokers),
            ("--topic", Some("audit")),
            ("--group", Some("detectors")),
            ("--kafka-option", Some("security.protocol=SASL_SSL")),
            ("--kafka-option", Some("sasl.password=a=b")),
            ("--publish-kafka", Some("alerts")),
        ])
        .unwrap();
        assert!(full.is_live());
        assert!(full.check(&[]).is_ok());
        assert_eq!(
            full.kafka_options,
            [
                ("security.protocol".to_string(), "SASL_SSL".to_string()),
                ("sasl.password".to_string(), "a=b".to_string())
            ]
        );
        assert!(full
            .check(&[InputFile::auto("a.jsonl")])
            .unwrap_err()
            .starts_with("--kafka with files: add --follow"));
    }

    #[test]
    fn nats_needs_a_stream_and_a_consumer_and_its_options_need_nats() {
        let url = Some("nats://127.0.0.1:4222");
        let nats = options(&[("--nats", url), ("--consumer", Some("c"))]).unwrap();
        assert!(nats
            .check(&[])
            .unwrap_err()
            .starts_with("--nats needs --stream NAME"));
        let nats = options(&[("--nats", url), ("--stream", Some("s"))]).unwrap();
        assert_eq!(nats.check(&[]).unwrap_err(), "--nats needs --consumer NAME");
        let subject = options(&[("--subject", Some("audit.>"))]).unwrap();
        assert_eq!(
            subject.check(&[]).unwrap_err(),
            "--subject needs --nats URL"
        );
        let deliver = options(&[("--deliver", Some("new"))]).unwrap();
        assert_eq!(
            deliver.check(&[]).unwrap_err(),
            "--deliver needs --nats URL"
        );
        assert_eq!(
            options(&[("--deliver", Some("last"))]).unwrap_err(),
            "--deliver: 'last' is not new, all or since T (e.g. 'since 2024-05-28T10:00:00Z', 'since 2h')"
        );
        let at = chrono::DateTime::parse_from_rfc3339("2024-05-28T10:00:00Z").unwrap();
        for text in [
            "since 2024-05-28T10:00:00Z",
            "since=2024-05-28T12:00:00+02:00",
        ] {
            assert_eq!(
                options(&[("--deliver", Some(text))]).unwrap().deliver,
                Deliver::Since(at.with_timezone(&chrono::Utc)),
                "{text}"
            );
        }
        let Deliver::Since(ago) = options(&[("--deliver", Some("since 2h"))]).unwrap().deliver
        else {
            panic!("since 2h");
        };
        let before = (chrono::Utc::now() - ago).num_seconds();
        assert!((7_199..=7_260).contains(&before), "{before}");
        assert!(options(&[("--deliver", Some("since"))])
            .unwrap_err()
            .contains("since needs a time"));
        assert!(options(&[("--deliver", Some("since yesterday"))])
            .unwrap_err()
            .contains("since 'yesterday': not an RFC 3339 time"));
        assert!(options(&[("--deliver", Some("sincere"))])
            .unwrap_err()
            .contains("is not new, all or since T"));
        let full = options(&[
            ("--nats", url),
            ("--stream", Some("s")),
            ("--consumer", Some("c")),
            ("--deliver", Some("new")),
        ])
        .unwrap();
        assert!(full.is_live());
        assert_eq!(full.deliver, Deliver::New);
        assert!(full.check(&[]).is_ok());
        assert!(full
            .check(&[InputFile::auto("a.jsonl")])
            .unwrap_err()
            .starts_with("--nats with files: add --follow"));
    }
}
