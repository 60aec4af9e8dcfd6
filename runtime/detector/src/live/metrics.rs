//! `--metrics ADDR`: Prometheus text format on `/metrics`, and the probes
//! `/healthz` (the detector's loop is turning) and `/readyz` (its sources
//! are started and it is not stopping).
//!
//! The detector's thread publishes a [`Snapshot`] after each turn of its
//! loop; a one-thread tokio runtime serves it with hyper, so a scrape never
//! waits for the rules. Lag is the wall clock at the scrape minus the
//! newest event time read (`Timestamp` or `TimeGenerated`); with
//! `--metrics` the lazy reader builds that column for every event, but
//! lines the literal prefilter skips are not parsed, so their times do not
//! count.

use super::follow::SourceCounts;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `/healthz` fails when the detector's loop has not turned for this long.
pub const STUCK_AFTER: Duration = Duration::from_secs(30);

/// What the metrics show, as the detector's thread last published it.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// `--follow` patterns' counts.
    pub follow: Vec<SourceCounts>,
    /// The webhook's counts (`--listen`).
    pub webhook: Option<SourceCounts>,
    /// The JetStream source's rows (`--nats`), as for the other sources.
    pub nats: Option<SourceCounts>,
    /// The JetStream consumer's messages: deliveries, acks, naks.
    pub consumer: Option<super::nats::ConsumerCounts>,
    /// `--publish` is on: its counts are shown.
    pub publishing: bool,
    /// The Kafka consumer's counts (`--kafka`).
    pub kafka: Option<KafkaCounts>,
    /// Rows emitted per rule: (name, count).
    pub rules: Vec<(String, u64)>,
    /// Scheduled rules: (name, rows buffered, counters).
    pub scheduled: Vec<(String, usize, crate::schedule::ScheduleStats)>,
    /// The newest event time read (100 ns ticks since the Unix epoch).
    pub newest_event: Option<i64>,
    /// With `--state`: when the checkpoint was last known to be current.
    pub checkpoint: Option<Instant>,
    /// Checkpoints written.
    pub checkpoint_writes: u64,
    /// Checkpoints that could not be written.
    pub checkpoint_errors: u64,
    /// Sources started and not stopping.
    pub ready: bool,
    /// The last turn of the detector's loop.
    pub heartbeat: Instant,
    /// When the detector started.
    pub started: Instant,
}

impl Snapshot {
    /// An empty snapshot: not ready.
    pub fn new() -> Snapshot {
        let now = Instant::now();
        Snapshot {
            follow: Vec::new(),
            webhook: None,
            nats: None,
            consumer: None,
            publishing: false,
            kafka: None,
            rules: Vec::new(),
            scheduled: Vec::new(),
            newest_event: None,
            checkpoint: None,
            checkpoint_writes: 0,
            checkpoint_errors: 0,
            ready: false,
            heartbeat: now,
            started: now,
        }
    }

    /// The Prometheus text exposition of the snapshot.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(String, f64)]| {
            let _ = writeln!(text, "# HELP {name} {help}");
            let _ = writeln!(text, "# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(text, "{name}{labels} {value}");
            }
        };
        let sources: Vec<(String, &SourceCounts)> = self
            .follow
            .iter()
            .map(|s| {
                let labels = format!(
                    "{{source=\"follow\",path=\"{}\",format=\"{}\"}}",
                    escape(&s.pattern),
                    s.format
                );
                (labels, s)
            })
            .chain(self.webhook.iter().map(|s| {
                let labels = format!("{{source=\"webhook\",format=\"{}\"}}", s.format);
                (labels, s)
            }))
            .chain(self.nats.iter().map(|s| {
                let labels = format!(
                    "{{source=\"nats\",consumer=\"{}\",format=\"{}\"}}",
                    escape(&s.pattern),
                    s.format
                );
                (labels, s)
            }))
            .collect();
        let per_source = |value: fn(&SourceCounts) -> u64| -> Vec<(String, f64)> {
            sources
                .iter()
                .map(|(labels, s)| (labels.clone(), value(s) as f64))
                .collect()
        };
        family(
            "kqlc_events_read_total",
            "counter",
            "Rows read per source: records, and lines or events rejected.",
            &per_source(|s| s.read),
        );
        family(
            "kqlc_events_rejected_total",
            "counter",
            "Lines or events rejected per source (malformed, or not of the format).",
            &per_source(|s| s.rejected),
        );
        family(
            "kqlc_lines_skipped_total",
            "counter",
            "Lines the literal prefilter skipped unparsed (no rule can match them), per source.",
            &per_source(|s| s.skipped),
        );
        let rules: Vec<(String, f64)> = self
            .rules
            .iter()
            .map(|(rule, n)| (format!("{{rule=\"{}\"}}", escape(rule)), *n as f64))
            .collect();
        family(
            "kqlc_rows_emitted_total",
            "counter",
            "Rows emitted per rule.",
            &rules,
        );
        if !self.scheduled.is_empty() {
            let per_rule = |value: &dyn Fn(usize, &crate::schedule::ScheduleStats) -> f64| {
                self.scheduled
                    .iter()
                    .map(|(rule, buffered, stats)| {
                        (
                            format!("{{rule=\"{}\"}}", escape(rule)),
                            value(*buffered, stats),
                        )
                    })
                    .collect::<Vec<_>>()
            };
            family(
                "kqlc_schedule_buffered_rows",
                "gauge",
                "Rows a scheduled rule holds for its next runs.",
                &per_rule(&|buffered, _| buffered as f64),
            );
            family(
                "kqlc_schedule_dropped_rows_total",
                "counter",
                "Rows a scheduled rule dropped at --max-buffered-rows (its runs missed them).",
                &per_rule(&|_, s| s.dropped as f64),
            );
            family(
                "kqlc_schedule_runs_total",
                "counter",
                "Runs of a scheduled rule.",
                &per_rule(&|_, s| s.runs as f64),
            );
            family(
                "kqlc_schedule_alerts_total",
                "counter",
                "Runs of a scheduled rule whose rows were written (the trigger held, not suppressed).",
                &per_rule(&|_, s| s.alerts as f64),
            );
            family(
                "kqlc_schedule_suppressed_total",
                "counter",
                "Runs of a scheduled rule whose trigger held during a suppression.",
                &per_rule(&|_, s| s.suppressed as f64),
            );
            family(
                "kqlc_schedule_last_run_seconds",
                "gauge",
                "How long a scheduled rule's last run took.",
                &per_rule(&|_, s| s.last_run.as_secs_f64()),
            );
            family(
                "kqlc_schedule_run_seconds_total",
                "counter",
                "The time a scheduled rule's runs took, in all.",
                &per_rule(&|_, s| s.run_time.as_secs_f64()),
            );
        }
        if let Some(c) = &self.consumer {
            let labels = format!("{{consumer=\"{}\"}}", escape(&c.name));
            let families: [(&str, &str, &str, u64); 8] = [
                ("kqlc_nats_messages_received_total", "counter", "JetStream messages received from the consumer.", c.received),
                ("kqlc_nats_redeliveries_total", "counter", "JetStream messages received that had been delivered before (unacked by a stopped instance, or nak'ed).", c.redelivered),
                ("kqlc_nats_acks_total", "counter", "JetStream messages acked after their rows were written (and published).", c.acked),
                ("kqlc_nats_naks_total", "counter", "JetStream messages nak'ed because the output (or --publish) failed.", c.naked),
                ("kqlc_nats_terminated_total", "counter", "Unreadable JetStream messages terminated (+TERM), after their copy to --nats-rejects.", c.terminated),
                ("kqlc_nats_rejects_copied_total", "counter", "Unreadable messages copied to --nats-rejects.", c.rejects_copied),
                ("kqlc_nats_rejects_copy_failures_total", "counter", "Copies to --nats-rejects that failed (the message was nak'ed).", c.rejects_failed),
                ("kqlc_nats_pending_messages", "gauge", "Messages of the consumer not yet delivered, as of the last message received.", c.pending),
            ];
            for (name, kind, help, value) in families {
                family(name, kind, help, &[(labels.clone(), value as f64)]);
            }
        }
        if self.publishing {
            let counts = &super::publish::COUNTS;
            let value = |n: &std::sync::atomic::AtomicU64| {
                [(String::new(), n.load(Ordering::Relaxed) as f64)]
            };
            family(
                "kqlc_publish_acked_total",
                "counter",
                "Rows or alerts published with --publish and acked by the stream (duplicates included).",
                &value(&counts.published),
            );
            family(
                "kqlc_publish_duplicates_total",
                "counter",
                "Published rows the stream already held (the same Nats-Msg-Id within its duplicate window).",
                &value(&counts.duplicates),
            );
            family(
                "kqlc_publish_failures_total",
                "counter",
                "Publish attempts that failed (each retry counts).",
                &value(&counts.failures),
            );
        }
        if let Some(newest) = self.newest_event {
            let newest = newest as f64 / kql_runtime::value::ticks::PER_SECOND as f64;
            let wall = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            family(
                "kqlc_newest_event_timestamp_seconds",
                "gauge",
                "The newest event time read (Timestamp or TimeGenerated), in seconds since the Unix epoch.",
                &[(String::new(), newest)],
            );
            family(
                "kqlc_lag_seconds",
                "gauge",
                "The wall clock minus the newest event time read, in seconds (negative for events from the future).",
                &[(String::new(), wall - newest)],
            );
        }
        if let Some(kafka) = &self.kafka {
            let counters: [(&str, &str, u64); 7] = [
                ("kqlc_kafka_messages_total", "Kafka messages read (processed by the rules).", kafka.messages),
                ("kqlc_kafka_rejected_total", "Kafka messages none of whose records could be read (reported, written to --rejects, skipped).", kafka.rejected),
                ("kqlc_kafka_commits_total", "Offset commits that succeeded (each after the output was flushed).", kafka.commits),
                ("kqlc_kafka_commit_failures_total", "Offset commits that failed (tried again later).", kafka.commit_failures),
                ("kqlc_kafka_rebalances_total", "Rebalances that took partitions away from this member.", kafka.rebalances),
                ("kqlc_kafka_published_total", "Rows or alerts produced to --publish-kafka and acknowledged.", kafka.published),
                ("kqlc_kafka_publish_failures_total", "Batches of rows --publish-kafka could not deliver (the detector stops, uncommitted).", kafka.publish_failures),
            ];
            for (name, help, value) in counters {
                family(name, "counter", help, &[(String::new(), value as f64)]);
            }
        }
        if let Some(at) = self.checkpoint {
            family(
                "kqlc_checkpoint_age_seconds",
                "gauge",
                "Seconds since the --state checkpoint was last known to cover all output written.",
                &[(String::new(), at.elapsed().as_secs_f64())],
            );
            family(
                "kqlc_checkpoint_writes_total",
                "counter",
                "Checkpoints written to the --state directory.",
                &[(String::new(), self.checkpoint_writes as f64)],
            );
            family(
                "kqlc_checkpoint_errors_total",
                "counter",
                "Checkpoints that could not be written.",
                &[(String::new(), self.checkpoint_errors as f64)],
            );
        }
        family(
            "kqlc_uptime_seconds",
            "gauge",
            "Seconds since the detector started.",
            &[(String::new(), self.started.elapsed().as_secs_f64())],
        );
        text
    }
}

/// The counters of a Kafka source (`--kafka`) and sink
/// (`--publish-kafka`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KafkaCounts {
    /// Messages processed.
    pub messages: u64,
    /// Messages none of whose records could be read.
    pub rejected: u64,
    /// Offset commits that succeeded.
    pub commits: u64,
    /// Offset commits that failed.
    pub commit_failures: u64,
    /// Rebalances that revoked partitions.
    pub rebalances: u64,
    /// Rows or alerts delivered to `--publish-kafka`.
    pub published: u64,
    /// Batches `--publish-kafka` could not deliver.
    pub publish_failures: u64,
}

impl Default for Snapshot {
    fn default() -> Snapshot {
        Snapshot::new()
    }
}

/// A label value with `\`, `"` and line feeds escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The running metrics server.
pub struct Metrics {
    runtime: Option<tokio::runtime::Runtime>,
    snapshot: Arc<Mutex<Snapshot>>,
    stopping: Arc<AtomicBool>,
    local: SocketAddr,
}

impl Metrics {
    /// Binds `addr` and serves.
    pub fn start(addr: &str) -> Result<Metrics, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("kql-metrics")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| format!("cannot start the server's thread: {e}"))?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(addr))
            .map_err(|e| format!("cannot listen: {e}"))?;
        let local = listener
            .local_addr()
            .map_err(|e| format!("cannot listen: {e}"))?;
        let snapshot = Arc::new(Mutex::new(Snapshot::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        runtime.spawn(serve(
            listener,
            Arc::clone(&snapshot),
            Arc::clone(&stopping),
        ));
        Ok(Metrics {
            runtime: Some(runtime),
            snapshot,
            stopping,
            local,
        })
    }

    /// The address served, as a URL.
    pub fn url(&self) -> String {
        format!("http://{}/metrics", self.local)
    }

    /// Changes the published snapshot.
    pub fn update(&self, change: impl FnOnce(&mut Snapshot)) {
        if let Ok(mut snapshot) = self.snapshot.lock() {
            change(&mut snapshot);
        }
    }
}

impl Drop for Metrics {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    snapshot: Arc<Mutex<Snapshot>>,
    stopping: Arc<AtomicBool>,
) {
    while !stopping.load(Ordering::SeqCst) {
        let accepted = tokio::time::timeout(Duration::from_millis(100), listener.accept()).await;
        let Ok(Ok((stream, _))) = accepted else {
            continue;
        };
        let snapshot = Arc::clone(&snapshot);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let response = answer(&request, &snapshot);
                async move { Ok::<_, std::convert::Infallible>(response) }
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10));
            let _ = http.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// Answers `/metrics`, `/healthz` and `/readyz`.
fn answer(request: &Request<Incoming>, snapshot: &Mutex<Snapshot>) -> Response<Full<Bytes>> {
    let Ok(snapshot) = snapshot.lock().map(|s| s.clone()) else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "metrics unavailable\n");
    };
    match request.uri().path() {
        "/metrics" => {
            let mut response = text(StatusCode::OK, &snapshot.render());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        "/healthz" => {
            let idle = snapshot.heartbeat.elapsed();
            if idle < STUCK_AFTER {
                text(StatusCode::OK, "ok\n")
            } else {
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!(
                        "the detector's loop has not turned for {} s\n",
                        idle.as_secs()
                    ),
                )
            }
        }
        "/readyz" if snapshot.ready => text(StatusCode::OK, "ready\n"),
        "/readyz" => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the sources are starting or the detector is stopping\n",
        ),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: /metrics, /healthz and /readyz are served\n",
        ),
    }
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_prometheus_text_with_escaped_labels() {
        let mut snapshot = Snapshot::new();
        snapshot.follow.push(SourceCounts {
            pattern: "/var/log/a\"b*.log".into(),
            format: "auto",
            read: 10,
            rejected: 1,
            skipped: 3,
        });
        snapshot.rules.push(("creates".into(), 4));
        let text = snapshot.render();
        assert!(text.contains(
            "kqlc_events_read_total{source=\"follow\",path=\"/var/log/a\\\"b*.log\",format=\"auto\"} 10\n"
        ));
        assert!(text.contains("# TYPE kqlc_rows_emitted_total counter\n"));
        assert!(text.contains("kqlc_rows_emitted_total{rule=\"creates\"} 4\n"));
        assert!(
            !text.contains("checkpoint"),
            "no --state, no checkpoint metrics"
        );
    }

    #[test]
    fn a_jetstream_consumer_gives_one_labelled_family_per_count() {
        let mut snapshot = Snapshot::new();
        snapshot.consumer = Some(super::super::nats::ConsumerCounts {
            name: "nats:AUDIT/det\"ectors".into(),
            received: 7,
            redelivered: 2,
            acked: 5,
            naked: 1,
            terminated: 1,
            rejects_copied: 1,
            rejects_failed: 0,
            pending: 40,
        });
        let text = snapshot.render();
        let label = "{consumer=\"nats:AUDIT/det\\\"ectors\"}";
        for (name, kind, value) in [
            ("kqlc_nats_messages_received_total", "counter", 7),
            ("kqlc_nats_redeliveries_total", "counter", 2),
            ("kqlc_nats_acks_total", "counter", 5),
            ("kqlc_nats_naks_total", "counter", 1),
            ("kqlc_nats_terminated_total", "counter", 1),
            ("kqlc_nats_rejects_copied_total", "counter", 1),
            ("kqlc_nats_rejects_copy_failures_total", "counter", 0),
            ("kqlc_nats_pending_messages", "gauge", 40),
        ] {
            assert!(
                text.contains(&format!("# TYPE {name} {kind}\n")),
                "{name}: {text}"
            );
            assert!(
                text.contains(&format!("{name}{label} {value}\n")),
                "{name}: {text}"
            );
        }
        let received = text.find("kqlc_nats_messages_received_total{").unwrap();
        let pending = text.find("kqlc_nats_pending_messages{").unwrap();
        assert!(received < pending, "families in their order: {text}");
    }
}
