//! `--threads N` over a plain file: each worker reads its own batches with
//! positioned reads (`pread`), so the kernel's copy of the file into the
//! buffers runs on the workers too, not on the calling thread.
//!
//! The bytes from `start` (where the calling thread's reader stopped) to
//! the file's size when the read begins are cut into ranges of `B` bytes:
//! range `k` is `[start + k·B, start + (k+1)·B)`. Batch `k` holds the lines
//! that start in its range after its first byte's line: it begins just
//! after the first `\n` at or after byte `start + k·B − 1` (batch 0 at
//! `start`), and ends just after the first `\n` at or after its range's
//! last byte (reading past the range, and past the size for the last
//! batch), or at the end of the file. So every line belongs to exactly one
//! batch, whichever worker reads it, and a batch whose range holds no line
//! end but its last byte's is empty (a line longer than a range spans
//! empty batches).
//!
//! ```text
//! worker w:  batches k = w, w + N, w + 2N ...  read_at ─ LineWork::batch
//!                                                         │ at most 2 in flight
//! main thread: ◀── batch k from worker k mod N, k = 0, 1, 2... ┘
//!              line numbers (its running count), counts, rejects, rules
//! ```
//!
//! With partial aggregation (every rule aggregates on the workers) batches
//! are not dealt round-robin: they are cut into regions of consecutive
//! batches, a share of what is left each ([`regions`]), and a worker takes
//! the next region free, works through it with one set of partial states,
//! and sends only what needs the calling thread (lines with rejections,
//! while its channel has room), then the region's counts and states at its
//! end. The calling thread takes the regions in order, so states merge in
//! input order, once per region instead of once per batch, and the calling
//! thread mostly sleeps (with round-robin batches it woke, and merged, for
//! every batch: a quarter more CPU time than one thread on the hunting
//! queries, `docs/PERFORMANCE.md`).
//!
//! A worker knows only how many lines its batch holds; the calling thread
//! numbers them, adding batches in order, exactly as [`super::read_lines`]
//! does, so messages, `--rejects`, `--strict` and the rules see what one
//! thread sees.
//!
//! A line longer than the limit is never kept whole: the worker that finds
//! its batch's last line past the limit stops there and says where the line
//! starts; the calling thread, when that batch's turn comes, streams the
//! line's bytes from the file to the rejects writer, as one thread does.
//!
//! A file that changes while it is read. Bytes appended after the size was
//! taken are read after the batches, as a stream ([`super::read_lines`]),
//! so a growing file gives what the sequential reader gives. A read that
//! ends before the size taken at the start means the file was truncated
//! (`copytruncate`): that is reported as a read error at the first line of
//! the batch that saw it, after the batches before it (the rest of the file
//! is not read, exit status 2), where the sequential reader would have
//! stopped silently somewhere. A batch that does not start where the lines
//! before it ended (the bytes were rewritten in place) is reported the same
//! way. Bytes rewritten in place without moving a line end are not seen (as
//! with one thread). No `mmap`: a truncated mapping is a crash (`SIGBUS`).

use super::{read_lines, BatchOutcome, Job, LineSink, LineWork, Partials, IN_FLIGHT_PER_WORKER};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

/// A file read with positioned reads: the detector's plain files (and, in
/// tests, files whose size changes on cue).
pub trait ReadAt: Sync {
    /// Reads bytes at `offset` into `buf`; 0 at the end of the file.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// The file's size now.
    fn size(&self) -> io::Result<u64>;
}

/// A second handle on a regular file the detector reads, for positioned
/// reads.
#[derive(Debug)]
pub struct PlainFile(std::fs::File);

impl PlainFile {
    /// A handle on `file` for positioned reads, when it is a regular file
    /// (not a pipe, a terminal or a device) and the platform has them.
    pub fn of(file: &std::fs::File) -> Option<PlainFile> {
        if !cfg!(unix) || !file.metadata().ok()?.is_file() {
            return None;
        }
        file.try_clone().ok().map(PlainFile)
    }

    /// Where `source`, a buffered reader of the file this handle was made
    /// from (the same open file, so the same offset), stands: the offset of
    /// the next byte it hands out. `None` when that cannot be told.
    pub fn offset_of(&self, source: &mut dyn BufRead) -> Option<u64> {
        use std::io::Seek;
        let buffered = source.fill_buf().ok()?.len() as u64;
        let read = (&self.0).stream_position().ok()?;
        read.checked_sub(buffered)
    }
}

impl ReadAt for PlainFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        #[cfg(unix)]
        return std::os::unix::fs::FileExt::read_at(&self.0, buf, offset);
        // `PlainFile::of` makes none elsewhere.
        #[cfg(not(unix))]
        return Err(io::Error::other(format!(
            "no positioned reads on this platform ({} bytes at {offset})",
            buf.len()
        )));
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
}

/// The bytes read past a batch's range with the range itself, where its
/// last line most likely ends (the sample's lines average 1.7 KB): one
/// `pread` per batch, not a second one for the line's end.
const READ_PAST: usize = 8 << 10;
/// The first read past that, when the last line has not ended; each
/// further read doubles, up to [`EXTEND_MOST`].
const EXTEND_FIRST: usize = 16 << 10;
const EXTEND_MOST: usize = 1 << 20;

/// With partial aggregation, the fewest batches in a region (see
/// [`regions`]).
const MIN_REGION_BATCHES: u64 = 4;
/// Messages a region's channel holds: a worker that is ahead of the
/// calling thread sends its region's lines that need the calling thread
/// (rejections) while there is room, and keeps them otherwise.
const REGION_MESSAGES: usize = 4;
/// The most events a worker keeps back before it waits for room.
const MOST_KEPT_EVENTS: usize = 1024;
/// A region's partial states go to the calling thread once they hold this
/// many heap bytes (a summarize of many groups), and fresh ones go on:
/// what waits on a worker stays bounded, and `--max-memory` sees it.
const PARTIAL_FLUSH_BYTES: i64 = 8 << 20;

/// Reads the JSON lines of `file` from byte `start` (the start of a line:
/// line `lines_before + 1`) to its end with `threads` workers, each reading
/// its own batches of about `batch_bytes` (see the module doc), and hands
/// the outcomes to `sink` in input order. `Ok(false)` when reading failed
/// (reported to the sink).
pub fn read_file_lines<F: ReadAt, S: LineSink>(
    file: &F,
    start: u64,
    batch_bytes: usize,
    lines_before: u64,
    threads: usize,
    work: &LineWork,
    sink: &mut S,
) -> Result<bool, S::Stop> {
    let size = match file.size() {
        Ok(size) => size,
        Err(e) => {
            sink.read_error(lines_before + 1, &[], e)?;
            return Ok(false);
        }
    };
    if size < start {
        sink.read_error(lines_before + 1, &[], shrank(start, size))?;
        return Ok(false);
    }
    let plan = Plan {
        file,
        start,
        size,
        batch: batch_bytes.max(1) as u64,
        limit: work.limit,
    };
    let mut at = Position {
        line: lines_before,
        next: start,
    };
    if let Some(read_ok) = plan.read_batches(threads, work, sink, &mut at)? {
        return Ok(read_ok);
    }
    // What the file grew by since its size was taken: read as a stream.
    let mut rest = BufReader::with_capacity(
        1 << 16,
        ReaderAt {
            file,
            offset: at.next,
        },
    );
    if matches!(rest.fill_buf(), Ok(b) if b.is_empty()) {
        return Ok(true);
    }
    read_lines(rest, at.line, threads, work, sink)
}

/// Where the calling thread is: the lines delivered so far, and where the
/// next line starts.
struct Position {
    line: u64,
    next: u64,
}

/// How a file's bytes from `start` to `size` are cut into batches.
struct Plan<'f, F> {
    file: &'f F,
    start: u64,
    /// The file's size when the read began.
    size: u64,
    /// The size of a batch's range.
    batch: u64,
    /// The longest line kept.
    limit: usize,
}

/// What a worker made of one batch.
struct Piece {
    /// Where the batch's first line starts; `None` when no line starts in
    /// its range.
    begin: Option<u64>,
    /// Where the line after its lines starts (when it has lines).
    end: u64,
    /// The outcomes of its lines (`None`: it has none).
    outcome: Option<BatchOutcome>,
    /// A line longer than the limit starts here, after the batch's lines;
    /// its bytes were not kept.
    too_long: Option<u64>,
}

impl<F: ReadAt> Plan<'_, F> {
    fn batches(&self) -> u64 {
        (self.size - self.start).div_ceil(self.batch)
    }

    /// Reads every batch with `threads` workers and delivers them in order.
    /// `Some(read_ok)` when reading ended (an error, reported); `None` when
    /// the bytes up to the size were all delivered.
    fn read_batches<S: LineSink>(
        &self,
        threads: usize,
        work: &LineWork,
        sink: &mut S,
        at: &mut Position,
    ) -> Result<Option<bool>, S::Stop> {
        let count = self.batches();
        if count == 0 {
            return Ok(None);
        }
        let workers = (threads.max(1) as u64).min(count) as usize;
        if work.has_partials() {
            return self.read_regions(workers, threads, work, sink, at);
        }
        std::thread::scope(|scope| {
            let mut results = Vec::with_capacity(workers);
            for index in 0..workers {
                // With one piece queued and one being made, a worker has at
                // most two batches in flight.
                let (sender, receiver) =
                    mpsc::sync_channel::<io::Result<Piece>>(IN_FLIGHT_PER_WORKER - 1);
                let mut work = work.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("kql-lines-{}", index + 1))
                    .spawn_scoped(scope, move || {
                        let mut buffer = Vec::new();
                        for k in (index as u64..count).step_by(workers) {
                            let piece = self.piece(k, &mut work, &mut buffer);
                            let failed = piece.is_err();
                            if sender.send(piece).is_err() || failed {
                                break;
                            }
                        }
                    });
                if let Err(error) = spawned {
                    // The workers started so far stop when their result
                    // channels close (on return); the scope joins them.
                    return Err(sink.no_thread(index + 1, threads, error));
                }
                results.push(receiver);
            }
            for k in 0..count {
                let Ok(piece) = results[(k % workers as u64) as usize].recv() else {
                    return Self::worker_stopped(sink, at);
                };
                if let Some(read_ok) = self.deliver(piece, sink, at)? {
                    return Ok(Some(read_ok));
                }
            }
            Ok(None)
        })
    }

    /// [`Plan::read_batches`] when every rule aggregates on the workers:
    /// the batches are cut into regions of consecutive batches
    /// ([`regions`]), each worker takes the next region not taken, works
    /// on its batches in order into one set of partial states, and sends
    /// the calling thread only what needs it: lines with events (at once
    /// while there is room), a region's counts, and its partial states at
    /// its end. The calling thread takes the regions in order, so the
    /// states merge in input order, as one thread pushes the rows, with a
    /// merge per region rather than per batch, and it sleeps meanwhile.
    fn read_regions<S: LineSink>(
        &self,
        workers: usize,
        threads: usize,
        work: &LineWork,
        sink: &mut S,
        at: &mut Position,
    ) -> Result<Option<bool>, S::Stop> {
        let regions = regions(self.batches(), workers as u64);
        let (senders, receivers): (Vec<_>, Vec<_>) = (regions.iter())
            .map(|_| {
                let (sender, receiver) = mpsc::sync_channel::<RegionPart>(REGION_MESSAGES);
                (Mutex::new(Some(sender)), receiver)
            })
            .unzip();
        // Held by the workers only: when they are all gone, the senders of
        // regions not taken close too, so the calling thread never waits
        // on a region no one works on.
        let senders = Arc::new(senders);
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let (regions, next, stop) = (&regions, &next, &stop);
        std::thread::scope(|scope| {
            // However this returns, the workers stop at their next batch.
            let _stop_workers = StopOnDrop(stop);
            for index in 0..workers {
                let mut work = work.clone();
                let senders = Arc::clone(&senders);
                let spawned = std::thread::Builder::new()
                    .name(format!("kql-lines-{}", index + 1))
                    .spawn_scoped(scope, move || {
                        let mut buffer = Vec::new();
                        while !stop.load(Ordering::Relaxed) {
                            let r = next.fetch_add(1, Ordering::Relaxed);
                            let Some(batches) = regions.get(r) else {
                                return;
                            };
                            let Some(sender) = senders[r].lock().ok().and_then(|mut s| s.take())
                            else {
                                return;
                            };
                            let region = Region {
                                plan: self,
                                sender: &sender,
                                stop,
                            };
                            if !region.work(batches.clone(), &mut work, &mut buffer) {
                                return;
                            }
                        }
                    });
                if let Err(error) = spawned {
                    return Err(sink.no_thread(index + 1, threads, error));
                }
            }
            drop(senders);
            // Owned here, so dropped when this returns (before the scope
            // joins the workers): a worker waiting for room in a channel
            // then sees it closed and stops.
            let receivers = receivers;
            for receiver in &receivers {
                loop {
                    let part = match receiver.recv() {
                        Ok(part) => part,
                        Err(_) => return Self::worker_stopped(sink, at),
                    };
                    match part {
                        RegionPart::Piece(piece) => {
                            if let Some(read_ok) = self.deliver(piece, sink, at)? {
                                return Ok(Some(read_ok));
                            }
                        }
                        RegionPart::Partials(partials) => sink.partials(partials)?,
                        RegionPart::End(partials) => {
                            if let Some(partials) = partials {
                                sink.partials(partials)?;
                            }
                            break;
                        }
                    }
                }
            }
            Ok(None)
        })
    }

    /// Reports that a worker stopped before sending what it owed (its
    /// channel closed): reading ends there, as after a read error.
    fn worker_stopped<S: LineSink>(sink: &mut S, at: &Position) -> Result<Option<bool>, S::Stop> {
        sink.read_error(
            at.line + 1,
            &[],
            io::Error::other("a worker thread stopped (the rest of the file is not read)"),
        )?;
        Ok(Some(false))
    }

    /// Hands a batch's outcomes to the sink, and streams a too-long line
    /// after them to its spill. `Some(false)` when reading failed.
    fn deliver<S: LineSink>(
        &self,
        piece: io::Result<Piece>,
        sink: &mut S,
        at: &mut Position,
    ) -> Result<Option<bool>, S::Stop> {
        let piece = match piece {
            Ok(piece) => piece,
            Err(e) => {
                sink.read_error(at.line + 1, &[], e)?;
                return Ok(Some(false));
            }
        };
        let Some(begin) = piece.begin else {
            return Ok(None);
        };
        if begin != at.next {
            let e = io::Error::other(format!(
                "the file changed while it was read (a line that ended at byte {} now ends at byte {})",
                at.next,
                begin
            ));
            sink.read_error(at.line + 1, &[], e)?;
            return Ok(Some(false));
        }
        if let Some(outcome) = piece.outcome {
            let lines = outcome.lines;
            sink.batch(at.line + 1, outcome)?;
            at.line += lines;
        }
        at.next = piece.end;
        if let Some(from) = piece.too_long {
            match self.spill_line(from, sink.spill()) {
                Ok((len, next)) => {
                    at.line += 1;
                    at.next = next;
                    sink.too_long(at.line, len)?;
                }
                Err(e) => {
                    sink.read_error(at.line + 1, &[], e)?;
                    return Ok(Some(false));
                }
            }
        }
        Ok(None)
    }

    /// Reads batch `k` into `buffer` and works on its lines. The buffer is
    /// kept from batch to batch (its bytes past what was read are stale, not
    /// zeroed again).
    fn piece(&self, k: u64, work: &mut LineWork, buffer: &mut Vec<u8>) -> io::Result<Piece> {
        let range = self.start + k * self.batch;
        let range_end = (range + self.batch).min(self.size);
        // From the byte before the range, to see whether a line starts at
        // its first byte.
        let from = if k == 0 { range } else { range - 1 };
        let mut len = (range_end - from) as usize;
        // With the range, what lies past it within the size, where its
        // last line likely ends.
        let past = (self.size - range_end).min(READ_PAST as u64) as usize;
        if buffer.len() < len + past {
            buffer.resize(len + past, 0);
        }
        // (A file that ends before `past` is only a shorter line end
        // search here; `finish_last_line` tells whether it shrank.)
        let past = self.fill(&mut buffer[..len + past], from, len)? - len;
        let start = if k == 0 {
            0
        } else {
            // A line end before the range's last byte: the batch's first
            // line starts after it. None: the batch has no line.
            match memchr::memchr(b'\n', &buffer[..len - 1]) {
                Some(i) => i + 1,
                None => {
                    return Ok(Piece {
                        begin: None,
                        end: 0,
                        outcome: None,
                        too_long: None,
                    })
                }
            }
        };
        let mut too_long = None;
        if buffer[len - 1] != b'\n' {
            // The last line's end in what was read past the range, unless
            // the line is already too long.
            let line_start =
                memchr::memrchr(b'\n', &buffer[start..len]).map_or(start, |i| start + i + 1);
            // (As `finish_last_line` would: a line already longer than
            // the limit is not read further.)
            if len - line_start <= self.limit {
                if let Some(i) = memchr::memchr(b'\n', &buffer[len..len + past]) {
                    len += i + 1;
                }
            }
        }
        if buffer[len - 1] != b'\n' {
            let until = from + len as u64;
            if let Some(at) = self.finish_last_line(buffer, start, &mut len, until)? {
                len = at;
                too_long = Some(from + at as u64);
            }
        }
        let begin = from + start as u64;
        let end = from + len as u64;
        let outcome = (len > start).then(|| {
            let mut outcome = work.batch(Job {
                buffer: std::mem::take(buffer),
                start,
                len,
            });
            // The buffer stays with this worker (a buffer grown for a long
            // line is not kept).
            let returned = std::mem::take(&mut outcome.buffer);
            if returned.len() <= 4 * self.batch as usize + 2 * EXTEND_MOST {
                *buffer = returned;
            }
            outcome
        });
        Ok(Piece {
            begin: Some(begin),
            end,
            outcome,
            too_long,
        })
    }

    /// Fills `buffer` from `offset`, at least its first `least` bytes: they
    /// lie within the size, so a file that ends before them shrank. How
    /// many bytes were read.
    fn fill(&self, buffer: &mut [u8], offset: u64, least: usize) -> io::Result<usize> {
        let mut filled = 0;
        while filled < buffer.len() {
            match self
                .file
                .read_at(&mut buffer[filled..], offset + filled as u64)
            {
                Ok(0) if filled >= least => break,
                Ok(0) => return Err(shrank(self.size, offset + filled as u64)),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(filled)
    }

    /// Reads the rest of the line that `buffer[..len]` (read up to file
    /// offset `until`) ends in, to its `\n` or the end of the file, growing
    /// `len`. `Some(at)` when that line, starting at `buffer[at]`, is longer
    /// than the limit: its bytes from `at` on are then not all read.
    fn finish_last_line(
        &self,
        buffer: &mut Vec<u8>,
        start: usize,
        len: &mut usize,
        mut until: u64,
    ) -> io::Result<Option<usize>> {
        let line_start =
            memchr::memrchr(b'\n', &buffer[start..*len]).map_or(start, |i| start + i + 1);
        let mut chunk = EXTEND_FIRST;
        loop {
            if *len - line_start > self.limit {
                return Ok(Some(line_start));
            }
            if buffer.len() < *len + chunk {
                buffer.resize(*len + chunk, 0);
            }
            let read = &mut buffer[*len..*len + chunk];
            let n = loop {
                match self.file.read_at(read, until) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    other => break other?,
                }
            };
            if n == 0 {
                // The end of the file: the last line has no `\n`.
                return match until < self.size {
                    true => Err(shrank(self.size, until)),
                    false => Ok(None),
                };
            }
            until += n as u64;
            if let Some(i) = memchr::memchr(b'\n', &buffer[*len..*len + n]) {
                *len += i + 1;
                return Ok(None);
            }
            *len += n;
            chunk = (chunk * 2).min(EXTEND_MOST);
        }
    }

    /// Copies the line starting at `from` (without its `\n`) to `spill`;
    /// its length, and where the line after it starts.
    fn spill_line(&self, from: u64, spill: &mut dyn Write) -> io::Result<(u64, u64)> {
        let mut chunk = vec![0; 1 << 16];
        let mut at = from;
        loop {
            let n = match self.file.read_at(&mut chunk, at) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                if at < self.size {
                    return Err(shrank(self.size, at));
                }
                return Ok((at - from, at));
            }
            let (take, done) = match memchr::memchr(b'\n', &chunk[..n]) {
                Some(i) => (i, true),
                None => (n, false),
            };
            // The rejects writer keeps its own errors (see detector).
            let _ = spill.write_all(&chunk[..take]);
            at += take as u64;
            if done {
                return Ok((at - from, at + 1));
            }
        }
    }
}

/// Cuts `count` batches into regions for `workers` workers with partial
/// aggregation: each region takes a share of what is left (a
/// `2 × workers`-th, at least [`MIN_REGION_BATCHES`]), so regions shrink
/// towards the end and the workers finish close together, with few
/// regions (some 4 per worker, plus the small ones at the end) and so few
/// merges.
fn regions(count: u64, workers: u64) -> Vec<Range<u64>> {
    let mut regions = Vec::new();
    let mut at = 0;
    while at < count {
        let rest = count - at;
        let size = (rest / (2 * workers.max(1)))
            .max(MIN_REGION_BATCHES)
            .min(rest);
        regions.push(at..at + size);
        at += size;
    }
    regions
}

/// What a worker sends the calling thread about a region, in order.
enum RegionPart {
    /// Lines of the region (batches joined), or the error reading them.
    Piece(io::Result<Piece>),
    /// The partial states over the lines sent before (flushed).
    Partials(Partials),
    /// The region is done: the partial states over the rest of its lines.
    End(Option<Partials>),
}

/// Sets the flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A worker on one region.
struct Region<'r, 'f, F> {
    plan: &'r Plan<'f, F>,
    sender: &'r mpsc::SyncSender<RegionPart>,
    /// Set when the calling thread stopped taking regions.
    stop: &'r AtomicBool,
}

impl<F: ReadAt> Region<'_, '_, F> {
    /// Works on `batches` in order, joining their outcomes while they need
    /// nothing of the calling thread, and sends them (see
    /// [`Plan::read_regions`]). False when the worker should stop (an
    /// error was sent, or no one takes what it sends).
    fn work(&self, batches: Range<u64>, work: &mut LineWork, buffer: &mut Vec<u8>) -> bool {
        let mut kept: Option<Piece> = None;
        for k in batches {
            if self.stop.load(Ordering::Relaxed) {
                return false;
            }
            let piece = match self.plan.piece(k, work, buffer) {
                Ok(piece) if piece.begin.is_none() => continue,
                Ok(piece) => piece,
                Err(e) => {
                    // What was kept, then the error (the worker stops).
                    let _ = self.send(&mut kept) && self.send_part(RegionPart::Piece(Err(e)));
                    return false;
                }
            };
            kept = match kept.take() {
                Some(mut before) if before.joins(&piece) => {
                    before.join(piece);
                    Some(before)
                }
                mut before @ Some(_) => {
                    if !self.send(&mut before) {
                        return false;
                    }
                    Some(piece)
                }
                None => Some(piece),
            };
            if let Some(events) = kept.as_ref().map(Piece::needs_calling_thread) {
                if events > 0 && !self.offer(&mut kept, events) {
                    return false;
                }
            }
            if work.partial_bytes() > PARTIAL_FLUSH_BYTES {
                let Some(partials) = work.take_partials() else {
                    continue;
                };
                if !self.send(&mut kept) || !self.send_part(RegionPart::Partials(partials)) {
                    return false;
                }
            }
        }
        self.send(&mut kept) && self.send_part(RegionPart::End(work.take_partials()))
    }

    /// Sends what is kept, if anything, waiting for room.
    fn send(&self, kept: &mut Option<Piece>) -> bool {
        match kept.take() {
            Some(piece) => self.send_part(RegionPart::Piece(Ok(piece))),
            None => true,
        }
    }

    fn send_part(&self, part: RegionPart) -> bool {
        self.sender.send(part).is_ok()
    }

    /// Sends what is kept (it holds `events` lines for the calling thread)
    /// if there is room; keeps it otherwise, unless it holds too many.
    fn offer(&self, kept: &mut Option<Piece>, events: usize) -> bool {
        let Some(piece) = kept.take() else {
            return true;
        };
        match self.sender.try_send(RegionPart::Piece(Ok(piece))) {
            Ok(()) => true,
            Err(mpsc::TrySendError::Full(RegionPart::Piece(Ok(piece)))) => {
                *kept = Some(piece);
                events < MOST_KEPT_EVENTS || self.send(kept)
            }
            Err(_) => false,
        }
    }
}

impl Piece {
    /// Whether `later`, the next batch's piece, continues this one's lines.
    fn joins(&self, later: &Piece) -> bool {
        self.too_long.is_none() && later.begin == Some(self.end)
    }

    /// Appends `later`'s lines (see [`Piece::joins`]).
    fn join(&mut self, later: Piece) {
        self.end = later.end;
        self.too_long = later.too_long;
        self.outcome = match (self.outcome.take(), later.outcome) {
            (Some(mut outcome), Some(more)) => {
                outcome.append(more);
                Some(outcome)
            }
            (outcome, more) => outcome.or(more),
        };
    }

    /// How many of its lines need the calling thread (events, and a line
    /// too long).
    fn needs_calling_thread(&self) -> usize {
        self.outcome.as_ref().map_or(0, |o| o.events.len()) + usize::from(self.too_long.is_some())
    }
}

/// The error for a file found shorter than its size at the start.
fn shrank(size: u64, end: u64) -> io::Error {
    io::Error::other(format!(
        "the file was truncated while it was read (it had at least {size} bytes, it now ends at byte {end})"
    ))
}

/// A [`ReadAt`] file read as a stream from `offset`.
struct ReaderAt<'f, F> {
    file: &'f F,
    offset: u64,
}

impl<F: ReadAt> Read for ReaderAt<'_, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::InputFormat;
    use crate::parallel::EventKind;

    /// A file in memory whose size, as [`ReadAt::size`] says it, can be
    /// other than its bytes' length (it grew or shrank after), and whose
    /// reads are short.
    struct Fake {
        bytes: Vec<u8>,
        size: u64,
    }

    impl ReadAt for Fake {
        fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
            let rest = self.bytes.get(offset as usize..).unwrap_or_default();
            let n = buf.len().min(rest.len()).min(700);
            buf[..n].copy_from_slice(&rest[..n]);
            Ok(n)
        }

        fn size(&self) -> io::Result<u64> {
            Ok(self.size)
        }
    }

    /// What a sink was handed: one entry per line that gave anything but a
    /// plain count, too-long lines, read errors, and the lines counted.
    #[derive(Debug, Default, PartialEq)]
    struct Log {
        entries: Vec<String>,
        lines: u64,
        spilled: Vec<u8>,
    }

    impl LineSink for Log {
        type Stop = ();

        fn batch(&mut self, first_line: u64, batch: BatchOutcome) -> Result<(), ()> {
            assert_eq!(first_line, self.lines + 1, "batches in order");
            for event in batch.events {
                let line = first_line + event.index;
                match event.kind {
                    EventKind::Unit { records, text, .. } => {
                        let rejected: Vec<String> = (records.iter())
                            .filter_map(|r| r.as_ref().err().map(ToString::to_string))
                            .collect();
                        self.entries.push(format!(
                            "{line}: {} records {rejected:?} {}",
                            records.len(),
                            String::from_utf8_lossy(&text)
                        ));
                    }
                    EventKind::Row { .. } => {
                        self.entries.push(format!("{line}: 1 records [] "));
                    }
                    EventKind::TooLong { bytes } => {
                        self.spilled.extend_from_slice(&bytes);
                        self.entries
                            .push(format!("{line}: too long, {}", bytes.len()));
                    }
                }
            }
            self.lines += batch.lines;
            Ok(())
        }

        fn spill(&mut self) -> &mut dyn Write {
            &mut self.spilled
        }

        fn too_long(&mut self, line: u64, len: u64) -> Result<(), ()> {
            assert_eq!(line, self.lines + 1);
            self.lines = line;
            self.entries.push(format!("{line}: too long, {len}"));
            Ok(())
        }

        fn read_error(&mut self, line: u64, partial: &[u8], error: io::Error) -> Result<(), ()> {
            self.entries
                .push(format!("{line}: read error {partial:?}: {error}"));
            Ok(())
        }

        fn no_thread(&mut self, _: usize, _: usize, error: io::Error) {
            panic!("{error}");
        }

        fn partials(&mut self, _: Partials) -> Result<(), ()> {
            Ok(())
        }
    }

    fn work(limit: usize) -> LineWork {
        let mut work = LineWork::new(InputFormat::Auto, None, Vec::new());
        work.limit = limit;
        work
    }

    /// Lines of every kind: JSON, blank, CRLF, malformed, invalid UTF-8,
    /// one over the limit (`limit` 300), and a last line without `\n`.
    fn input() -> Vec<u8> {
        let mut input = Vec::new();
        for i in 0..40 {
            match i % 7 {
                0 => input.extend_from_slice(b"{\"a\":1}\n"),
                1 => input.extend_from_slice(b"{\"b\":\"two\"}\r\n"),
                2 => input.extend_from_slice(b"   \n\n"),
                3 => input.extend_from_slice(b"{\"broken\": \n"),
                4 => input.extend_from_slice(b"{\"bad\":\"\xff\"}\n"),
                5 if i % 2 == 1 => {
                    input.extend_from_slice(&[b'x'; 301]);
                    input.push(b'\n');
                }
                _ => input.extend_from_slice(
                    format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "p".repeat(i * 3)).as_bytes(),
                ),
            }
        }
        input.extend_from_slice(b"{\"last\":true}");
        input
    }

    /// What the stream reader (one thread, the reference) gives.
    fn streamed(input: &[u8], limit: usize) -> Log {
        let mut log = Log::default();
        let ok = read_lines(input, 0, 1, &work(limit), &mut log).unwrap();
        assert!(ok);
        log
    }

    fn positioned(file: &Fake, batch: usize, threads: usize, limit: usize) -> (bool, Log) {
        let mut log = Log::default();
        let ok = read_file_lines(file, 0, batch, 0, threads, &work(limit), &mut log).unwrap();
        (ok, log)
    }

    #[test]
    fn every_range_size_gives_the_lines_the_stream_gives() {
        let input = input();
        let reference = streamed(&input, 300);
        assert!(reference.entries.iter().any(|e| e.contains("too long")));
        assert!(reference.entries.iter().any(|e| e.contains("UTF-8")));
        let file = Fake {
            size: input.len() as u64,
            bytes: input.clone(),
        };
        for batch in 1..input.len() + 2 {
            let (ok, log) = positioned(&file, batch, 2 + batch % 3, 300);
            assert!(ok);
            assert_eq!(log, reference, "ranges of {batch} bytes");
        }
    }

    #[test]
    fn a_file_that_grew_reads_to_its_new_end() {
        let input = input();
        let reference = streamed(&input, 300);
        for size in [0, 1, 100, input.len() as u64 / 2, input.len() as u64 - 1] {
            let file = Fake {
                size,
                bytes: input.clone(),
            };
            let (ok, log) = positioned(&file, 64, 2, 300);
            assert!(ok);
            assert_eq!(log, reference, "grew from {size} bytes");
        }
    }

    #[test]
    fn a_file_that_shrank_is_a_read_error_after_the_lines_before() {
        let input = input();
        let size = input.len() as u64;
        for cut in [input.len() / 3, input.len() - 5] {
            let file = Fake {
                size,
                bytes: input[..cut].to_vec(),
            };
            let (ok, log) = positioned(&file, 50, 3, 300);
            assert!(!ok);
            let last = log.entries.last().unwrap();
            assert!(
                last.contains(&format!(
                    "read error []: the file was truncated while it was read (it had at least {size} bytes"
                )),
                "{last}"
            );
            // Every line before the batch that saw the end is delivered,
            // as the stream of the bytes before it gives them.
            let before = streamed(&input[..cut], 300);
            assert!(log.lines <= before.lines && log.lines + 20 >= before.lines);
            let delivered = &log.entries[..log.entries.len() - 1];
            assert_eq!(delivered, &before.entries[..delivered.len()]);
        }
        // Shorter than where the reader stood.
        let file = Fake {
            size: 10,
            bytes: input.clone(),
        };
        let mut log = Log::default();
        assert!(!read_file_lines(&file, 20, 64, 3, 2, &work(300), &mut log).unwrap());
        assert_eq!(
            log.entries,
            ["4: read error []: the file was truncated while it was read (it had at least 20 bytes, it now ends at byte 10)"]
        );
    }

    #[test]
    fn regions_cover_every_batch_once_in_order_and_shrink() {
        for (count, workers) in [
            (0, 2),
            (1, 2),
            (15, 2),
            (17, 2),
            (100, 1),
            (3815, 2),
            (3815, 4),
        ] {
            let regions = regions(count, workers);
            let mut at = 0;
            for region in &regions {
                assert_eq!(region.start, at, "{count} batches, {workers} workers");
                assert!(!region.is_empty());
                at = region.end;
            }
            assert_eq!(at, count);
            let sizes: Vec<u64> = regions.iter().map(|r| r.end - r.start).collect();
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
            // Few regions: one merge each.
            assert!(
                regions.len() as u64 <= 8 * workers + count / MIN_REGION_BATCHES.max(1) / 4 + 2,
                "{sizes:?}"
            );
        }
        // 1 GB in 256 KB batches with two workers: the first region a
        // quarter, then smaller.
        let regions = regions(3815, 2);
        assert_eq!(regions[0], 0..953);
        assert!(regions.len() < 32, "{}", regions.len());
    }

    #[test]
    fn a_long_line_over_many_ranges_streams_to_the_spill() {
        let mut input = b"{\"a\":1}\n".to_vec();
        input.extend_from_slice(&[b'y'; 5000]);
        input.extend_from_slice(b"\r\n{\"b\":2}\n");
        input.extend_from_slice(&[b'z'; 3000]);
        let reference = streamed(&input, 1000);
        assert_eq!(reference.spilled.len(), 8001);
        let file = Fake {
            size: input.len() as u64,
            bytes: input.clone(),
        };
        for batch in [1, 7, 8, 9, 999, 1000, 1001, 5008, 5009, 5010, 1 << 20] {
            let (ok, log) = positioned(&file, batch, 2, 1000);
            assert!(ok);
            assert_eq!(log, reference, "ranges of {batch} bytes");
        }
    }
}
