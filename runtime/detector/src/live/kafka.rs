//! `--kafka BROKERS --topic T --group G`: a Kafka consumer group member,
//! and `--publish-kafka TOPIC`, a sink for the rows it gives.
//!
//! The detector joins the consumer group `G` on topic `T` (librdkafka,
//! through `rdkafka`); Kafka spreads the topic's partitions over the group's
//! members, so N detectors with one `--group` share the work. A new group
//! starts at the partitions' earliest offsets (`--kafka-option
//! auto.offset.reset=latest` to start at the end). Every `--kafka-option
//! KEY=VALUE` is handed to librdkafka as it is, to the consumer and the
//! producer alike: SASL and TLS for Azure Event Hubs' Kafka endpoint, MSK
//! or any Kafka (`docs/deploy.md`).
//!
//! A message is one JSON value in any format the detector reads, as for
//! `--nats`: it goes through the rules as a line of a file does, named
//! `kafka:TOPIC/PARTITION` with its offset as its position (in messages,
//! alerts and `--rejects`). The detector takes up to [`BATCH`] messages at
//! a time, then:
//! - writes and flushes the output, and with `--publish-kafka` produces
//!   each row (or alert) to that topic and waits until the broker has
//!   acknowledged every one;
//! - only then **commits** the batch's offsets (`enable.auto.commit` is
//!   off): at least once. A detector killed before the commit leaves the
//!   batch to the member that takes its partitions next, which reads it
//!   again (the redeliveries);
//! - a message none of whose records could be read (not JSON, no value, not
//!   a known format) is reported like a bad line (`kafka:T/P:OFFSET:
//!   cause`), written to `--rejects`, and committed with the rest: it is
//!   skipped, never retried forever, never dropped silently;
//! - when the output cannot be written or an alert cannot be delivered,
//!   nothing more is committed and the detector stops (status 2), so the
//!   uncommitted messages are read again after a restart.
//!
//! **Rebalances**: librdkafka calls back when partitions are taken away
//! (a member joins or leaves). Rebalances happen only while the detector
//! polls, and then every batch before has been flushed and committed: the
//! callback commits what is flushed and not yet committed (after a failed
//! commit), and the messages of the revoked partitions that were polled
//! but not yet processed are dropped, to be read by their next owner.
//!
//! **Keys**: each record `--publish-kafka` produces has as its key
//! [`crate::alert_id::alert_id`] of the rule's id and the row as `--output
//! rows` writes it for that rule alone, and as its value the line the
//! detector writes (a row, an alert or an OCSF finding). A redelivered event
//! gives the same row, so the same key: a compacted topic, or any consumer
//! that remembers keys, drops the duplicates (Kafka transactions, which
//! would make them exactly once, are not used: the test broker, tansu, has
//! none, and Event Hubs neither).
//!
//! **Partition keys**: a rule that names partition key columns
//! (`@partition-key`) sends each record to the partition [`partition_of`]
//! its key value, with the value in the header `kqlc-partition-key`; the
//! record key stays the alert id. The other rules' records go where
//! librdkafka's partitioner puts their key.

use crate::detector::{Session, Stop};
use crate::formats::Rejection;
use crate::live::metrics::KafkaCounts;
use crate::live::LiveOptions;
use crate::output::{Message, Publish};
use crate::parallel::LineWork;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Message as _};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer as _, ProducerContext};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The most messages processed between two commits.
pub const BATCH: usize = 2000;

/// How long a poll waits for messages when Kafka is the only source;
/// SIGTERM is seen within about this time.
pub const POLL_WAIT: Duration = Duration::from_millis(500);

/// How long the detector waits for the broker to acknowledge a batch's
/// alerts (`--publish-kafka`) before it gives up and stops, uncommitted.
pub const DELIVERY_WAIT: Duration = Duration::from_secs(60);

/// What `--kafka` and its options say.
#[derive(Clone, Debug)]
pub struct Config {
    brokers: String,
    topic: String,
    group: String,
    options: Vec<(String, String)>,
}

impl Config {
    /// The configuration of `--kafka BROKERS` (the options were checked).
    pub fn from_options(brokers: &str, options: &LiveOptions) -> Config {
        Config {
            brokers: brokers.to_string(),
            topic: options.topic.clone().unwrap_or_default(),
            group: options.group.clone().unwrap_or_default(),
            options: options.kafka_options.clone(),
        }
    }

    /// librdkafka's configuration: the brokers, then every `--kafka-option`.
    fn client(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("client.id", "kql-detector");
        for (key, value) in &self.options {
            config.set(key, value);
        }
        config
    }
}

/// What the consumer's callbacks share with the detector's thread.
#[derive(Default)]
struct GroupState {
    /// Offsets flushed (and alerts delivered) whose commit has not yet
    /// succeeded: (topic, partition) to the next offset to read.
    flushed: HashMap<(String, i32), i64>,
    /// Each revocation so far: the partitions it took away.
    revocations: Vec<Vec<(String, i32)>>,
    /// Messages for stderr from librdkafka's callbacks.
    notes: Vec<String>,
    /// The last error librdkafka reported, so a repeated one is not.
    last_error: Option<String>,
    counts: KafkaCounts,
}

/// The consumer's callbacks: errors noted, offsets committed on revoke.
struct GroupContext {
    state: Arc<Mutex<GroupState>>,
}

fn lock(state: &Mutex<GroupState>) -> MutexGuard<'_, GroupState> {
    // A panic while holding the lock would abort (panic = "abort"); a
    // poisoned lock still holds consistent counts.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl ClientContext for GroupContext {
    fn error(&self, error: KafkaError, reason: &str) {
        let mut state = lock(&self.state);
        let text = format!("{error}: {reason}");
        if state.last_error.as_deref() != Some(&text) {
            state.notes.push(format!("librdkafka: {text}"));
            state.last_error = Some(text);
        }
    }
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(partitions) => {
                let revoked: Vec<(String, i32)> = partitions
                    .elements()
                    .iter()
                    .map(|p| (p.topic().to_string(), p.partition()))
                    .collect();
                // Every batch processed so far was flushed; what of it is
                // not yet committed (a failed commit) is committed now,
                // while these partitions are still this member's.
                let mut commit = TopicPartitionList::new();
                {
                    let mut state = lock(&self.state);
                    state.counts.rebalances += 1;
                    for key in &revoked {
                        if let Some(next) = state.flushed.remove(key) {
                            let _ =
                                commit.add_partition_offset(&key.0, key.1, Offset::Offset(next));
                        }
                    }
                }
                // Not under the lock: nothing librdkafka calls back may wait.
                let committed =
                    (commit.count() > 0).then(|| consumer.commit(&commit, CommitMode::Sync));
                let mut state = lock(&self.state);
                match committed {
                    Some(Ok(())) => state.counts.commits += 1,
                    Some(Err(e)) => {
                        state.counts.commit_failures += 1;
                        state.notes.push(format!(
                            "committing the offsets of revoked partitions failed: {e} (their next owner reads those messages again)"
                        ));
                    }
                    None => {}
                }
                state.notes.push(format!(
                    "rebalance: partitions revoked: {}",
                    show_partitions(&revoked)
                ));
                state.revocations.push(revoked);
            }
            Rebalance::Assign(_) => {}
            Rebalance::Error(e) => lock(&self.state)
                .notes
                .push(format!("rebalance failed: {e}")),
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(partitions) = rebalance {
            let assigned: Vec<(String, i32)> = partitions
                .elements()
                .iter()
                .map(|p| (p.topic().to_string(), p.partition()))
                .collect();
            lock(&self.state).notes.push(format!(
                "rebalance: partitions assigned: {}",
                show_partitions(&assigned)
            ));
        }
    }
}

/// `audit/0, audit/3` (or `none`).
fn show_partitions(partitions: &[(String, i32)]) -> String {
    if partitions.is_empty() {
        return "none".to_string();
    }
    partitions
        .iter()
        .map(|(topic, partition)| format!("{topic}/{partition}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The producer's callbacks: deliveries counted, the first failure kept.
#[derive(Default)]
struct DeliveryContext {
    outcome: Mutex<Deliveries>,
}

#[derive(Default)]
struct Deliveries {
    delivered: u64,
    failed: u64,
    first_error: Option<String>,
}

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let mut outcome = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(_) => outcome.delivered += 1,
            Err((e, _)) => {
                outcome.failed += 1;
                outcome.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// The process's `--publish-kafka` counts, for `--metrics`.
static PUBLISHED: AtomicU64 = AtomicU64::new(0);
static PUBLISH_FAILURES: AtomicU64 = AtomicU64::new(0);

/// How long start waits for the topic's metadata (its partitions).
const METADATA_WAIT: Duration = Duration::from_secs(10);

/// `--publish-kafka TOPIC`: a producer and its topic. Records are produced
/// as the rows are written; [`Publish::flush`] (the output's flush, which
/// the consumer calls before it commits) waits until the broker has
/// acknowledged every one.
pub struct Publisher {
    producer: BaseProducer<DeliveryContext>,
    topic: String,
    /// Records produced since the last flush.
    sent: u64,
    /// The topic's partition count, when a rule has a partition key.
    partitions: Option<i32>,
}

impl Publisher {
    /// Configures the producer; when `partitioned` (a rule has a
    /// partition key), reads how many partitions the topic has.
    pub fn start(config: &Config, topic: &str, partitioned: bool) -> Result<Publisher, String> {
        let producer: BaseProducer<DeliveryContext> = config
            .client()
            .create_with_context(DeliveryContext::default())
            .map_err(|e| format!("cannot configure the producer: {e}"))?;
        let partitions = if partitioned {
            let metadata = producer
                .client()
                .fetch_metadata(Some(topic), METADATA_WAIT)
                .map_err(|e| {
                    format!("cannot read the topic's partitions (a rule has a partition key): {e}")
                })?;
            let count = metadata
                .topics()
                .iter()
                .find(|t| t.name() == topic)
                .filter(|t| t.error().is_none())
                .map_or(0, |t| t.partitions().len());
            if count == 0 {
                return Err("the topic does not exist or has no partitions (a rule has a partition key, so the detector picks the partition of each alert; create the topic first)".to_string());
            }
            Some(i32::try_from(count).unwrap_or(i32::MAX))
        } else {
            None
        };
        Ok(Publisher {
            producer,
            topic: topic.to_string(),
            sent: 0,
            partitions,
        })
    }
}

/// The partition of a partition key value among `partitions`: the first
/// eight bytes of its SHA-256, modulo the count. Every detector picks the
/// same one for a value (as long as the topic keeps its partition count).
pub fn partition_of(key: &str, partitions: i32) -> i32 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let count = u64::try_from(partitions.max(1)).unwrap_or(1);
    i32::try_from(u64::from_be_bytes(first) % count).unwrap_or(0)
}

impl Publish for Publisher {
    fn send(&mut self, message: Message<'_>) -> std::io::Result<()> {
        let deadline = std::time::Instant::now() + DELIVERY_WAIT;
        let mut next = BaseRecord::to(&self.topic)
            .key(message.id.as_bytes())
            .payload(message.payload);
        if let (Some(key), Some(count)) = (message.partition, self.partitions) {
            next = next.partition(partition_of(key, count)).headers(
                rdkafka::message::OwnedHeaders::new().insert(rdkafka::message::Header {
                    key: "kqlc-partition-key",
                    value: Some(key),
                }),
            );
        }
        loop {
            match self.producer.send(next) {
                Ok(()) => break,
                // The local queue is full: serve deliveries, then again.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                    if std::time::Instant::now() < deadline =>
                {
                    self.producer.poll(Duration::from_millis(50));
                    next = back;
                }
                Err((e, _)) => {
                    PUBLISH_FAILURES.fetch_add(1, Ordering::Relaxed);
                    return Err(std::io::Error::other(format!(
                        "--publish-kafka {}: cannot produce: {e}; the messages the rows came from are not committed and will be read again",
                        self.topic
                    )));
                }
            }
        }
        self.sent += 1;
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.sent == 0 {
            return Ok(());
        }
        let sent = std::mem::take(&mut self.sent);
        let flushed = self.producer.flush(DELIVERY_WAIT);
        let outcome = std::mem::take(
            &mut *self
                .producer
                .context()
                .outcome
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        PUBLISHED.fetch_add(outcome.delivered, Ordering::Relaxed);
        let missing = sent - outcome.delivered.min(sent);
        let failure = match (&outcome.first_error, flushed) {
            (Some(e), _) => format!("{missing} of {sent} not delivered: {e}"),
            (None, Err(e)) => {
                format!("{missing} of {sent} not acknowledged within {DELIVERY_WAIT:?}: {e}")
            }
            (None, Ok(())) => return Ok(()),
        };
        PUBLISH_FAILURES.fetch_add(1, Ordering::Relaxed);
        Err(std::io::Error::other(format!(
            "--publish-kafka {}: {failure}; the messages they came from are not committed and will be read again",
            self.topic
        )))
    }

    fn replaces_output(&self) -> bool {
        false
    }
}

/// A member of a consumer group being read.
pub struct Consumer {
    consumer: BaseConsumer<GroupContext>,
    state: Arc<Mutex<GroupState>>,
    /// `kafka:TOPIC (group G)`, the source's name in messages.
    name: String,
    work: LineWork,
    /// Polling failed and that was reported: the next success is reported
    /// too, and failures until then are not.
    failing: bool,
    /// Likewise for commits.
    commit_failing: bool,
}

impl Consumer {
    /// Configures the consumer (and the producer of `--publish-kafka`) and
    /// subscribes to the topic. Joining the group happens in the first
    /// polls. The session keeps what it writes for the producer.
    pub(crate) fn start<W: Write, E: Write>(
        config: Config,
        session: &mut Session<'_, W, E>,
    ) -> Result<Consumer, String> {
        let state = Arc::new(Mutex::new(GroupState::default()));
        let mut client = config.client();
        client
            .set("group.id", &config.group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false");
        if !config.options.iter().any(|(k, _)| k == "auto.offset.reset") {
            client.set("auto.offset.reset", "earliest");
        }
        let consumer: BaseConsumer<GroupContext> = client
            .create_with_context(GroupContext {
                state: Arc::clone(&state),
            })
            .map_err(|e| format!("cannot configure the consumer: {e}"))?;
        consumer
            .subscribe(&[&config.topic])
            .map_err(|e| format!("--topic {}: cannot subscribe: {e}", config.topic))?;
        let work = session.line_work(crate::formats::InputFormat::Auto);
        Ok(Consumer {
            consumer,
            state,
            name: format!("kafka:{} (group {})", config.topic, config.group),
            work,
            failing: false,
            commit_failing: false,
        })
    }

    /// The source's name: `kafka:TOPIC (group G)`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The counts for the metrics.
    pub(crate) fn counts(&self) -> KafkaCounts {
        let mut counts = lock(&self.state).counts.clone();
        counts.published = PUBLISHED.load(Ordering::Relaxed);
        counts.publish_failures = PUBLISH_FAILURES.load(Ordering::Relaxed);
        counts
    }

    /// Polls up to [`BATCH`] messages (waiting up to `wait` for the first),
    /// runs them through the rules, flushes the output (which waits for the
    /// broker's acknowledgement of the rows `--publish-kafka` produced),
    /// then commits the offsets. `Ok(true)` when messages came.
    pub(crate) fn process<W: Write, E: Write>(
        &mut self,
        session: &mut Session<'_, W, E>,
        wait: Duration,
    ) -> Result<bool, Stop> {
        // Rows written since the last batch (scheduled rules' runs) go out
        // first.
        session.flush_output().map_err(Stop::Write)?;
        let revocations_before = lock(&self.state).revocations.len();
        // Each message with the number of revocations seen when it came.
        let mut messages: Vec<(BorrowedMessage<'_>, usize)> = Vec::new();
        let mut poll_error = None;
        while messages.len() < BATCH {
            let timeout = if messages.is_empty() {
                wait
            } else {
                Duration::ZERO
            };
            match self.consumer.poll(timeout) {
                None => break,
                Some(Ok(message)) => {
                    let seen = lock(&self.state).revocations.len();
                    messages.push((message, seen));
                }
                Some(Err(e)) => {
                    poll_error = Some(e);
                    break;
                }
            }
        }
        report_notes(&self.state, &self.name, session)?;
        match poll_error {
            None if self.failing && !messages.is_empty() => {
                self.failing = false;
                session.report(format_args!("{}: reading messages again", self.name))?;
            }
            None => {}
            Some(e) => {
                if !self.failing {
                    self.failing = true;
                    session.report(format_args!(
                        "{}: polling failed: {e} (retrying)",
                        self.name
                    ))?;
                }
                if messages.is_empty() {
                    std::thread::sleep(wait.max(Duration::from_millis(100)));
                }
            }
        }
        // Messages of partitions revoked after they came are their next
        // owner's: it reads them from the last commit.
        let revoked: Vec<(usize, Vec<(String, i32)>)> = {
            let state = lock(&self.state);
            state
                .revocations
                .iter()
                .enumerate()
                .skip(revocations_before)
                .map(|(i, r)| (i, r.clone()))
                .collect()
        };
        messages.retain(|(message, seen)| {
            !revoked.iter().any(|(i, partitions)| {
                i >= seen
                    && partitions
                        .iter()
                        .any(|(t, p)| t == message.topic() && *p == message.partition())
            })
        });
        if messages.is_empty() {
            return Ok(false);
        }
        let mut next: HashMap<(String, i32), i64> = HashMap::new();
        let (mut read, mut rejected) = (0u64, 0u64);
        let mut stop = None;
        for (message, _) in &messages {
            let name = format!("kafka:{}/{}", message.topic(), message.partition());
            let offset = message.offset();
            let position = u64::try_from(offset).unwrap_or(0);
            let outcome = match message.payload() {
                Some(payload) => session
                    .take_message(&name, position, payload, &mut self.work)
                    .map(|taken| taken.rejected > 0 && taken.rejected == taken.total),
                None => session
                    .take_unit(
                        &name,
                        position,
                        b"",
                        vec![Err(Rejection::whole(
                            "the message has no value (a null record or a tombstone)",
                        ))],
                    )
                    .map(|()| true),
            };
            match outcome {
                Ok(bad) => {
                    read += 1;
                    rejected += u64::from(bad);
                }
                // --strict: the bad message was reported and is skipped;
                // it ends the run.
                Err(Stop::Strict) => {
                    read += 1;
                    rejected += 1;
                    next.insert(
                        (message.topic().to_string(), message.partition()),
                        offset + 1,
                    );
                    stop = Some(Stop::Strict);
                    break;
                }
                Err(e) => {
                    stop = Some(e);
                    break;
                }
            }
            next.insert(
                (message.topic().to_string(), message.partition()),
                offset + 1,
            );
        }
        drop(messages);
        {
            let mut state = lock(&self.state);
            state.counts.messages += read;
            state.counts.rejected += rejected;
        }
        if let Some(Stop::Write(e)) = stop {
            // Not written: nothing of the batch is committed.
            return Err(Stop::Write(e));
        }
        session.flush_output().map_err(Stop::Write)?;
        lock(&self.state).flushed.extend(next);
        self.commit(session)?;
        match stop {
            Some(stop) => Err(stop),
            None => Ok(true),
        }
    }

    /// Commits the offsets flushed and not yet committed. A failure is
    /// reported (once until a commit succeeds) and tried again after the
    /// next batch, on revoke and at the end.
    fn commit<W: Write, E: Write>(&mut self, session: &mut Session<'_, W, E>) -> Result<(), Stop> {
        let flushed: Vec<((String, i32), i64)> = {
            let state = lock(&self.state);
            state.flushed.iter().map(|(k, v)| (k.clone(), *v)).collect()
        };
        if flushed.is_empty() {
            return Ok(());
        }
        let mut list = TopicPartitionList::new();
        for ((topic, partition), next) in &flushed {
            let _ = list.add_partition_offset(topic, *partition, Offset::Offset(*next));
        }
        // Not under the lock: nothing librdkafka calls back may wait.
        let committed = self.consumer.commit(&list, CommitMode::Sync);
        let mut state = lock(&self.state);
        match committed {
            Ok(()) => {
                // Only what was committed: a revocation may have taken
                // (and committed) some meanwhile.
                for (key, next) in flushed {
                    if state.flushed.get(&key) == Some(&next) {
                        state.flushed.remove(&key);
                    }
                }
                state.counts.commits += 1;
                drop(state);
                if self.commit_failing {
                    self.commit_failing = false;
                    session.report(format_args!("{}: committing offsets again", self.name))?;
                }
            }
            Err(e) => {
                state.counts.commit_failures += 1;
                drop(state);
                if !self.commit_failing {
                    self.commit_failing = true;
                    session.report(format_args!(
                        "{}: committing offsets failed: {e} (tried again after the next batch; the output is written)",
                        self.name
                    ))?;
                }
            }
        }
        Ok(())
    }

    /// Shutdown: with `commit` (the output was written), delivers what is
    /// left and commits what is flushed; then leaves the group (its
    /// partitions go to the other members at once).
    pub(crate) fn close<W: Write, E: Write>(
        &mut self,
        session: &mut Session<'_, W, E>,
        commit: bool,
    ) -> Result<(), Stop> {
        let finished = if commit {
            session
                .flush_output()
                .map_err(Stop::Write)
                .and_then(|()| self.commit(session))
        } else {
            Ok(())
        };
        self.consumer.unsubscribe();
        report_notes(&self.state, &self.name, session)?;
        finished
    }
}

/// Reports what librdkafka's callbacks noted.
fn report_notes<W: Write, E: Write>(
    state: &Mutex<GroupState>,
    name: &str,
    session: &mut Session<'_, W, E>,
) -> Result<(), Stop> {
    let notes = std::mem::take(&mut lock(state).notes);
    for note in notes {
        session.report(format_args!("{name}: {note}"))?;
    }
    Ok(())
}
