//! `--follow`: files and globs followed like `tail -F`, by polling.
//!
//! A file is known by its identity (device and inode), not its name, and
//! read from where it was left (its offset), so:
//! - **rename rotation** (the API server's `--audit-log-maxbackup`): the
//!   renamed file keeps its identity and is read to its end (under its new
//!   name, whether or not a pattern still matches it); the new file at the
//!   old name is a new identity, read from its start;
//! - **copy-truncate** (logrotate's `copytruncate`): a file shorter than its
//!   offset was truncated and is read again from its start. The lines
//!   written between the last read and the copy are in the copy: when a
//!   pattern matches the copy, it is known by its first bytes (those of the
//!   truncated file) and read from the truncated file's offset, so no line
//!   is skipped or read twice. A copy of a file that is not truncated within
//!   [`COPY_GRACE`] is a plain copy and is not read;
//! - **files that appear later** are picked up at the next poll;
//! - **a partial last line** stays unread until its newline arrives.
//!
//! Globs (`*`, `?`) are matched in the last path component only
//! (`/var/log/kubernetes/audit*.log`). Polling every [`POLL_INTERVAL`] is
//! exact where file-change notifications are not (they coalesce, and miss
//! changes on network file systems), and costs one `stat` per file.

use super::state::{self, FilePosition};
use crate::detector::{InputFile, Session, Stop, Totals};
use crate::file_identity::FileId;
use crate::formats::InputFormat;
use crate::input::MAX_LINE_BYTES;
use crate::parallel::LineWork;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the detector waits between polls when nothing was read.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// How long a file that no pattern matches any more (renamed away, or
/// deleted) is still read, after its last new bytes, before it is closed.
pub const CLOSE_AFTER_IDLE: Duration = Duration::from_secs(2);

/// How long a copy of a followed file waits for that file's truncation
/// before it is taken for a plain copy.
pub const COPY_GRACE: Duration = Duration::from_secs(5);

/// How long the position of a closed file that no pattern matches is
/// kept (in memory and in `--state` checkpoints) before it is forgotten: a
/// file deleted by rotation is not carried for ever. A file renamed back
/// under a pattern after that is read again from its start.
pub const FORGET_AFTER: Duration = Duration::from_secs(600);

/// The most bytes read from one file in one poll (other files get their
/// turn in between, and a checkpoint may be written): each poll sets the
/// line reader up again (its worker threads, its prefilter's gate), so
/// large ones keep that cost small. Read in place, they take no memory.
const READ_PER_POLL: usize = 64 << 20;

/// The most bytes read whole into memory in one poll, when the read cannot
/// go in place (see [`TAIL_BYTES`]).
const READ_WHOLE_PER_POLL: usize = 4 << 20;

/// The first bytes of a file, by which a copy of it is known.
const HEAD_BYTES: usize = 1024;

/// A read larger than this goes from the file straight into the line
/// reader's batches, its last line end found in its last `TAIL_BYTES`
/// (smaller reads are read whole, then handed on).
const TAIL_BYTES: usize = 64 << 10;

/// A file's identity: device and inode.
type Identity = (u64, u64);

/// What is known of a file's content read so far.
#[derive(Clone, Debug, Default)]
struct Position {
    /// Bytes read.
    offset: u64,
    /// Whole lines read.
    line: u64,
    /// The partial line after the last line end.
    carry: Vec<u8>,
    /// The file's first bytes (up to [`HEAD_BYTES`]).
    head: Vec<u8>,
    /// The rest of an over-long line is being skipped.
    skipping: bool,
}

/// A followed file.
struct Followed {
    identity: Identity,
    path: PathBuf,
    /// `path` as messages name it.
    name: String,
    file: File,
    position: Position,
    /// Matched by a pattern at the last poll.
    matched: bool,
    /// When bytes were last read from it.
    last_read: Instant,
    /// Its position just before it was found truncated, kept for a copy
    /// of it to take on (for [`COPY_GRACE`]).
    truncated: Option<(Position, Instant)>,
    work: LineWork,
    /// The index of the pattern that found it (its source in the metrics).
    source: usize,
}

/// What one pattern's files gave, for the metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceCounts {
    /// The pattern, as given.
    pub pattern: String,
    /// Its format's name.
    pub format: &'static str,
    /// Rows read (records, and rejected lines).
    pub read: u64,
    /// Rejected.
    pub rejected: u64,
    /// Lines the prefilter skipped unparsed.
    pub skipped: u64,
}

/// The files behind `--follow`.
pub struct Follower {
    patterns: Vec<(String, InputFormat)>,
    files: Vec<Followed>,
    /// Copies waiting for their original's truncation, since when.
    pending_copies: HashMap<Identity, Instant>,
    /// Files not read: plain copies, and closed files with their position.
    closed: HashMap<Identity, Option<Position>>,
    /// The first bytes of the files of the checkpoint resumed (`--state`).
    resumed_heads: Vec<Vec<u8>>,
    /// Since when each entry of `closed` has not been matched by a pattern.
    unmatched_since: HashMap<Identity, Instant>,
    /// Paths reported as unreadable or as an output (once each).
    reported: Vec<PathBuf>,
    /// The detector's own output files (a name for messages, and the
    /// file): a pattern that matches one does not read it back. Each file
    /// `--output-file` named stays here after SIGHUP reopened it.
    outputs: Vec<(String, FileId)>,
    started: bool,
    templates: Vec<(InputFormat, LineWork)>,
    /// Counts per pattern.
    sources: Vec<SourceCounts>,
}

impl Follower {
    /// Follows `files` (paths or globs), each read in its format.
    /// `outputs` are the detector's own output files (standard output
    /// and error when they are files, `--rejects`): never followed, even
    /// when a pattern matches one.
    pub(crate) fn new<W: Write, E: Write>(
        files: &[InputFile],
        outputs: Vec<(String, FileId)>,
        session: &Session<'_, W, E>,
    ) -> Follower {
        let mut templates: Vec<(InputFormat, LineWork)> = Vec::new();
        for file in files {
            if !templates.iter().any(|(f, _)| *f == file.format) {
                templates.push((file.format, session.line_work(file.format)));
            }
        }
        Follower {
            patterns: files.iter().map(|f| (f.path.clone(), f.format)).collect(),
            sources: files
                .iter()
                .map(|f| SourceCounts {
                    pattern: f.path.clone(),
                    format: f.format.name(),
                    ..SourceCounts::default()
                })
                .collect(),
            files: Vec::new(),
            pending_copies: HashMap::new(),
            closed: HashMap::new(),
            unmatched_since: HashMap::new(),
            resumed_heads: Vec::new(),
            reported: Vec::new(),
            outputs,
            started: false,
            templates,
        }
    }

    /// One poll: finds new, renamed and truncated files and reads what was
    /// written to each, flushing the output after each file's lines.
    /// `Ok(true)` when something was read.
    pub(crate) fn poll<W: Write, E: Write>(
        &mut self,
        session: &mut Session<'_, W, E>,
    ) -> Result<bool, Stop> {
        self.discover(session)?;
        let mut busy = false;
        for index in 0..self.files.len() {
            busy |= self.read_file(index, session)?;
        }
        self.close_idle(session)?;
        self.started = true;
        Ok(busy)
    }

    /// Takes the files the patterns match now: new ones are opened (a copy
    /// of a truncated file takes on its position), renamed ones are
    /// renamed.
    fn discover<W: Write, E: Write>(
        &mut self,
        session: &mut Session<'_, W, E>,
    ) -> Result<(), Stop> {
        for file in &mut self.files {
            file.matched = false;
        }
        // `--output-file` reopened after logrotate is a new file at the
        // same path; the renamed one stays an output too.
        for output in session.output_files() {
            if !self.outputs.iter().any(|(_, id)| *id == output.1) {
                self.outputs.push(output);
            }
        }
        let now = Instant::now();
        let mut matched: Vec<Identity> = Vec::new();
        for (source, (pattern, format)) in self.patterns.clone().into_iter().enumerate() {
            for path in matching_paths(&pattern) {
                let Ok(meta) = std::fs::metadata(&path) else {
                    continue;
                };
                if !meta.is_file() {
                    continue;
                }
                // `--follow 'logs/*' --rejects logs/rejects.jsonl`, or
                // stdout redirected into the folder: reading it would feed
                // the detector its own output, without end.
                let id = FileId::of_metadata(&meta);
                if let Some((output, _)) = self.outputs.iter().find(|(_, o)| Some(*o) == id) {
                    if !self.reported.contains(&path) {
                        session.report(format_args!(
                            "{}: matches --follow {pattern} but is this detector's {output}: not followed (it would read its own output)",
                            path.display()
                        ))?;
                        self.reported.push(path);
                    }
                    continue;
                }
                let identity = (meta.dev(), meta.ino());
                matched.push(identity);
                if let Some(file) = self.files.iter_mut().find(|f| f.identity == identity) {
                    file.matched = true;
                    if file.path != path {
                        file.name = path.display().to_string();
                        file.path = path;
                    }
                    continue;
                }
                let mut file = match File::open(&path) {
                    Ok(file) => file,
                    Err(e) => {
                        if !self.reported.contains(&path) {
                            session.report(format_args!("{}: cannot open: {e}", path.display()))?;
                            self.reported.push(path);
                        }
                        continue;
                    }
                };
                let mut position = Position::default();
                let mut truncated = None;
                if let Some(closed) = self.closed.get(&identity) {
                    match closed {
                        // A plain copy, or a closed file that is back.
                        None => continue,
                        Some(closed) if starts_with(&mut file, &closed.head) => {
                            position = closed.clone();
                        }
                        // The inode was reused, or the file was truncated
                        // (while the detector was down): a new file, and a
                        // copy of the old one made before takes on its
                        // position.
                        Some(closed) => {
                            if !closed.head.is_empty() {
                                truncated = Some((closed.clone(), now));
                            }
                        }
                    }
                    self.closed.remove(&identity);
                } else if !self.started
                    && self.resumed_heads.iter().any(|h| starts_with(&mut file, h))
                {
                    // At a restart, a file not in the checkpoint that starts
                    // like one in it: perhaps a copy made while the
                    // detector was down. Decided at the next poll, once
                    // every file is known (copy or not).
                    continue;
                } else if self.started {
                    match self.copy_of(&mut file) {
                        Copy::Not => {}
                        Copy::OfTruncated(index) => {
                            let taken = self.files[index]
                                .truncated
                                .take()
                                .map(|(position, _)| position)
                                .unwrap_or_default();
                            session.report(format_args!(
                                "{}: a copy of {} made before it was truncated: read from byte {} on",
                                path.display(),
                                self.files[index].name,
                                taken.offset
                            ))?;
                            position = taken;
                            self.pending_copies.remove(&identity);
                        }
                        Copy::OfLive(index) => {
                            let since = *self.pending_copies.entry(identity).or_insert(now);
                            if now.duration_since(since) >= COPY_GRACE {
                                session.report(format_args!(
                                    "{}: a copy of {} (same first bytes), not truncated after it: not read",
                                    path.display(),
                                    self.files[index].name
                                ))?;
                                self.pending_copies.remove(&identity);
                                self.closed.insert(identity, None);
                            }
                            continue;
                        }
                    }
                }
                if position.offset > 0 {
                    if let Err(e) = file.seek(SeekFrom::Start(position.offset)) {
                        session.report(format_args!("{}: cannot read: {e}", path.display()))?;
                        continue;
                    }
                }
                let work = self
                    .templates
                    .iter()
                    .find(|(f, _)| *f == format)
                    .map(|(_, w)| w.clone())
                    .unwrap_or_else(|| session.line_work(format));
                self.files.push(Followed {
                    identity,
                    name: path.display().to_string(),
                    path,
                    file,
                    position,
                    matched: true,
                    last_read: now,
                    truncated,
                    work,
                    source,
                });
            }
        }
        self.forget_gone(&matched, now);
        Ok(())
    }

    /// Forgets closed files no pattern has matched for [`FORGET_AFTER`].
    fn forget_gone(&mut self, matched: &[Identity], now: Instant) {
        let unmatched_since = &mut self.unmatched_since;
        unmatched_since.retain(|identity, _| !matched.contains(identity));
        self.closed.retain(|identity, _| {
            if matched.contains(identity) {
                return true;
            }
            let since = *unmatched_since.entry(*identity).or_insert(now);
            now.duration_since(since) < FORGET_AFTER
        });
        let closed = &self.closed;
        unmatched_since.retain(|identity, _| closed.contains_key(identity));
    }

    /// Whether `file` starts with the first bytes of a followed file: a
    /// copy of one found truncated, or of one still being written.
    fn copy_of(&self, file: &mut File) -> Copy {
        let mut found = Copy::Not;
        for (index, followed) in self.files.iter().enumerate() {
            if let Some((position, at)) = &followed.truncated {
                if at.elapsed() < COPY_GRACE && starts_with(file, &position.head) {
                    return Copy::OfTruncated(index);
                }
            }
            if starts_with(file, &followed.position.head) {
                found = Copy::OfLive(index);
            }
        }
        found
    }

    /// Reads what was written to file `index` since the last poll.
    fn read_file<W: Write, E: Write>(
        &mut self,
        index: usize,
        session: &mut Session<'_, W, E>,
    ) -> Result<bool, Stop> {
        let file = &mut self.files[index];
        let size = match file.file.metadata() {
            Ok(meta) => meta.len(),
            Err(e) => {
                session.report(format_args!("{}: cannot read: {e}", file.name))?;
                return Ok(false);
            }
        };
        // A file truncated and written past its old size again is known by
        // its first bytes.
        let rewritten = size > file.position.offset
            && file.position.offset > 0
            && !file.position.head.is_empty()
            && {
                let mut start = vec![0; file.position.head.len()];
                file.file.read_exact_at(&mut start, 0).is_ok() && start != file.position.head
            };
        if size < file.position.offset || rewritten {
            session.report(format_args!(
                "{}: truncated to {size} bytes after {} were read: reading it again from its start",
                file.name, file.position.offset
            ))?;
            let before = std::mem::take(&mut file.position);
            file.truncated = Some((before, Instant::now()));
            if let Err(e) = file.file.seek(SeekFrom::Start(0)) {
                session.report(format_args!("{}: cannot read: {e}", file.name))?;
                return Ok(false);
            }
        }
        if size == file.position.offset {
            return Ok(false);
        }
        let end = size.min(file.position.offset + READ_PER_POLL as u64);
        if !file.position.skipping && end - file.position.offset > TAIL_BYTES as u64 {
            if let Some(read) = self.read_in_place(index, end, session)? {
                return Ok(read);
            }
        }
        let file = &mut self.files[index];
        // The carry keeps the capacity of the last read: reading into its
        // spare capacity (`read_to_end` over `take`) neither zeroes nor
        // allocates the 4 MiB again at each poll.
        let mut buffer = std::mem::take(&mut file.position.carry);
        let start = buffer.len();
        let wanted = (size - file.position.offset).min(READ_WHOLE_PER_POLL as u64) as usize;
        buffer.reserve(wanted);
        let read = (&mut file.file)
            .take(wanted as u64)
            .read_to_end(&mut buffer);
        let got = buffer.len() - start;
        if let Err(e) = read {
            // The bytes read are kept (as the partial line), so the offset
            // counts them: a checkpoint is at `offset` minus the partial
            // line.
            file.position.offset += got as u64;
            file.position.carry = buffer;
            session.report(format_args!(
                "{}: read error: {e} (tried again at the next poll)",
                file.name
            ))?;
            return Ok(false);
        }
        if got == 0 {
            file.position.carry = buffer;
            return Ok(false);
        }
        if (file.position.head.len() as u64) == file.position.offset
            && file.position.head.len() < HEAD_BYTES
        {
            let take = (HEAD_BYTES - file.position.head.len()).min(got);
            let new = buffer[start..start + take].to_vec();
            file.position.head.extend_from_slice(&new);
        }
        file.position.offset += got as u64;
        file.last_read = Instant::now();
        self.take_lines(index, buffer, session)?;
        session.flush_output()?;
        Ok(true)
    }

    /// Reads file `index` up to `end` (at most [`READ_PER_POLL`] bytes
    /// after its offset) as batch mode reads a file: the whole lines go
    /// from the file into the line reader's batches, with no copy in
    /// between; the partial last line (read in the window's last
    /// [`TAIL_BYTES`], where the last line end is looked for) is kept.
    /// `None` when those bytes hold no line end (a long line, or the file
    /// was truncated meanwhile): the caller reads the window whole.
    fn read_in_place<W: Write, E: Write>(
        &mut self,
        index: usize,
        end: u64,
        session: &mut Session<'_, W, E>,
    ) -> Result<Option<bool>, Stop> {
        let file = &mut self.files[index];
        let offset = file.position.offset;
        let tail_start = end - TAIL_BYTES as u64;
        let mut tail = vec![0; TAIL_BYTES];
        if file.file.read_exact_at(&mut tail, tail_start).is_err() {
            return Ok(None);
        }
        let Some(last) = memchr::memrchr(b'\n', &tail) else {
            return Ok(None);
        };
        let whole_end = tail_start + last as u64 + 1;
        let head = &mut file.position.head;
        if head.len() as u64 == offset && head.len() < HEAD_BYTES {
            let mut start = vec![0; HEAD_BYTES - head.len()];
            let got = file.file.read_at(&mut start, offset).unwrap_or(0);
            head.extend_from_slice(&start[..got]);
        }
        let carry = std::mem::take(&mut file.position.carry);
        let mut window = Window {
            carry: &carry,
            file: &file.file,
            at: offset,
            end: whole_end,
            buffer: Vec::new(),
            consumed: 0,
            line_end: None,
        };
        let before = session.totals();
        let read = session.read_lines_of(&file.name, file.position.line, &mut window, &file.work);
        self.sources[file.source].add(&before, &session.totals());
        let (line, error) = read?;
        file.position.line = line;
        file.last_read = Instant::now();
        match error {
            None => {
                file.position.offset = end;
                file.position.carry = tail[last + 1..].to_vec();
            }
            Some(e) => {
                // After the last whole line delivered; read again at the
                // next poll from there (a truncation is seen then).
                match window.line_end {
                    Some(line_end) => file.position.offset = line_end,
                    None => file.position.carry = carry,
                }
                session.report(format_args!(
                    "{}: read error: {e} (tried again at the next poll)",
                    file.name
                ))?;
            }
        }
        if let Err(e) = file.file.seek(SeekFrom::Start(file.position.offset)) {
            session.report(format_args!("{}: cannot read: {e}", file.name))?;
        }
        session.flush_output()?;
        Ok(Some(true))
    }

    /// Hands the whole lines of `buffer` (carry and new bytes) to the
    /// session; keeps the partial last line.
    fn take_lines<W: Write, E: Write>(
        &mut self,
        index: usize,
        mut buffer: Vec<u8>,
        session: &mut Session<'_, W, E>,
    ) -> Result<(), Stop> {
        let file = &mut self.files[index];
        let mut from = 0;
        if file.position.skipping {
            match memchr::memchr(b'\n', &buffer) {
                Some(end) => {
                    from = end + 1;
                    file.position.skipping = false;
                    file.position.line += 1;
                }
                None => return Ok(()),
            }
        }
        let whole = match memchr::memrchr(b'\n', &buffer[from..]) {
            Some(last) => from + last + 1,
            None => from,
        };
        if whole > from {
            let before = session.totals();
            let read = session.read_lines_of(
                &file.name,
                file.position.line,
                &buffer[from..whole],
                &file.work,
            );
            self.sources[file.source].add(&before, &session.totals());
            // Bytes in memory: no read error.
            (file.position.line, _) = read?;
        }
        buffer.drain(..whole);
        if buffer.len() > MAX_LINE_BYTES {
            session.report(format_args!(
                "{}:{}: line longer than the limit of {MAX_LINE_BYTES} bytes: skipped to its end",
                file.name,
                file.position.line + 1
            ))?;
            buffer.clear();
            file.position.skipping = true;
        }
        file.position.carry = buffer;
        Ok(())
    }

    /// Closes the files no pattern matches any more once they have been
    /// idle for [`CLOSE_AFTER_IDLE`]; a partial last line is read then.
    fn close_idle<W: Write, E: Write>(
        &mut self,
        session: &mut Session<'_, W, E>,
    ) -> Result<(), Stop> {
        let mut index = 0;
        while index < self.files.len() {
            let file = &self.files[index];
            if file.matched || file.last_read.elapsed() < CLOSE_AFTER_IDLE {
                index += 1;
                continue;
            }
            let mut file = self.files.swap_remove(index);
            if !file.position.carry.is_empty() && !file.position.skipping {
                let mut last = std::mem::take(&mut file.position.carry);
                last.push(b'\n');
                let before = session.totals();
                let read =
                    session.read_lines_of(&file.name, file.position.line, &last[..], &file.work);
                self.sources[file.source].add(&before, &session.totals());
                (file.position.line, _) = read?;
                session.flush_output()?;
            }
            self.closed.insert(file.identity, Some(file.position));
        }
        Ok(())
    }
}

impl SourceCounts {
    pub(crate) fn add(&mut self, before: &Totals, after: &Totals) {
        self.read += after.read - before.read;
        self.rejected += after.rejected - before.rejected;
        self.skipped += after.skipped - before.skipped;
    }
}

impl Follower {
    /// The counts per pattern.
    pub fn sources(&self) -> &[SourceCounts] {
        &self.sources
    }

    /// Where each known file is, for a checkpoint: after its last whole
    /// line read (every poll flushes the output of the lines it read, so
    /// between polls that is the end of the output written). Files found
    /// to be plain copies, and a truncated file's position kept for its
    /// copy, are not kept.
    pub fn positions(&self) -> Vec<FilePosition> {
        let open = self.files.iter().map(|f| {
            let path = f.path.display().to_string();
            (f.identity, Some(path), &f.position)
        });
        let closed = self
            .closed
            .iter()
            .filter_map(|(identity, position)| Some((*identity, None, position.as_ref()?)));
        let mut positions: Vec<FilePosition> = open
            .chain(closed)
            .map(|((device, inode), path, position)| FilePosition {
                path: path.unwrap_or_default(),
                device,
                inode,
                head: state::hex(&position.head),
                offset: position.offset.saturating_sub(position.carry.len() as u64),
                line: position.line,
                skipping: position.skipping,
            })
            .collect();
        positions.sort_by_key(|p| (p.device, p.inode));
        positions
    }

    /// Takes up the positions of a checkpoint: a file with one of these
    /// identities and first bytes, found under any name a pattern matches,
    /// is read from its offset.
    pub fn resume(&mut self, positions: Vec<FilePosition>) {
        for saved in positions {
            let Some(head) = state::unhex(&saved.head) else {
                continue;
            };
            if !head.is_empty() {
                self.resumed_heads.push(head.clone());
            }
            self.closed.insert(
                (saved.device, saved.inode),
                Some(Position {
                    offset: saved.offset,
                    line: saved.line,
                    carry: Vec::new(),
                    head,
                    skipping: saved.skipping,
                }),
            );
        }
    }
}

/// The whole lines of a window of a followed file, read in place: the
/// partial line carried from the last read, then the file's bytes up to
/// `end` (just after a line end), read at their offsets (`pread`) straight
/// into the caller's buffer.
struct Window<'a> {
    carry: &'a [u8],
    file: &'a File,
    /// The offset of the next byte to read.
    at: u64,
    end: u64,
    /// Bytes read for [`BufRead::fill_buf`] (the rest of an over-long
    /// line), from `consumed` on not yet taken.
    buffer: Vec<u8>,
    consumed: usize,
    /// The offset just after the last line end handed out.
    line_end: Option<u64>,
}

impl Window<'_> {
    /// Reads from the file at `self.at` into `into`; a file that ends
    /// before `end` was truncated meanwhile (an error: the partial line
    /// before it is not handed on as a line).
    fn read_file(&mut self, into: &mut [u8]) -> std::io::Result<usize> {
        let want = (self.end - self.at).min(into.len() as u64) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut into[..want], self.at)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file was truncated while it was read",
            ));
        }
        self.at += n as u64;
        Ok(n)
    }
}

impl Read for Window<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.carry.is_empty() {
            // A partial line: no line end.
            let n = self.carry.len().min(buf.len());
            buf[..n].copy_from_slice(&self.carry[..n]);
            self.carry = &self.carry[n..];
            return Ok(n);
        }
        if self.consumed < self.buffer.len() {
            let n = (self.buffer.len() - self.consumed).min(buf.len());
            buf[..n].copy_from_slice(&self.buffer[self.consumed..self.consumed + n]);
            self.consume(n);
            return Ok(n);
        }
        let n = self.read_file(buf)?;
        // `at` is past them already: as if taken from the buffer.
        let at = self.at;
        if let Some(last) = memchr::memrchr(b'\n', &buf[..n]) {
            self.line_end = Some(at - (n - last - 1) as u64);
        }
        Ok(n)
    }
}

impl BufRead for Window<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if !self.carry.is_empty() {
            return Ok(self.carry);
        }
        if self.consumed == self.buffer.len() {
            let mut buffer = std::mem::take(&mut self.buffer);
            buffer.resize(TAIL_BYTES, 0);
            let n = self.read_file(&mut buffer);
            buffer.truncate(*n.as_ref().unwrap_or(&0));
            self.buffer = buffer;
            self.consumed = 0;
            n?;
        }
        Ok(&self.buffer[self.consumed..])
    }

    fn consume(&mut self, amount: usize) {
        if !self.carry.is_empty() {
            self.carry = &self.carry[amount..];
            return;
        }
        let taken = self.consumed..self.consumed + amount;
        self.consumed += amount;
        // The buffer's bytes end at `at`.
        let left = (self.buffer.len() - self.consumed) as u64;
        if let Some(last) = memchr::memrchr(b'\n', &self.buffer[taken]) {
            let end_of_taken = self.at - left;
            self.line_end = Some(end_of_taken - (amount - last - 1) as u64);
        }
    }
}

enum Copy {
    Not,
    /// A copy of the file at this index, found truncated.
    OfTruncated(usize),
    /// A copy of the file at this index, not (yet) truncated.
    OfLive(usize),
}

/// True when `file` starts with `head` (not empty); the file is left at
/// its start.
fn starts_with(file: &mut File, head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let mut start = vec![0; head.len()];
    let same = file.seek(SeekFrom::Start(0)).is_ok()
        && file.read_exact(&mut start).is_ok()
        && start == head;
    let _ = file.seek(SeekFrom::Start(0));
    same
}

/// The paths `pattern` matches now: itself, or with `*`/`?` in its last
/// component, the matching names in its folder, sorted.
fn matching_paths(pattern: &str) -> Vec<PathBuf> {
    let path = Path::new(pattern);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.contains(['*', '?']) {
        return vec![path.to_path_buf()];
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| glob_matches(name, n))
        })
        .map(|e| dir.join(e.file_name()))
        .collect();
    paths.sort();
    paths
}

/// Whether `name` matches `pattern`, where `*` is any run of characters
/// and `?` any one character.
fn glob_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_runs_and_single_characters() {
        assert!(glob_matches("audit*.log", "audit.log"));
        assert!(glob_matches(
            "audit*.log",
            "audit-2024-05-28T10-00-00.000.log"
        ));
        assert!(glob_matches("audit.log*", "audit.log.1"));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("a?c", "ac"));
        assert!(!glob_matches("audit*.log", "audit.log.1"));
        assert!(glob_matches("*", ""));
    }

    #[test]
    fn a_copy_is_known_by_its_first_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, b"first line\nsecond").unwrap();
        let mut file = File::open(&path).unwrap();
        assert!(starts_with(&mut file, b"first line\n"));
        assert!(!starts_with(&mut file, b"other"));
        assert!(!starts_with(&mut file, b""));
        assert!(!starts_with(&mut file, b"first line\nsecond and more"));
    }
}
