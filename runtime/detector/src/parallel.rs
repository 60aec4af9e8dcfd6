//! `--threads N`: the per-line work of JSON-lines input on N worker threads,
//! with results identical to one thread.
//!
//! What is parallel is only what depends on nothing but the line itself:
//! the UTF-8 check, the literal prefilter scan, JSON parsing and
//! normalization, and laying records out as rows ([`LineWork`]). Everything
//! with state or order stays on the calling thread, in input order, exactly
//! as with one thread: counting, rejection reports (`--strict`,
//! `--rejects`), the rules themselves (`Query::push`, but see partial
//! aggregation below), output and alerts.
//!
//! ```text
//! main thread: read ─ cut at the last '\n' ─ batch k ──▶ worker k mod N
//!                                                          │ LineWork::batch
//! main thread: ◀── outcomes of batch k, taken in order k = 0, 1, 2... ┘
//!              counts, rejects, Query::push, output
//! ```
//!
//! The calling thread reads the decompressed stream into buffers of about
//! [`BATCH_BYTES`], cuts each after its last line end (the partial line
//! carries over to the next buffer), and hands batch `k` to worker
//! `k mod N`; it takes outcomes back from the workers in the same
//! round-robin order, so they come in input order without a reordering
//! buffer. At most `2 × N` batches are in flight, which bounds memory.
//! A line longer than the limit is never buffered whole: the batches in
//! flight are finished first, then its bytes stream to the rejects writer,
//! as the one-thread reader does.
//!
//! That is the path for a stream (stdin, a pipe, a gzip file). A plain
//! file is read by the workers themselves ([`read_file_lines`]): worker
//! `w` reads the byte ranges `k ≡ w (mod N)` of the file with positioned
//! reads (`pread`, [`ReadAt`]), takes the lines that start in each
//! (reading past the range to its last line's end), and works on them;
//! the calling thread takes the outcomes in range order and numbers their
//! lines, so the copy out of the page cache, which on the stream path is
//! the calling thread's largest share, runs on the workers too. What the
//! file grew by after its size was taken is then read as a stream; a file
//! found truncated is a read error. See `docs/limits.md`.
//!
//! Each worker has its own [`PrefilterSet`]. The set's adaptive state (the
//! order in which it tries conditions, from needle frequencies) cannot
//! change results: a needle's presence is a function of the line alone, and
//! the formula's value does not depend on the order its `and`/`or`
//! operands are tried in; only the speed does.
//!
//! Partial aggregation. When every rule has a [`Query::partial`] (its
//! rows pass stateless stages into a `summarize` whose aggregates merge
//! exactly), the rules' per-row work moves to the workers too: each batch's
//! rows go into fresh partial states on its worker ([`PartialRules`]), and
//! the calling thread, after the batch's counts and rejections, merges them
//! into the rules in batch order ([`Query::merge_partial`]); over a plain
//! file a worker keeps one set of states for a whole region of consecutive
//! batches, merged once (see [`read_file_lines`]). So groups keep
//! their first-seen order and `make_list`, `arg_max` ties and `take_any`
//! resolve as with one thread. A line whose records all went into the
//! partial states gives no event in the outcome, only counts ([`Taken`]):
//! the calling thread neither walks nor frees anything per such line (a
//! block freed by another thread than the one that allocated it costs a
//! lock on the allocating thread's heap in glibc's allocator, and both
//! threads' caches). The rows of the lines that still give an event (a
//! rejection in them) are `None`.
//!
//! The one-thread path ([`crate::detector`]) calls the same
//! [`LineWork::line`] for each line, so the two cannot disagree on what a
//! line gives.

use crate::formats::tables::{self, DerivedTable};
use crate::formats::{InputFormat, Item, Normalizer, Rejection, CLOUD_AUDIT_COLUMNS};
use crate::input;
use crate::lazy::RowReader;
use crate::prefilter::{Gate, GateCursor, PrefilterSet};
use kql_runtime::context::Context;
use kql_runtime::query::{Access, ColumnType, Query, Table};
use kql_runtime::value::{Row, Value};
use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc::{self, Receiver, Sender};

mod positioned;
pub use positioned::{read_file_lines, PlainFile, ReadAt};

/// The size of a batch of lines handed to a worker (whole lines: a batch
/// ends at the last line end in a buffer of this size).
pub const BATCH_BYTES: usize = 256 << 10;

/// Batches in flight per worker.
const IN_FLIGHT_PER_WORKER: usize = 2;

/// What one record of a unit gives: its format and, per table read, its
/// row there (`None` when the event has no row in that table, as a read in
/// `AKSAuditAdmin`), or why it was rejected.
pub type RecordRows = Result<(InputFormat, Vec<Option<Row>>), Rejection>;

/// A derived table, with the columns rules observe of it.
type Derived = (DerivedTable, Vec<&'static str>);

/// The tables the rules read, each with the columns that must be present.
pub type Tables = Vec<(&'static Table, Vec<bool>)>;

/// The per-line work of one input file: everything that depends only on
/// the line. Each worker has its own copy.
#[derive(Clone, Debug)]
pub struct LineWork {
    format: InputFormat,
    normalizer: Normalizer,
    prefilter: Option<PrefilterSet>,
    /// For a native format (`k8s`, `eks`, `aks`), the rules' prefilters
    /// reduced to what holds in the format's text
    /// ([`PrefilterSet::for_format`]): it reads every line of the file.
    native: Option<PrefilterSet>,
    tables: Tables,
    /// The columns of the tables read, to recognise rows of them.
    row_columns: Vec<&'static str>,
    /// Per table read, the derived table it is (its rows made from the
    /// normalized record, see [`crate::formats::tables`]) and the columns
    /// rules observe (only those are made); `None` for a table read as it
    /// is.
    derived: Vec<Option<Derived>>,
    /// Reads row-shaped lines straight into rows, building only what the
    /// rules observe (none with `--full-parse`).
    row_reader: Option<RowReader>,
    /// Per rule (in the prefilter's order), the position in `tables` of the
    /// table it reads: a line no rule of a table may match gets no row of
    /// that table (a derived table's row, its `log_s` above all, is costly).
    rule_tables: Vec<Option<usize>>,
    /// Per table, whether the line being read needs its row.
    needed: Vec<bool>,
    /// The prefilter's gate, built from the first batch's lines (the outer
    /// `None` until then).
    gate: Option<Option<Gate>>,
    /// The longest line read, in bytes.
    limit: usize,
    items: Vec<Item>,
    /// Per-batch partial aggregation (see [`PartialRules`]), when every
    /// rule has one.
    partials: Option<PartialRules>,
    /// A line's row per table, for the partial states (kept to be reused).
    table_rows: Vec<Option<Row>>,
}

/// What a line that is not skipped gives ([`LineWork::line_rows`]).
pub(crate) enum LineRows {
    /// One `CloudAuditEvents` record, the same row in every table read.
    Row(Row),
    /// Records, as [`LineWork::line`] gives them.
    Records(Vec<RecordRows>),
}

/// `--threads`: per rule, a partial state ([`Query::partial`]) that a
/// worker pushes one batch's rows into; the batch's outcome carries the
/// states to the calling thread, which merges them into the rules in input
/// order ([`Query::merge_partial`]). A clone has fresh states.
pub struct PartialRules {
    ctx: Context,
    /// Per rule: the position in the tables of the table it reads, and
    /// its partial state.
    rules: Vec<(Option<usize>, Box<dyn Query + Send>)>,
    /// Per rule, the heap bytes its state grew by on this thread (see
    /// `kql_runtime::budget::thread_net_bytes`).
    held: Vec<i64>,
}

impl PartialRules {
    /// Partial states of `rules` (`rule_tables` says which table each
    /// reads), or `None` when a rule has none: then every rule takes its
    /// rows on the calling thread.
    pub fn new(
        ctx: &Context,
        rules: &[Box<dyn Query>],
        rule_tables: &[Option<usize>],
    ) -> Option<PartialRules> {
        let rules = rules
            .iter()
            .zip(rule_tables)
            .map(|(rule, table)| Some((*table, rule.partial()?)))
            .collect::<Option<Vec<_>>>()?;
        Some(PartialRules {
            ctx: ctx.clone(),
            held: vec![0; rules.len()],
            rules,
        })
    }

    /// Pushes a record's rows into the states of the rules that may match
    /// its line (`may_match`; empty: all). A rule that only reads a row
    /// borrows it ([`Query::borrows_rows`]); what is left in `rows` after
    /// is rows no rule took.
    fn push(&mut self, rows: &mut [Option<Row>], may_match: &[bool]) {
        let wanted = |rule: usize, table: Option<usize>| -> Option<usize> {
            let table = table?;
            (may_match.get(rule) != Some(&false)).then_some(table)
        };
        for rule in 0..self.rules.len() {
            let Some(table) = wanted(rule, self.rules[rule].0) else {
                continue;
            };
            let before = kql_runtime::budget::thread_net_bytes();
            // A partial rule gives no row before `finish`.
            if self.rules[rule].1.borrows_rows() {
                if let Some(Some(row)) = rows.get(table) {
                    self.rules[rule]
                        .1
                        .push_borrowed(&self.ctx, row, &mut |_| {});
                }
            } else {
                // The last rule reading the table takes its row, the others a copy.
                let later =
                    (rule + 1..self.rules.len()).any(|r| wanted(r, self.rules[r].0) == Some(table));
                let row = match rows.get_mut(table) {
                    Some(slot) if later => slot.clone(),
                    Some(slot) => slot.take(),
                    None => None,
                };
                if let Some(row) = row {
                    self.rules[rule].1.push(&self.ctx, row, &mut |_| {});
                }
            }
            self.held[rule] += kql_runtime::budget::thread_net_bytes() - before;
        }
    }

    /// The states so far, with what each grew the heap by, leaving fresh
    /// ones.
    fn take(&mut self) -> Partials {
        let fresh = self.clone();
        let taken = std::mem::replace(self, fresh);
        Partials {
            rules: taken.rules.into_iter().map(|(_, rule)| rule).collect(),
            held: taken.held,
        }
    }
}

impl Clone for PartialRules {
    fn clone(&self) -> PartialRules {
        let rules: Vec<_> = (self.rules.iter())
            .filter_map(|(table, rule)| Some((*table, rule.partial()?)))
            .collect();
        PartialRules {
            ctx: self.ctx.clone(),
            held: vec![0; rules.len()],
            rules,
        }
    }
}

impl std::fmt::Debug for PartialRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.rules.iter().map(|(_, rule)| rule.name()).collect();
        f.debug_struct("PartialRules")
            .field("rules", &names)
            .finish()
    }
}

/// The partial states of one batch, one per rule, for
/// [`Query::merge_partial`] in input order.
pub struct Partials {
    /// Per rule, its state over the batch's rows.
    pub rules: Vec<Box<dyn Query + Send>>,
    /// Per rule, the heap bytes that state holds.
    pub held: Vec<i64>,
}

impl std::fmt::Debug for Partials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Partials")
            .field("held", &self.held)
            .finish()
    }
}

impl LineWork {
    /// The work for a file read as `format`, with the rules' prefilters
    /// (`None` when lines are never skipped) and tables.
    pub fn new(format: InputFormat, prefilter: Option<PrefilterSet>, tables: Tables) -> LineWork {
        let mut row_columns: Vec<&'static str> = tables
            .iter()
            .flat_map(|(table, _)| table.columns.iter().map(|(name, _)| *name))
            .collect();
        let derived: Vec<Option<Derived>> = tables
            .iter()
            .map(|(table, required)| {
                let derived = DerivedTable::of_table(table.name)?;
                let observed = (table.columns.iter())
                    .map(|(name, _)| *name)
                    .filter(|name| observes(table, required, name))
                    .collect();
                Some((derived, observed))
            })
            .collect();
        // A derived table's rows come from CloudAuditEvents records: rows of
        // that table are rows too (and so prefiltered).
        if derived.iter().any(Option::is_some) {
            row_columns.extend(CLOUD_AUDIT_COLUMNS);
        }
        let native = match format {
            InputFormat::K8s | InputFormat::Eks | InputFormat::Aks => {
                prefilter.as_ref().and_then(|p| p.for_format(format))
            }
            _ => None,
        };
        LineWork {
            format,
            normalizer: Normalizer::new(format, row_columns.clone()),
            prefilter,
            native,
            tables,
            row_columns,
            derived,
            row_reader: None,
            rule_tables: Vec::new(),
            needed: Vec::new(),
            gate: None,
            limit: input::MAX_LINE_BYTES,
            items: Vec::new(),
            partials: None,
            table_rows: Vec::new(),
        }
    }

    /// Aggregates each batch's rows on its worker (see [`PartialRules`]).
    pub fn with_partials(mut self, partials: Option<PartialRules>) -> LineWork {
        self.partials = partials;
        self
    }

    /// Reads row-shaped lines with `reader` (see [`crate::lazy`]).
    pub fn with_row_reader(mut self, reader: Option<RowReader>) -> LineWork {
        self.row_reader = reader;
        self
    }

    /// Takes back a row that [`LineWork::line_rows`] gave, once nothing
    /// holds it: the lazy reader reads a later row into its storage.
    pub(crate) fn reuse_row(&mut self, row: Row) {
        if let Some(reader) = &mut self.row_reader {
            reader.reuse_row(row);
        }
    }

    /// [`LineWork::reuse_row`] of each of `rows` (left empty).
    fn reuse_rows(&mut self, rows: &mut Vec<Row>) {
        for row in rows.drain(..) {
            self.reuse_row(row);
        }
    }

    /// Which rule reads which table (see the field): without it, every
    /// table's row is made for every line read.
    pub fn with_rule_tables(mut self, rule_tables: Vec<Option<usize>>) -> LineWork {
        self.rule_tables = rule_tables;
        self
    }

    /// What a non-blank line of JSON-lines input gives: `None` when the
    /// prefilter skips it (no rule can match it and it is valid UTF-8),
    /// otherwise its records. `may_match` is set to which rules may match
    /// it (left empty when the prefilter did not look at the line).
    pub fn line(&mut self, bytes: &[u8], may_match: &mut Vec<bool>) -> Option<Vec<RecordRows>> {
        match self.line_rows(bytes, may_match)? {
            LineRows::Row(row) => {
                let rows = vec![Some(row); self.tables.len()];
                Some(vec![Ok((InputFormat::CloudAudit, rows))])
            }
            LineRows::Records(records) => Some(records),
        }
    }

    /// [`LineWork::line`], with a row the lazy reader read as it is: one
    /// `CloudAuditEvents` record whose row is the same in every table read.
    pub(crate) fn line_rows(
        &mut self,
        bytes: &[u8],
        may_match: &mut Vec<bool>,
    ) -> Option<LineRows> {
        // The prefilter reads rows of the tables; other formats' lines do
        // not hold the columns' text verbatim: a native format has its own
        // reduced prefilter, the others none.
        let row_shaped = match self.format {
            InputFormat::CloudAudit => true,
            InputFormat::Auto => starts_with_column(bytes, &self.row_columns),
            _ => false,
        };
        may_match.clear();
        let prefilter = match row_shaped {
            true => self.prefilter.as_mut(),
            false => self.native.as_mut(),
        };
        if let Some(prefilter) = prefilter {
            // Invalid UTF-8 is still reported: the check is cheap.
            if !prefilter.scan(bytes, may_match) && std::str::from_utf8(bytes).is_ok() {
                return None;
            }
        }
        // A row the lazy reader cannot read as the general path would
        // (anything unexpected) is left to the general path.
        self.set_needed(may_match);
        if let (Some(reader), true) = (&mut self.row_reader, row_shaped) {
            if reader.reads_records() {
                // Derived tables: rows made from the pruned record, exactly
                // as the general path makes them from the whole one; a row
                // the general path would reject goes there, for its message.
                let rows = reader.record(bytes).and_then(|(record, row)| {
                    let row = Some((reader.columns(), &row));
                    rows_for_tables(&record, &self.tables, &self.derived, &self.needed, row).ok()
                });
                if let Some(rows) = rows {
                    return Some(LineRows::Records(vec![Ok((InputFormat::CloudAudit, rows))]));
                }
            } else if let Some(row) = reader.row(bytes) {
                return Some(LineRows::Row(row));
            }
        }
        self.normalizer.line(bytes, &mut self.items);
        Some(LineRows::Records(self.records()))
    }

    /// Works out which tables' rows the line being read needs: those of
    /// the rules the prefilter left in (`may_match`; empty: every rule).
    fn set_needed(&mut self, may_match: &[bool]) {
        self.needed.clear();
        self.needed.resize(self.tables.len(), may_match.is_empty());
        if !may_match.is_empty() {
            for (rule, table) in self.rule_tables.iter().enumerate() {
                if let (Some(table), Some(true)) = (table, may_match.get(rule)) {
                    self.needed[*table] = true;
                }
            }
            // Without the map (or with rules it does not cover), every table.
            if self.rule_tables.len() != may_match.len() {
                self.needed.fill(true);
            }
        }
    }

    /// The gate for this file's lines, from a sample of `bytes`' lines;
    /// none when lines are not prefiltered.
    fn build_gate(&self, bytes: &[u8]) -> Option<Gate> {
        let prefilter = match self.format {
            InputFormat::CloudAudit | InputFormat::Auto => self.prefilter.as_ref()?,
            _ => self.native.as_ref()?,
        };
        let sample: Vec<&[u8]> = bytes.split(|&b| b == b'\n').take(512).collect();
        prefilter.gate(&sample)
    }

    /// Where the run of whole lines from `start` that the gate rules out
    /// ends (`start` when there is none): the start of the line holding the
    /// next gate string, if the run is valid UTF-8 (invalid lines must be
    /// reported), no line is too long, and, when the gate needs it, ASCII.
    fn skippable_until(&self, bytes: &[u8], start: usize, cursor: &mut GateCursor) -> usize {
        let Some(Some(gate)) = &self.gate else {
            return start;
        };
        let rest = &bytes[start..];
        let hit = gate
            .find(cursor, bytes, start)
            .map_or(rest.len(), |at| at - start);
        let Some(end) = memchr::memrchr(b'\n', &rest[..hit]).map(|i| i + 1) else {
            return start;
        };
        let run = &rest[..end];
        if run.len() > self.limit && has_long_line(run, self.limit) {
            return start;
        }
        // Up to the first byte that needs a line read on its own: non-ASCII
        // when the gate needs ASCII, invalid UTF-8 otherwise.
        let bad = if run.is_ascii() {
            None
        } else if gate.ascii_only() {
            run.iter().position(|b| !b.is_ascii())
        } else {
            std::str::from_utf8(run).err().map(|e| e.valid_up_to())
        };
        match bad {
            None => start + end,
            Some(bad) => memchr::memrchr(b'\n', &run[..bad]).map_or(start, |i| start + i + 1),
        }
    }

    /// Whether the gate's prefilter applies to `line`: a row of the tables
    /// read, or any line of a native format that has a prefilter.
    fn gated(&self, line: &[u8]) -> bool {
        match self.format {
            InputFormat::CloudAudit => true,
            InputFormat::Auto => starts_with_column(line, &self.row_columns),
            _ => self.native.is_some(),
        }
    }

    /// The webhook's fast path: what a body holding an `EventList` gives,
    /// with the items no rule can match skipped unparsed: the records of
    /// the others, each as [`LineWork::value`] of the whole list would
    /// give it (`items[i]` located), and the number skipped.
    ///
    /// `None` when the fast path cannot promise exactly what parsing the
    /// whole body gives (no native prefilter, a body or `kind` or
    /// `apiVersion` that is not plainly an `EventList`, an item that would
    /// make the body's parse fail, or anything unexpected): the caller
    /// then parses the body as a whole, for the same records or the same
    /// error as without the prefilter.
    pub fn event_list(&mut self, body: &[u8]) -> Option<(Vec<RecordRows>, u64)> {
        use serde_json::value::RawValue;
        if self.format != InputFormat::K8s {
            return None;
        }
        let prefilter = self.native.as_mut()?;
        // Keys with escapes, or a body that is not a JSON object: the
        // general path. A repeated key keeps its last value, as a bag does.
        let envelope: Envelope<'_> = serde_json::from_slice(body).ok()?;
        if envelope.kind?.get() != "\"EventList\"" {
            return None;
        }
        if let Some(version) = envelope.api_version {
            // Without escapes: a `\u` escape could be a lone surrogate,
            // which the general path's parse refuses.
            if !version.get().starts_with("\"audit.k8s.io/") || version.get().contains('\\') {
                return None;
            }
        }
        let items: Vec<&RawValue> = envelope.items?;
        let mut records = Vec::with_capacity(items.len());
        let mut skipped = 0u64;
        let mut may_match = Vec::new();
        let platform = crate::formats::k8s::Platform::kubernetes();
        for (i, item) in items.iter().enumerate() {
            let text = item.get();
            if !prefilter.scan(text.as_bytes(), &mut may_match) {
                // Skipped unparsed, but only when parsing it within the
                // body could not have failed (serde_json's recursion limit
                // counts from the body; a number out of range): the rest
                // of the item's syntax the split above checked.
                if !parses_within(text, LIST_DEPTH) {
                    return None;
                }
                skipped += 1;
                continue;
            }
            // The same parse as the body's, so the same failures.
            let value: Value = serde_json::from_str(text).ok()?;
            if nesting(text.as_bytes()).0 + LIST_DEPTH >= JSON_DEPTH_LIMIT {
                return None;
            }
            let at = || format!("items[{i}]");
            let record = crate::formats::k8s::audit_event(&value, "event")
                .and_then(|event| crate::formats::k8s::event_record(event, &platform))
                .map(|fields| crate::formats::Record::new(InputFormat::K8s, fields).located(at()));
            self.items
                .push(record.map_err(|cause| Rejection::at(at(), cause)));
        }
        self.needed.clear();
        records.extend(self.records());
        Some((records, skipped))
    }

    /// What one value of a multi-line document gives.
    pub fn value(&mut self, value: Value) -> Vec<RecordRows> {
        // Not prefiltered: every table's row.
        self.needed.clear();
        self.normalizer.value(value, &mut self.items);
        self.records()
    }

    fn records(&mut self) -> Vec<RecordRows> {
        let (tables, derived, needed) = (&self.tables, &self.derived, &self.needed);
        self.items
            .drain(..)
            .map(|item| {
                item.and_then(|record| {
                    let rows = rows_for_tables(&record.fields, tables, derived, needed, None)
                        .map_err(|cause| Rejection::at(record.at.clone(), cause))?;
                    Ok((record.format, rows))
                })
            })
            .collect()
    }

    /// The outcomes of the lines in `job` (whole lines, `\n`-terminated but
    /// for the last line of the input).
    fn batch(&mut self, job: Job) -> BatchOutcome {
        let bytes = &job.buffer[job.start..job.len];
        if self.gate.is_none() {
            self.gate = Some(self.build_gate(bytes));
        }
        let mut events = Vec::new();
        let (mut blank, mut skipped) = (0u64, 0u64);
        let mut taken = Taken::default();
        let mut may_match = Vec::new();
        let mut index = 0u64;
        let mut start = 0usize;
        // Lines starting before `skippable` hold none of the gate's strings:
        // they are blank or skipped unless not shaped like a row.
        let mut skippable = 0usize;
        let mut cursor = match &self.gate {
            Some(Some(gate)) => gate.cursor(),
            _ => GateCursor::default(),
        };
        while start < bytes.len() {
            if start >= skippable {
                skippable = self.skippable_until(bytes, start, &mut cursor);
            }
            if start < skippable {
                // `skippable` ends just after a line end.
                let end = memchr::memchr(b'\n', &bytes[start..skippable])
                    .map_or(skippable - 1, |i| start + i);
                let line = &bytes[start..end];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if input::is_blank(line) {
                    blank += 1;
                    index += 1;
                    start = end + 1;
                    continue;
                }
                if self.gated(line) {
                    skipped += 1;
                    index += 1;
                    start = end + 1;
                    continue;
                }
                // Not a row: the prefilter does not apply; read it below.
            }
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            let line = &bytes[start..end];
            start = end + 1;
            let this = index;
            index += 1;
            let kind = if line.len() > self.limit {
                EventKind::TooLong {
                    bytes: line.to_vec(),
                }
            } else {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if input::is_blank(line) {
                    blank += 1;
                    continue;
                }
                let mut records = match self.line_rows(line, &mut may_match) {
                    None => {
                        skipped += 1;
                        continue;
                    }
                    Some(LineRows::Row(row)) => match &mut self.partials {
                        // Straight into the partial states, through rows
                        // kept from line to line: no record to allocate.
                        Some(partials) => {
                            self.table_rows.clear();
                            self.table_rows.resize(self.tables.len(), Some(row));
                            partials.push(&mut self.table_rows, &may_match);
                            // A row every rule only borrowed: the next
                            // line's storage.
                            let spare = self.table_rows.iter_mut().find_map(Option::take);
                            self.table_rows.clear();
                            if let (Some(spare), Some(reader)) = (spare, &mut self.row_reader) {
                                reader.reuse_row(spare);
                            }
                            taken.record(InputFormat::CloudAudit);
                            continue;
                        }
                        None => {
                            events.push(LineEvent {
                                index: this,
                                blank_before: std::mem::take(&mut blank),
                                skipped_before: std::mem::take(&mut skipped),
                                taken_before: std::mem::take(&mut taken),
                                kind: EventKind::Row {
                                    row,
                                    may_match: event_may_match(&mut may_match),
                                },
                            });
                            continue;
                        }
                    },
                    Some(LineRows::Records(records)) => records,
                };
                if let Some(partials) = &mut self.partials {
                    for (_, rows) in records.iter_mut().flatten() {
                        partials.push(rows, &may_match);
                        rows.iter_mut().for_each(|row| *row = None);
                    }
                    // Every row went into the partial states: the calling
                    // thread only counts the line (and frees nothing made
                    // here, which would contend for this thread's heap).
                    if records.iter().all(Result::is_ok) {
                        taken.line(&records);
                        continue;
                    }
                }
                // The line's text is needed only to write it to --rejects.
                let text = if records.iter().any(|r| r.is_err()) {
                    line.to_vec()
                } else {
                    Vec::new()
                };
                EventKind::Unit {
                    records,
                    may_match: event_may_match(&mut may_match),
                    text,
                }
            };
            events.push(LineEvent {
                index: this,
                blank_before: std::mem::take(&mut blank),
                skipped_before: std::mem::take(&mut skipped),
                taken_before: std::mem::take(&mut taken),
                kind,
            });
        }
        BatchOutcome {
            lines: index,
            events,
            blank_after: blank,
            skipped_after: skipped,
            taken_after: taken,
            buffer: job.buffer,
            partials: None,
        }
    }

    /// Whether rows go into partial states on this worker ([`PartialRules`]).
    pub(crate) fn has_partials(&self) -> bool {
        self.partials.is_some()
    }

    /// The partial states over the rows pushed since the last call, with
    /// what each grew the heap by, leaving fresh ones (`None` without
    /// partial aggregation).
    pub(crate) fn take_partials(&mut self) -> Option<Partials> {
        self.partials.as_mut().map(PartialRules::take)
    }

    /// The heap bytes the partial states hold now (0 without them).
    pub(crate) fn partial_bytes(&self) -> i64 {
        self.partials
            .as_ref()
            .map_or(0, |partials| partials.held.iter().sum())
    }
}

/// What the webhook's fast path reads of an `EventList` body, in one pass:
/// `kind` and `apiVersion` as written, the items' texts (each checked as
/// JSON, not parsed), every other member skipped. `items` that is not an
/// array, and a key spelled with escapes, fail (the general path then
/// decides).
struct Envelope<'a> {
    kind: Option<&'a serde_json::value::RawValue>,
    api_version: Option<&'a serde_json::value::RawValue>,
    items: Option<Vec<&'a serde_json::value::RawValue>>,
}

impl<'de> serde::Deserialize<'de> for Envelope<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Envelope<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an EventList object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut envelope = Envelope {
                    kind: None,
                    api_version: None,
                    items: None,
                };
                // A repeated key: its last value, as a bag keeps it.
                while let Some(key) = map.next_key::<&'de str>()? {
                    match key {
                        "kind" => envelope.kind = Some(map.next_value()?),
                        "apiVersion" => envelope.api_version = Some(map.next_value()?),
                        "items" => envelope.items = Some(map.next_value()?),
                        // Another member must parse within the body as
                        // alone (see `parses_within`).
                        _ => {
                            let value: &'de serde_json::value::RawValue = map.next_value()?;
                            if !parses_within(value.get(), 1) {
                                return Err(serde::de::Error::custom("left to the general path"));
                            }
                        }
                    }
                }
                Ok(envelope)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// How deep an `EventList`'s items are nested in its body (the object,
/// then `items`).
const LIST_DEPTH: usize = 2;

/// serde_json's recursion limit: a body nested this deep (or deeper) is
/// not parsed. Compared conservatively (`>=`): at the limit itself the
/// general path decides.
const JSON_DEPTH_LIMIT: usize = 127;

/// True when `item`, the text of a valid JSON value (as serde_json's split
/// of the body checked it) nested `within` levels deep in the body, parses
/// into a [`Value`] there as it does alone: it is not nested too deep, and
/// any number in it that could be out of range (an exponent, or many
/// digits), and any `\u` escape (a lone surrogate is refused), reads.
fn parses_within(item: &str, within: usize) -> bool {
    let (depth, unusual_number) = nesting(item.as_bytes());
    if depth + within >= JSON_DEPTH_LIMIT {
        return false;
    }
    let unusual = unusual_number || memchr::memmem::find(item.as_bytes(), b"\\u").is_some();
    !unusual || serde_json::from_str::<Value>(item).is_ok()
}

/// The deepest nesting of arrays and objects in a valid JSON text, and
/// whether a number in it has an exponent or more than 15 characters
/// (`1e400` is valid JSON that serde_json does not read as a number).
fn nesting(text: &[u8]) -> (usize, bool) {
    let (mut depth, mut deepest, mut unusual) = (0usize, 0usize, false);
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'"' => {
                // Skip the string: to its closing quote, past escapes.
                i += 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &text[i.min(text.len())..]) {
                        Some(j) if text[i + j] == b'\\' => i += j + 2,
                        Some(j) => {
                            i += j + 1;
                            break;
                        }
                        None => return (deepest, true),
                    }
                }
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < text.len()
                    && matches!(text[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                {
                    i += 1;
                }
                let number = &text[start..i];
                unusual |= number.len() > 15 || number.iter().any(|b| matches!(b, b'e' | b'E'));
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (deepest, unusual)
}

/// `may_match` for a line's event, leaving the vector to the next line.
/// Every rule allowed is said by an empty vector (as when the prefilter
/// did not look), which costs no allocation: with one rule, every line
/// the prefilter keeps is such a line.
fn event_may_match(may_match: &mut Vec<bool>) -> Vec<bool> {
    if may_match.iter().all(|&may| may) {
        Vec::new()
    } else {
        std::mem::take(may_match)
    }
}

/// True when a line of `run` is longer than `limit` bytes.
fn has_long_line(run: &[u8], limit: usize) -> bool {
    run.split(|&b| b == b'\n').any(|line| line.len() > limit)
}

/// True when `line` is a JSON object whose first key is one of `columns`
/// (a row of a table, not another platform's record).
fn starts_with_column(line: &[u8], columns: &[&str]) -> bool {
    let text = line.trim_ascii_start();
    let Some(rest) = text.strip_prefix(b"{") else {
        return false;
    };
    let Some(rest) = rest.trim_ascii_start().strip_prefix(b"\"") else {
        return false;
    };
    let Some(end) = memchr::memchr(b'"', rest) else {
        return false;
    };
    columns.iter().any(|c| c.as_bytes() == &rest[..end])
}

/// Makes a row of a record for each table: the record laid out as the
/// table's row, or, for a derived table and a `CloudAuditEvents` record,
/// the row derived from it (none when the event has no row there). A
/// derived table whose rules the prefilter ruled out for this line (`false`
/// in `needed`; an empty `needed` means every table) gets no row. `row`,
/// when given, is the record already read as a row of its layout: a table
/// of that layout takes it as it is.
fn rows_for_tables(
    record: &Value,
    tables: &Tables,
    derived: &[Option<Derived>],
    needed: &[bool],
    row: Option<(&[(&str, ColumnType)], &Row)>,
) -> Result<Vec<Option<Row>>, String> {
    let cloud_audit = tables::is_cloud_audit_record(record);
    tables
        .iter()
        .zip(derived)
        .enumerate()
        .map(|(i, ((table, required), derived))| match derived {
            Some(_) if cloud_audit && needed.get(i) == Some(&false) => Ok(None),
            None if row.is_some_and(|(layout, _)| table.columns == layout) => {
                Ok(row.map(|(_, row)| row.clone()))
            }
            Some((derived, observed)) if cloud_audit => {
                match derived.row_with(record, |column| observed.contains(&column)) {
                    Some(row) => input::record_to_row(&row, table, required)
                        .map(Some)
                        .map_err(|cause| format!("{}: {cause}", table.name)),
                    None => Ok(None),
                }
            }
            _ => input::record_to_row(record, table, required).map(Some),
        })
        .collect()
}

/// True when a rule reading `table` observes its column `name` (a table
/// written by hand, without access paths, observes all).
fn observes(table: &Table, required: &[bool], name: &str) -> bool {
    let Some(i) = table.columns.iter().position(|(c, _)| *c == name) else {
        return false;
    };
    required.get(i).copied().unwrap_or(false)
        || table.access.get(i).is_none_or(|a| *a != Access::Unread)
}

/// A line that needs the main thread: it gave records or rejections, or
/// was too long. Blank and skipped lines are only counted.
#[derive(Debug)]
pub struct LineEvent {
    /// The line's index in its batch (0 for the first).
    pub index: u64,
    /// Blank lines between the previous event (or the batch start) and this one.
    pub blank_before: u64,
    /// Lines the prefilter skipped between the previous event and this one.
    pub skipped_before: u64,
    /// Lines between the previous event and this one whose rows the
    /// partial states took.
    pub taken_before: Taken,
    /// What the line gave.
    pub kind: EventKind,
}

/// What a line gave.
#[derive(Debug)]
pub enum EventKind {
    /// Records or rejections, as [`LineWork::line`] says.
    Unit {
        /// One per record.
        records: Vec<RecordRows>,
        /// Which rules may match the line (empty: all).
        may_match: Vec<bool>,
        /// The line's bytes when a record was rejected (for `--rejects`),
        /// otherwise empty.
        text: Vec<u8>,
    },
    /// A line the lazy reader read as one `CloudAuditEvents` row, the same
    /// in every table read (a unit of one record, without the record's
    /// vectors).
    Row {
        /// The row.
        row: Row,
        /// Which rules may match the line (empty: all).
        may_match: Vec<bool>,
    },
    /// A line longer than the limit (at the end of the input: longer ones
    /// elsewhere never reach a worker).
    TooLong {
        /// Its bytes.
        bytes: Vec<u8>,
    },
}

/// What a worker made of a batch.
#[derive(Debug)]
pub struct BatchOutcome {
    /// The number of lines in the batch.
    pub lines: u64,
    /// Its lines that need the main thread, in order.
    pub events: Vec<LineEvent>,
    /// Blank lines after the last event.
    pub blank_after: u64,
    /// Skipped lines after the last event.
    pub skipped_after: u64,
    /// Lines after the last event whose rows the partial states took.
    pub taken_after: Taken,
    /// The batch's buffer, to be reused.
    buffer: Vec<u8>,
    /// The rules' partial states over the batch's rows (their rows in
    /// `events` are then `None`), to merge after its events.
    pub partials: Option<Partials>,
}

impl BatchOutcome {
    /// Appends the outcome of the batch that follows this one in the
    /// input: one outcome for the lines of both, as if they had been one
    /// batch. The partial states are not touched (a region's go to the
    /// calling thread on their own).
    fn append(&mut self, later: BatchOutcome) {
        let before = self.lines;
        let mut events = later.events.into_iter();
        if let Some(mut first) = events.next() {
            first.blank_before += std::mem::take(&mut self.blank_after);
            first.skipped_before += std::mem::take(&mut self.skipped_after);
            first
                .taken_before
                .add(&std::mem::take(&mut self.taken_after));
            for mut event in std::iter::once(first).chain(events) {
                event.index += before;
                self.events.push(event);
            }
            self.blank_after = later.blank_after;
            self.skipped_after = later.skipped_after;
            self.taken_after = later.taken_after;
        } else {
            self.blank_after += later.blank_after;
            self.skipped_after += later.skipped_after;
            self.taken_after.add(&later.taken_after);
        }
        self.lines += later.lines;
    }
}

/// Lines whose records all gave rows, and whose rows the partial states
/// ([`PartialRules`]) took on the worker: what the calling thread counts
/// of them, as it counts a line's records (without an event per line).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Taken {
    /// Records.
    pub records: u64,
    /// Records, per format (in the order of [`InputFormat::ALL`]).
    pub by_format: [u64; InputFormat::ALL.len()],
    /// Lines that gave no record.
    pub without_rows: u64,
    /// Lines that gave more than one record.
    pub batches: u64,
}

impl Taken {
    /// Counts a line of one record, of `format`.
    fn record(&mut self, format: InputFormat) {
        self.records += 1;
        if let Some(i) = InputFormat::ALL.iter().position(|f| *f == format) {
            self.by_format[i] += 1;
        }
    }

    /// Adds the counts of `later`.
    fn add(&mut self, later: &Taken) {
        self.records += later.records;
        for (count, more) in self.by_format.iter_mut().zip(later.by_format) {
            *count += more;
        }
        self.without_rows += later.without_rows;
        self.batches += later.batches;
    }

    /// Counts a line's records.
    fn line(&mut self, records: &[RecordRows]) {
        match records.len() {
            0 => self.without_rows += 1,
            1 => {}
            _ => self.batches += 1,
        }
        self.records += records.len() as u64;
        for (format, _) in records.iter().flatten() {
            if let Some(i) = InputFormat::ALL.iter().position(|f| f == format) {
                self.by_format[i] += 1;
            }
        }
    }
}

/// A batch for a worker: `buffer[start..len]` are whole lines.
struct Job {
    buffer: Vec<u8>,
    start: usize,
    len: usize,
}

/// Where [`read_lines`] delivers what it read, in input order: the
/// detector's session.
pub trait LineSink {
    /// Why delivery stopped the reading (`--strict`, a failed write).
    type Stop;
    /// The outcomes of a batch whose first line has number `first_line`.
    fn batch(&mut self, first_line: u64, batch: BatchOutcome) -> Result<(), Self::Stop>;
    /// Where the bytes of a line too long to keep go (the rejects file).
    fn spill(&mut self) -> &mut dyn Write;
    /// Line `line` was `len` bytes long, over the limit; its bytes went to
    /// [`LineSink::spill`].
    fn too_long(&mut self, line: u64, len: u64) -> Result<(), Self::Stop>;
    /// Reading failed in line `line`; `partial` is what was read of it.
    fn read_error(&mut self, line: u64, partial: &[u8], error: io::Error)
        -> Result<(), Self::Stop>;
    /// The partial states of the lines delivered since the last ones (a
    /// plain file read by workers in regions, see [`read_file_lines`]), to
    /// merge into the rules now.
    fn partials(&mut self, partials: Partials) -> Result<(), Self::Stop>;
    /// Moves into `into` the rows of [`EventKind::Row`] events that no rule
    /// kept, for the reader to read later rows into (one thread reading
    /// here). By default there are none.
    fn take_spare_rows(&mut self, into: &mut Vec<Row>) {
        let _ = into;
    }
    /// Worker thread `index` (counting from 1) of `threads` could not be
    /// started (the system refused: too many threads, not enough memory for
    /// a stack). Nothing after `lines_before` was read; what this returns
    /// stops the reading.
    fn no_thread(&mut self, index: usize, threads: usize, error: io::Error) -> Self::Stop;
}

/// Reads the rest of `source`, JSON lines after `lines_before` lines, with
/// `threads` workers doing `work`, and hands the outcomes to `sink` in
/// input order. `Ok(false)` when reading failed (reported to the sink).
pub fn read_lines<R: BufRead, S: LineSink>(
    mut source: R,
    lines_before: u64,
    threads: usize,
    work: &LineWork,
    sink: &mut S,
) -> Result<bool, S::Stop> {
    let threads = threads.max(1);
    if threads == 1 {
        return read_lines_here(source, lines_before, work, sink);
    }
    std::thread::scope(|scope| {
        let mut pipeline = Pipeline {
            jobs: Vec::new(),
            results: Vec::new(),
            submitted: 0,
            received: 0,
            line: lines_before,
            free: Vec::new(),
        };
        for index in 0..threads {
            let (job_sender, jobs) = mpsc::channel::<Job>();
            let (results, result_receiver) = mpsc::channel::<BatchOutcome>();
            let mut work = work.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("kql-lines-{}", index + 1))
                .spawn_scoped(scope, move || {
                    while let Ok(job) = jobs.recv() {
                        // A stream's batches go to the workers in turn:
                        // each batch's partial states merge on their own.
                        let mut outcome = work.batch(job);
                        outcome.partials = work.take_partials();
                        if results.send(outcome).is_err() {
                            break;
                        }
                    }
                });
            if let Err(error) = spawned {
                // The workers started so far end when their job channels
                // close (`pipeline` is dropped on return); the scope joins
                // them.
                return Err(sink.no_thread(index + 1, threads, error));
            }
            pipeline.jobs.push(job_sender);
            pipeline.results.push(result_receiver);
        }
        let mut cutter = Cutter {
            carry: Vec::new(),
            limit: work.limit,
        };
        let most_in_flight = IN_FLIGHT_PER_WORKER * threads;
        loop {
            let mut ended = false;
            while pipeline.submitted - pipeline.received < most_in_flight {
                let mut buffer = pipeline.free.pop().unwrap_or_default();
                match cutter.cut(&mut source, &mut buffer) {
                    Cut::Lines(len) => pipeline.submit(buffer, len),
                    Cut::End(len) => {
                        pipeline.submit(buffer, len);
                        ended = true;
                        break;
                    }
                    Cut::TooLong(len) => {
                        if !pipeline.drain(sink)? {
                            return pipeline.worker_lost(sink);
                        }
                        let line = pipeline.line + 1;
                        let spill = sink.spill();
                        // The rejects writer keeps its own errors (see detector).
                        let _ = spill.write_all(&buffer[..len]);
                        match spill_rest_of_line(&mut source, spill) {
                            Ok(rest) => {
                                pipeline.line = line;
                                sink.too_long(line, len as u64 + rest)?;
                            }
                            Err(e) => {
                                sink.read_error(line, &[], e)?;
                                return Ok(false);
                            }
                        }
                        // A buffer grown for a long line is not kept.
                    }
                    Cut::Failed(error, len) => {
                        pipeline.submit(buffer, len);
                        if !pipeline.drain(sink)? {
                            return pipeline.worker_lost(sink);
                        }
                        sink.read_error(pipeline.line + 1, &cutter.carry, error)?;
                        return Ok(false);
                    }
                }
            }
            if ended {
                if !pipeline.drain(sink)? {
                    return pipeline.worker_lost(sink);
                }
                return Ok(true);
            }
            if !pipeline.receive(sink)? {
                return pipeline.worker_lost(sink);
            }
        }
    })
}

/// [`read_lines`] with one thread: the same batches, worked on and
/// delivered here, one after the other (no per-line copy or call through
/// the reader, and whole runs of lines skipped at once by the prefilter's
/// gate).
fn read_lines_here<R: BufRead, S: LineSink>(
    mut source: R,
    lines_before: u64,
    work: &LineWork,
    sink: &mut S,
) -> Result<bool, S::Stop> {
    let mut work = work.clone();
    let mut cutter = Cutter {
        carry: Vec::new(),
        limit: work.limit,
    };
    let mut line = lines_before;
    let mut buffer = Vec::new();
    let mut spares = Vec::new();
    loop {
        let (len, ended) = match cutter.cut(&mut source, &mut buffer) {
            Cut::Lines(len) => (len, false),
            Cut::End(len) => (len, true),
            Cut::TooLong(len) => {
                let spill = sink.spill();
                // The rejects writer keeps its own errors (see detector).
                let _ = spill.write_all(&buffer[..len]);
                match spill_rest_of_line(&mut source, spill) {
                    Ok(rest) => {
                        line += 1;
                        sink.too_long(line, len as u64 + rest)?;
                    }
                    Err(e) => {
                        sink.read_error(line + 1, &[], e)?;
                        return Ok(false);
                    }
                }
                // A buffer grown for a long line is not kept.
                buffer = Vec::new();
                continue;
            }
            Cut::Failed(error, len) => {
                let outcome = work.batch(Job {
                    buffer: std::mem::take(&mut buffer),
                    start: 0,
                    len,
                });
                let lines = outcome.lines;
                sink.batch(line + 1, outcome)?;
                line += lines;
                sink.read_error(line + 1, &cutter.carry, error)?;
                return Ok(false);
            }
        };
        let mut outcome = work.batch(Job {
            buffer: std::mem::take(&mut buffer),
            start: 0,
            len,
        });
        let lines = outcome.lines;
        let returned = std::mem::take(&mut outcome.buffer);
        sink.batch(line + 1, outcome)?;
        sink.take_spare_rows(&mut spares);
        work.reuse_rows(&mut spares);
        line += lines;
        if ended {
            return Ok(true);
        }
        if returned.len() <= 2 * BATCH_BYTES {
            buffer = returned;
        }
    }
}

/// Copies the rest of the current line (without its `\n`) from `source`
/// to `spill`; returns its length.
fn spill_rest_of_line<R: BufRead>(source: &mut R, spill: &mut dyn Write) -> io::Result<u64> {
    let mut total = 0u64;
    loop {
        let chunk = match source.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(total);
        }
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i, true),
            None => (chunk.len(), false),
        };
        let _ = spill.write_all(&chunk[..take]);
        total += take as u64;
        source.consume(take + usize::from(done));
        if done {
            return Ok(total);
        }
    }
}

/// The workers' channels and the batches in flight.
struct Pipeline {
    jobs: Vec<Sender<Job>>,
    results: Vec<Receiver<BatchOutcome>>,
    /// Batches handed out, and taken back.
    submitted: usize,
    received: usize,
    /// Lines delivered to the sink so far (with those before the first batch).
    line: u64,
    /// Buffers to reuse.
    free: Vec<Vec<u8>>,
}

impl Pipeline {
    fn submit(&mut self, buffer: Vec<u8>, len: usize) {
        let worker = self.submitted % self.jobs.len();
        // A worker that is gone shows when its result is awaited.
        let _ = self.jobs[worker].send(Job {
            buffer,
            start: 0,
            len,
        });
        self.submitted += 1;
    }

    /// Delivers the oldest batch in flight. `Ok(false)` when its worker is
    /// gone.
    fn receive<S: LineSink>(&mut self, sink: &mut S) -> Result<bool, S::Stop> {
        let worker = self.received % self.results.len();
        let Ok(mut outcome) = self.results[worker].recv() else {
            return Ok(false);
        };
        self.received += 1;
        let lines = outcome.lines;
        let buffer = std::mem::take(&mut outcome.buffer);
        sink.batch(self.line + 1, outcome)?;
        self.line += lines;
        if buffer.len() <= 2 * BATCH_BYTES {
            self.free.push(buffer);
        }
        Ok(true)
    }

    /// Delivers every batch in flight.
    fn drain<S: LineSink>(&mut self, sink: &mut S) -> Result<bool, S::Stop> {
        while self.received < self.submitted {
            if !self.receive(sink)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn worker_lost<S: LineSink>(&mut self, sink: &mut S) -> Result<bool, S::Stop> {
        sink.read_error(
            self.line + 1,
            &[],
            io::Error::other("a worker thread stopped (the rest of the file is not read)"),
        )?;
        Ok(false)
    }
}

/// Cuts a stream into batches of whole lines.
struct Cutter {
    /// The start of a line that the last batch did not end.
    carry: Vec<u8>,
    /// The longest line kept.
    limit: usize,
}

/// What [`Cutter::cut`] put in a buffer.
enum Cut {
    /// `buffer[..n]` are whole lines; more input follows.
    Lines(usize),
    /// `buffer[..n]` is the rest of the input (its last line may lack a `\n`).
    End(usize),
    /// `buffer[..n]` is the start of a line longer than the limit; the rest
    /// of that line is still to be read.
    TooLong(usize),
    /// Reading failed: `buffer[..n]` are whole lines; the partial line after
    /// them is in `carry`.
    Failed(io::Error, usize),
}

impl Cutter {
    /// Fills `buffer` (whose length is its usable size; its contents are
    /// overwritten) with the carried-over partial line and fresh input, and
    /// says where the batch ends.
    fn cut(&mut self, source: &mut impl Read, buffer: &mut Vec<u8>) -> Cut {
        // The carried part is at most `limit` bytes: the buffer stays within
        // `limit + 1`, the size that shows a line is too long.
        let size = BATCH_BYTES.max((self.carry.len() * 2).min(self.limit.saturating_add(1)));
        if buffer.len() < size {
            buffer.resize(size, 0);
        }
        let mut filled = self.carry.len();
        buffer[..filled].copy_from_slice(&self.carry);
        self.carry.clear();
        // The carried bytes hold no line end.
        let mut searched = filled;
        loop {
            while filled < buffer.len() {
                match source.read(&mut buffer[filled..]) {
                    Ok(0) => return Cut::End(filled),
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let end = memchr::memrchr(b'\n', &buffer[..filled]).map_or(0, |i| i + 1);
                        self.carry.extend_from_slice(&buffer[end..filled]);
                        return Cut::Failed(e, end);
                    }
                }
            }
            if let Some(i) = memchr::memrchr(b'\n', &buffer[searched..filled]) {
                let end = searched + i + 1;
                self.carry.extend_from_slice(&buffer[end..filled]);
                return Cut::Lines(end);
            }
            // One line fills the buffer: it is too long, or the buffer grows.
            if filled > self.limit {
                return Cut::TooLong(filled);
            }
            searched = filled;
            let grown = (buffer.len() * 2).min(self.limit.saturating_add(1));
            buffer.resize(grown, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut_all(input: &[u8], limit: usize) -> Vec<String> {
        let mut cutter = Cutter {
            carry: Vec::new(),
            limit,
        };
        let mut source = input;
        let mut out = Vec::new();
        loop {
            let mut buffer = Vec::new();
            match cutter.cut(&mut source, &mut buffer) {
                Cut::Lines(n) => out.push(String::from_utf8_lossy(&buffer[..n]).into_owned()),
                Cut::End(n) => {
                    out.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
                    return out;
                }
                Cut::TooLong(n) => out.push(format!("too long: {n}")),
                Cut::Failed(e, _) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn batches_end_at_line_ends_and_keep_every_byte() {
        let line = "x".repeat(1000) + "\n";
        let input = line.repeat(700) + "last";
        let batches = cut_all(input.as_bytes(), 1 << 20);
        assert!(batches.len() >= 3, "{}", batches.len());
        for batch in &batches[..batches.len() - 1] {
            assert!(batch.ends_with('\n'));
        }
        assert_eq!(batches.concat(), input);
    }

    #[test]
    fn a_line_longer_than_a_batch_grows_the_buffer_up_to_the_limit() {
        let long = "y".repeat(3 * BATCH_BYTES);
        let input = format!("a\n{long}\nb\n");
        let batches = cut_all(input.as_bytes(), 4 * BATCH_BYTES);
        assert_eq!(batches.concat(), input);
        let batches = cut_all(input.as_bytes(), 2 * BATCH_BYTES);
        assert!(
            batches.iter().any(|b| b.starts_with("too long")),
            "{batches:?}"
        );
    }
}
