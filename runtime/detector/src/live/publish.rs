//! `--publish SUBJECT`: rows and alerts published to NATS JetStream.
//!
//! Each output line (a row, an alert or an OCSF finding, as `--output`
//! formats it, without its newline) is one message on SUBJECT, with the
//! header `Nats-Msg-Id` set to [`crate::alert_id::alert_id`] of the rule id
//! and the row as `--output rows` writes it. JetStream drops a message
//! whose id it has stored within the stream's duplicate window, so an
//! event delivered twice (a detector killed before it acked) gives one
//! alert.
//!
//! Publishing is asynchronous: [`Publisher::send`] hands the message to
//! the client and keeps its ack future; [`Publisher::flush`] (the output's
//! flush, which every source calls before it acknowledges its input)
//! waits for every ack. A message whose publish fails is sent again, up
//! to [`ATTEMPTS`] times with a doubling backoff from [`FIRST_BACKOFF`];
//! then the flush fails, and the detector stops as on a failed write
//! (status 2, the `--nats` batch nak'ed, `--state` not advanced).
//!
//! The subject must be stored by a stream (the operator's to create):
//! [`Publisher::start`] asks the server which stream stores it and refuses
//! to start without one.
//!
//! **Partition keys**: the row of a rule that names partition key columns
//! (`@partition-key`, [`crate::manifest::RuleInfo::partition_key`]) is
//! published on `SUBJECT.TOKEN`, TOKEN being the key's value made a
//! subject token ([`subject_token`]): the alerts of one entity share a
//! subject, which a consumer can filter on or a subject mapping can
//! partition (`partition(N, ...)`), and JetStream keeps their order. The
//! stream must then store `SUBJECT.>` too, which start checks.

use crate::live::nats::Connect;
use crate::output::{Message, Publish};
use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How many times one message is published before the flush fails.
pub const ATTEMPTS: u32 = 5;

/// The wait before the second attempt; it doubles for each next one.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// Messages sent and not yet acked before [`Publisher::send`] waits for
/// their acks.
pub const MAX_IN_FLIGHT: usize = 4096;

/// How long the server has to ack one publish.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// The process's publish counts, for `--metrics`.
pub static COUNTS: PublishCounts = PublishCounts {
    published: AtomicU64::new(0),
    duplicates: AtomicU64::new(0),
    failures: AtomicU64::new(0),
    gave_up: AtomicU64::new(0),
};

/// Counts of [`COUNTS`].
pub struct PublishCounts {
    /// Messages acked by the stream (duplicates included).
    pub published: AtomicU64,
    /// Acked messages the stream had already stored (same `Nats-Msg-Id`).
    pub duplicates: AtomicU64,
    /// Publish attempts that failed (each retry counts).
    pub failures: AtomicU64,
    /// Messages given up on after [`ATTEMPTS`] (the detector stops).
    pub gave_up: AtomicU64,
}

/// A message sent and its ack, if the send got that far.
struct InFlight {
    subject: String,
    id: String,
    payload: bytes::Bytes,
    ack: Result<PublishAckFuture, String>,
}

/// The `--publish` sink.
pub struct Publisher {
    runtime: tokio::runtime::Runtime,
    context: jetstream::Context,
    subject: String,
    in_flight: Vec<InFlight>,
}

impl Publisher {
    /// Connects and checks that a stream stores `subject` (and, when
    /// `partitioned`, the subjects `subject.TOKEN` of partition keys).
    pub fn start(connect: Connect, subject: &str, partitioned: bool) -> Result<Publisher, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("kql-publish")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| format!("cannot start the client's thread: {e}"))?;
        let context = runtime.block_on(async {
            let client = connect.connect().await?;
            let context = jetstream::ContextBuilder::new()
                .ack_timeout(ACK_TIMEOUT)
                .max_ack_inflight(MAX_IN_FLIGHT)
                .build(client);
            if let Err(e) = context.stream_by_subject(subject).await {
                return Err(format!(
                    "no JetStream stream stores this subject ({e}); create one, e.g. nats stream add ALERTS --subjects '{subject}' --dupe-window 2m"
                ));
            }
            let keyed = format!("{subject}.{}", subject_token(""));
            if partitioned && context.stream_by_subject(keyed.as_str()).await.is_err() {
                return Err(format!(
                    "a rule has a partition key, so its alerts go to {subject}.TOKEN, and no JetStream stream stores {keyed}; let the stream store '{subject}.>' too, e.g. nats stream add ALERTS --subjects '{subject}' --subjects '{subject}.>' --dupe-window 2m"
                ));
            }
            Ok(context)
        })?;
        Ok(Publisher {
            runtime,
            context,
            subject: subject.to_string(),
            in_flight: Vec::new(),
        })
    }
}

impl Publish for Publisher {
    fn send(&mut self, message: Message<'_>) -> io::Result<()> {
        if self.in_flight.len() >= MAX_IN_FLIGHT {
            self.flush()?;
        }
        let subject = match message.partition {
            Some(key) => format!("{}.{}", self.subject, subject_token(key)),
            None => self.subject.clone(),
        };
        let payload = bytes::Bytes::copy_from_slice(message.payload);
        let id = message.id.to_string();
        let ack = self
            .runtime
            .block_on(publish(&self.context, &subject, &id, payload.clone()));
        self.in_flight.push(InFlight {
            subject,
            id,
            payload,
            ack,
        });
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let in_flight = std::mem::take(&mut self.in_flight);
        let context = &self.context;
        self.runtime.block_on(async {
            for message in in_flight {
                acked(context, message).await?;
            }
            Ok(())
        })
    }

    fn replaces_output(&self) -> bool {
        true
    }
}

/// The longest subject token a partition key value gives.
pub const MAX_TOKEN: usize = 64;

/// A partition key value as one subject token: ASCII letters, digits, `-`
/// and `_` kept, every other character (`.`, `*`, `>`, spaces, non-ASCII)
/// replaced by `_`, cut at [`MAX_TOKEN`] characters; `_` for an empty
/// value. Two values may give one token: their alerts then share a
/// subject, which keeps each one's order all the same.
pub fn subject_token(key: &str) -> String {
    let token: String = key
        .chars()
        .take(MAX_TOKEN)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if token.is_empty() {
        "_".to_string()
    } else {
        token
    }
}

/// Sends one message; its ack future, or why it could not be sent.
async fn publish(
    context: &jetstream::Context,
    subject: &str,
    id: &str,
    payload: bytes::Bytes,
) -> Result<PublishAckFuture, String> {
    context
        .send_publish(
            subject.to_string(),
            PublishMessage::build().payload(payload).message_id(id),
        )
        .await
        .map_err(|e| e.to_string())
}

/// Waits for `message`'s ack, sending it again after a failure, up to
/// [`ATTEMPTS`] times in all.
async fn acked(context: &jetstream::Context, message: InFlight) -> io::Result<()> {
    let InFlight {
        subject,
        id,
        payload,
        ack,
    } = message;
    let subject = subject.as_str();
    let mut ack = ack;
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let outcome = match ack {
            Ok(future) => future.await.map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(stored) => {
                COUNTS.published.fetch_add(1, Ordering::Relaxed);
                if stored.duplicate {
                    COUNTS.duplicates.fetch_add(1, Ordering::Relaxed);
                }
                return Ok(());
            }
            Err(e) => {
                COUNTS.failures.fetch_add(1, Ordering::Relaxed);
                if attempt == ATTEMPTS {
                    COUNTS.gave_up.fetch_add(1, Ordering::Relaxed);
                    return Err(io::Error::other(format!(
                        "--publish {subject}: message {id} not stored after {ATTEMPTS} attempts: {e}"
                    )));
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff *= 2;
        ack = publish(context, subject, &id, payload.clone()).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_keys_become_one_safe_subject_token() {
        assert_eq!(subject_token("alice"), "alice");
        assert_eq!(
            subject_token("system:serviceaccount:kube-system:x"),
            "system_serviceaccount_kube-system_x"
        );
        assert_eq!(subject_token("a.b *>c"), "a_b___c");
        assert_eq!(subject_token(""), "_");
        assert_eq!(subject_token("é"), "_");
        assert_eq!(subject_token(&"x".repeat(100)).len(), MAX_TOKEN);
    }
}
