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

use crate::live::nats::Connect;
use crate::output::Publish;
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
    /// Connects and checks that a stream stores `subject`.
    pub fn start(connect: Connect, subject: &str) -> Result<Publisher, String> {
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
            match context.stream_by_subject(subject).await {
                Ok(_) => Ok(context),
                Err(e) => Err(format!(
                    "no JetStream stream stores this subject ({e}); create one, e.g. nats stream add ALERTS --subjects '{subject}' --dupe-window 2m"
                )),
            }
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
    fn send(&mut self, id: String, payload: Vec<u8>) -> io::Result<()> {
        if self.in_flight.len() >= MAX_IN_FLIGHT {
            self.flush()?;
        }
        let payload = bytes::Bytes::from(payload);
        let ack =
            self.runtime
                .block_on(publish(&self.context, &self.subject, &id, payload.clone()));
        self.in_flight.push(InFlight { id, payload, ack });
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let in_flight = std::mem::take(&mut self.in_flight);
        let (context, subject) = (&self.context, self.subject.as_str());
        self.runtime.block_on(async {
            for message in in_flight {
                acked(context, subject, message).await?;
            }
            Ok(())
        })
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
async fn acked(context: &jetstream::Context, subject: &str, message: InFlight) -> io::Result<()> {
    let InFlight { id, payload, ack } = message;
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
