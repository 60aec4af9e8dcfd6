//! kql-detector: the host a detector built by kqlc runs in.
//!
//! Generated rules compute with `kql-runtime`; this crate feeds them and
//! carries their results out:
//! - [`args`]: the detector's arguments (clap) and `--config FILE` (YAML);
//! - [`detector`]: the detector's `main` (the read loop, the summary);
//! - [`input`], [`formats`], [`lazy`]: reading bytes into lines or documents,
//!   normalizing each platform's audit events, and building only the parts
//!   of a row that rules observe;
//! - [`prefilter`]: the engine that skips lines no rule can match;
//! - [`parallel`]: `--threads N`, the per-line work on worker threads;
//! - [`file_identity`]: which names are one file, so that no output is an
//!   input;
//! - [`output`], [`alert`], [`alert_id`]: result rows, alerts, and the
//!   deterministic id that deduplicating sinks key them by;
//! - [`manifest`]: what a built detector says about itself;
//! - [`live`]: `--follow` and `--listen`, the sources of a detector run as a service;
//! - [`schedule`]: stateful rules run on a schedule in a live detector;
//! - [`runner`]: running a `kql!` query over rows in a Rust program.
// Only `budget`, the counting allocator, needs `unsafe` (see its SAFETY note).
#![deny(unsafe_code)]

pub mod alert;
pub mod alert_id;
pub mod args;
pub mod budget;
pub mod detector;
pub mod file_identity;
pub mod formats;
pub mod input;
pub mod lazy;
pub mod live;
pub mod manifest;
pub mod ocsf;
pub mod output;
pub mod parallel;
pub mod prefilter;
pub mod runner;
pub mod schedule;

/// Compiles a KQL query into Rust at build time: see [`runner`] for running
/// it, and the `kql-macros` crate for the forms it takes.
///
/// ```
/// use kql_detector::{kql, runner::Runner};
/// use kql_runtime::text::parse_datetime;
///
/// let now = parse_datetime("2024-05-28T12:00:00Z").unwrap();
/// let mut creates = Runner::with_now(
///     kql!("CloudAuditEvents | where OperationName == 'create' | project OperationName, User = tostring(RawEventData.User.username)"),
///     now,
/// );
/// let rows = creates
///     .run_json_lines([
///         r#"{"OperationName": "create", "RawEventData": {"User": {"username": "alice"}}}"#,
///         r#"{"OperationName": "get", "RawEventData": {}}"#,
///     ])
///     .unwrap();
/// assert_eq!(rows.len(), 1);
/// assert_eq!(creates.to_json_line(&rows[0]), r#"{"OperationName":"create","User":"alice"}"#);
/// ```
#[cfg(feature = "macros")]
pub use kql_runtime::kql;
