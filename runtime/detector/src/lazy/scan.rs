//! The lazy reader's fast path: one validating pass over a line's bytes,
//! skipping what no rule observes without `serde_json`'s visitor
//! machinery, and finding the ends of strings sixteen bytes a step.
//!
//! It accepts a subset of what `serde_json` accepts, and where it accepts a
//! line it builds exactly the slots the `serde_json` path
//! ([`super::RowSeed`]) builds. Anything it is not sure of fails with
//! [`Fail`], and the caller runs the `serde_json` path on the line, so its
//! verdict and its messages decide:
//!
//! - a string holding a byte below 0x20 (an error) or a byte of a
//!   non-ASCII character that is not well-formed UTF-8; the line is not
//!   checked as a whole: outside strings every byte is read by the grammar
//!   (which is ASCII), and inside strings the search for the string's end
//!   stops at every control byte and non-ASCII byte, so a line the scanner
//!   reads is valid UTF-8 with no control byte in a string;
//! - a `\u` escape of a UTF-16 surrogate that is not a well-formed pair;
//! - a number with an exponent or longer than [`LONG_NUMBER`] bytes is
//!   checked by `serde_json` itself (its range check is the only one that
//!   can reject a number of valid syntax);
//! - nesting is counted as `serde_json` counts it (at most 127 open arrays
//!   and objects, the row's own object included).
//!
//! Scalars and whole `dynamic` values that are not strings, `null` or
//! booleans are located here and then converted by `serde_json` from their
//! own text, through the same seeds as the general path.

use std::borrow::Cow;
use std::sync::Arc;

use serde::de::{DeserializeSeed, Visitor};
use serde::Deserialize;

use super::strings::StrCache;
use super::{Projection, RowReader, ScalarSeed, Skip};
use kql_runtime::query::ColumnType;
use kql_runtime::value::{Bag, Value};

/// The scanner gave up: the `serde_json` path decides.
#[derive(Debug)]
pub(super) struct Fail;

type Scan<T> = Result<T, Fail>;

/// `serde_json`'s nesting limit: its remaining depth starts here and an
/// array or object that brings it to zero is an error.
const DEPTH: u32 = 128;

/// Numbers up to this many bytes without an exponent are finite whatever
/// their digits; longer ones (and any with an exponent) are range-checked
/// by `serde_json`.
pub(super) const LONG_NUMBER: usize = 100;

/// Fills `slots` (kept from line to line) with the slots of one
/// row-shaped line, as [`super::RowSeed`] fills them; the strings built
/// are taken from `strings` when they repeat.
///
/// `last` is the row read before (or nothing): a `dynamic` column's bag
/// there that nothing else holds is taken and refilled in place.
pub(super) fn slots(
    reader: &RowReader,
    strings: &mut StrCache,
    slots: &mut Vec<Option<Value>>,
    last: &mut [Value],
    line: &[u8],
) -> Scan<()> {
    let mut scanner = Scanner::new(line);
    scanner.ws();
    scanner.expect(b'{')?;
    scanner.enter()?;
    // Filled without cloning a `None` per column (`vec!` clones).
    slots.clear();
    slots.resize_with(reader.columns.len(), || None);
    let mut next = 0;
    scanner.ws();
    if !scanner.eat(b'}') {
        loop {
            let key = scanner.key()?;
            scanner.colon()?;
            // Keys mostly come in column order: try the next column first.
            let column = match reader.columns.get(next) {
                Some((name, _)) if same_key(name.as_bytes(), &key) => Some(next),
                _ => (reader.columns.iter()).position(|(name, _)| same_key(name.as_bytes(), &key)),
            };
            match column {
                None => scanner.skip_value()?,
                Some(i) => {
                    next = i + 1;
                    let ty = reader.columns[i].1;
                    let value = match (&reader.projection[i], ty) {
                        (Projection::Unread, ColumnType::Dynamic) => {
                            scanner.skip_value()?;
                            ty.null()
                        }
                        // Any string is a string or a guid: skipped in line.
                        (Projection::Unread, ColumnType::String | ColumnType::Guid)
                            if byte_at(scanner.bytes, scanner.pos) == b'"' =>
                        {
                            scanner.pos = past_string(scanner.bytes, scanner.pos + 1)?;
                            ty.null()
                        }
                        (Projection::Unread, _) => {
                            scanner.scalar(ty, false, strings)?;
                            ty.null()
                        }
                        (projection, ColumnType::Dynamic) => {
                            let reuse = last.get_mut(i).map(std::mem::take);
                            scanner.dynamic(projection, strings, reuse)?
                        }
                        _ => scanner.scalar(ty, true, strings)?,
                    };
                    slots[i] = Some(value);
                }
            }
            if scanner.next_member(b'}')? {
                break;
            }
        }
    }
    scanner.leave();
    scanner.ws();
    if scanner.pos != scanner.bytes.len() {
        return Err(Fail);
    }
    Ok(())
}

/// How many bytes [`find_special`] looks at in one step: two SIMD
/// registers' worth (against sixteen, 5% fewer instructions on the strings
/// of the benchmark's sample, which average 18 bytes).
pub(super) const CHUNK: usize = 32;

/// True for the bytes a string's scan stops at: `"`, `\`, a control byte
/// (below 0x20) and any byte of a non-ASCII character (0x80 and above: as
/// a signed byte, below zero).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
pub(super) fn special(byte: u8) -> bool {
    (byte == b'"') | (byte == b'\\') | ((byte as i8) < 0x20)
}

/// The position in `chunk` of its first [`special`] byte: on x86_64 by
/// SSE2 comparisons and `movemask` (part of the x86_64 baseline, so no CPU
/// detection is needed), through `safe_arch`, which wraps the intrinsics
/// without `unsafe` in this crate.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(super) fn first_special(chunk: &[u8; CHUNK]) -> Option<usize> {
    let (low, high) = chunk.split_at(CHUNK / 2);
    // The low half alone first: most strings end in it.
    let mask = special_mask(low.try_into().expect("a half"));
    if mask != 0 {
        return Some(mask.trailing_zeros() as usize);
    }
    let mask = special_mask(high.try_into().expect("a half"));
    (mask != 0).then(|| CHUNK / 2 + mask.trailing_zeros() as usize)
}

/// Bit i is set when byte i of `half` is [`special`]: three comparisons
/// (a control byte and a non-ASCII byte are both below 0x20 as signed
/// bytes), two ors and a `movemask`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn special_mask(half: &[u8; 16]) -> u32 {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, cmp_lt_mask_i8_m128i, load_unaligned_m128i,
        move_mask_i8_m128i, set_splat_i8_m128i,
    };
    let bytes = load_unaligned_m128i(half);
    let quote = cmp_eq_mask_i8_m128i(bytes, set_splat_i8_m128i(b'"' as i8));
    let backslash = cmp_eq_mask_i8_m128i(bytes, set_splat_i8_m128i(b'\\' as i8));
    let below = cmp_lt_mask_i8_m128i(bytes, set_splat_i8_m128i(0x20));
    move_mask_i8_m128i(bitor_m128i(bitor_m128i(quote, backslash), below)) as u32
}

/// The position in `chunk` of its first [`special`] byte, without
/// `std::arch`: the fallback on other targets (and checked against the
/// SSE2 one by the tests).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
pub(super) fn first_special_portable(chunk: &[u8; CHUNK]) -> Option<usize> {
    match special_flags(chunk) {
        [0, 0] => None,
        [0, high] => Some(CHUNK / 2 + first_flag(high)),
        [low, _] => Some(first_flag(low)),
    }
}

/// The portable search's fallback.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
pub(super) fn first_special(chunk: &[u8; CHUNK]) -> Option<usize> {
    first_special_portable(chunk)
}

/// Byte i of the two halves is 0xff when byte i of `chunk` is [`special`],
/// 0 otherwise. Written so that the compiler makes it three SIMD
/// comparisons per sixteen bytes where it vectorizes the loop (aarch64);
/// elsewhere it is the same loop, byte by byte. (A bit per byte shifted
/// into a mask is not vectorized by LLVM: it became a reduction of some 80
/// instructions per sixteen bytes; so did 0 and 1 in place of 0 and 0xff.)
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
fn special_flags(chunk: &[u8; CHUNK]) -> [u128; 2] {
    let mut flags = [0u8; CHUNK];
    for (flag, &byte) in flags.iter_mut().zip(chunk) {
        *flag = if special(byte) { 0xff } else { 0 };
    }
    let (low, high) = flags.split_at(CHUNK / 2);
    let half = |half: &[u8]| u128::from_le_bytes(half.try_into().expect("a half"));
    [half(low), half(high)]
}

/// The index of the first nonzero byte of `flags` (not 0): a branch on
/// its low half rather than the trailing zeros of both halves.
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
fn first_flag(flags: u128) -> usize {
    let low = flags as u64;
    if low != 0 {
        low.trailing_zeros() as usize / 8
    } else {
        8 + ((flags >> 64) as u64).trailing_zeros() as usize / 8
    }
}

/// The position of the first [`special`] byte of `bytes` at or after
/// `from`, [`CHUNK`] bytes a step.
#[inline(always)]
pub(super) fn find_special(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let rest = bytes.get(from..)?;
        let Some(chunk) = rest.first_chunk::<CHUNK>() else {
            // The last few bytes, padded with a byte that is not special.
            let mut chunk = [b'a'; CHUNK];
            chunk[..rest.len()].copy_from_slice(rest);
            return first_special(&chunk).map(|at| from + at);
        };
        if let Some(at) = first_special(chunk) {
            return Some(from + at);
        }
        from += CHUNK;
    }
}

/// The byte at `pos`, or 0 past the end (which no rule of the grammar
/// accepts, so one comparison checks both).
#[inline(always)]
fn byte_at(bytes: &[u8], pos: usize) -> u8 {
    bytes.get(pos).copied().unwrap_or(0)
}

/// Past any whitespace at `pos` (one comparison when there is none, as
/// between the tokens of most lines).
#[inline(always)]
fn past_ws(bytes: &[u8], pos: usize) -> usize {
    if byte_at(bytes, pos) <= b' ' {
        past_more_ws(bytes, pos)
    } else {
        pos
    }
}

fn past_more_ws(bytes: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = bytes.get(pos) {
        pos += 1;
    }
    pos
}

/// From inside a string at `pos` (past its opening quote) to past its
/// closing quote, checking it: the search for the next special byte, and
/// escapes and non-ASCII runs out of line.
#[inline(always)]
fn past_string(bytes: &[u8], mut pos: usize) -> Scan<usize> {
    loop {
        pos = find_special(bytes, pos).ok_or(Fail)?;
        if bytes.get(pos) == Some(&b'"') {
            return Ok(pos + 1);
        }
        pos = past_escape_or_non_ascii(bytes, pos)?;
    }
}

/// At a backslash, past its escape; at a control byte, [`Fail`]; at a
/// non-ASCII byte, past its run ([`Scanner::non_ascii`]).
#[cold]
#[inline(never)]
fn past_escape_or_non_ascii(bytes: &[u8], pos: usize) -> Scan<usize> {
    let mut scanner = Scanner::new(bytes);
    scanner.pos = pos;
    if scanner.eat(b'\\') {
        scanner.escape()?;
    } else {
        scanner.non_ascii()?;
    }
    Ok(scanner.pos)
}

/// At a member's key (after whitespace): past the key, its colon and the
/// whitespace before the value.
#[inline(always)]
fn past_key(bytes: &[u8], pos: usize) -> Scan<usize> {
    if byte_at(bytes, pos) != b'"' {
        return Err(Fail);
    }
    past_colon(bytes, past_string(bytes, pos + 1)?)
}

/// After a key: past the colon, with any whitespace around it (one
/// comparison when there is none).
#[inline(always)]
fn past_colon(bytes: &[u8], mut pos: usize) -> Scan<usize> {
    if byte_at(bytes, pos) != b':' {
        pos = past_ws(bytes, pos);
        if byte_at(bytes, pos) != b':' {
            return Err(Fail);
        }
    }
    Ok(past_ws(bytes, pos + 1))
}

/// Past `word` (a literal) at `pos`.
#[inline(always)]
fn past_literal(bytes: &[u8], pos: usize, word: &[u8]) -> Scan<usize> {
    match bytes.get(pos..pos + word.len()) {
        Some(found) if found == word => Ok(pos + word.len()),
        _ => Err(Fail),
    }
}

/// Whether two keys are the same bytes: the lengths, then a word (eight
/// or four bytes) at a time, the last word overlapping the one before,
/// in line (a slice comparison calls `memcmp`, which costs more than the
/// comparison itself on keys this short).
#[inline(always)]
pub(super) fn same_key(name: &[u8], key: &[u8]) -> bool {
    let n = name.len();
    if n != key.len() {
        return false;
    }
    if n >= 8 {
        let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8"));
        let mut at = 0;
        while at + 8 < n {
            if word(name, at) != word(key, at) {
                return false;
            }
            at += 8;
        }
        word(name, n - 8) == word(key, n - 8)
    } else if n >= 4 {
        let word = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4"));
        word(name, 0) == word(key, 0) && word(name, n - 4) == word(key, n - 4)
    } else {
        name.iter().zip(key).all(|(a, b)| a == b)
    }
}

/// A position in one line of JSON text.
pub(super) struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// `serde_json`'s remaining depth.
    remaining: u32,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `line`.
    pub(super) fn new(line: &'a [u8]) -> Scanner<'a> {
        Scanner {
            bytes: line,
            pos: 0,
            remaining: DEPTH,
        }
    }

    /// The text of `bytes[start..end]`: checked as UTF-8 again (the scan
    /// has checked it, but only this makes a `&str` without `unsafe`); only
    /// values that are built pay for it.
    fn text(&self, start: usize, end: usize) -> Scan<&'a str> {
        std::str::from_utf8(&self.bytes[start..end]).map_err(|_| Fail)
    }

    fn peek(&self) -> Scan<u8> {
        self.bytes.get(self.pos).copied().ok_or(Fail)
    }

    /// Skips whitespace ([`past_ws`]).
    #[inline(always)]
    fn ws(&mut self) {
        self.pos = past_ws(self.bytes, self.pos);
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, byte: u8) -> Scan<()> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(Fail)
        }
    }

    fn literal(&mut self, word: &[u8]) -> Scan<()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Fail)
        }
    }

    fn enter(&mut self) -> Scan<()> {
        self.remaining -= 1;
        if self.remaining == 0 {
            return Err(Fail);
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.remaining += 1;
    }

    /// After a member or element: whitespace, then `,` (and whitespace:
    /// false, another follows) or `close` (true).
    fn next_member(&mut self, close: u8) -> Scan<bool> {
        self.ws();
        match self.peek()? {
            b',' => {
                self.pos += 1;
                self.ws();
                Ok(false)
            }
            b if b == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(Fail),
        }
    }

    /// A string at the position: its text, borrowed when it has no escape.
    fn string(&mut self) -> Scan<Cow<'a, str>> {
        let start = self.pos + 1;
        Ok(match self.raw_string()? {
            Cow::Borrowed(_) => Cow::Borrowed(self.text(start, self.pos - 1)?),
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8(bytes).map_err(|_| Fail)?),
        })
    }

    /// A member's key at the position, as bytes ([`Self::raw_string`]):
    /// a key without escapes or non-ASCII characters (nearly all) is read
    /// in line, by one search for its end.
    #[inline(always)]
    fn key(&mut self) -> Scan<Cow<'a, [u8]>> {
        if byte_at(self.bytes, self.pos) == b'"' {
            let start = self.pos + 1;
            if let Some(end) = find_special(self.bytes, start) {
                if self.bytes.get(end) == Some(&b'"') {
                    self.pos = end + 1;
                    return Ok(Cow::Borrowed(&self.bytes[start..end]));
                }
            }
        }
        self.raw_string()
    }

    /// A string at the position as bytes (checked: UTF-8, no control
    /// byte), borrowed when it has no escape: keys are compared as bytes.
    fn raw_string(&mut self) -> Scan<Cow<'a, [u8]>> {
        self.expect(b'"')?;
        let start = self.pos;
        loop {
            self.pos = find_special(self.bytes, self.pos).ok_or(Fail)?;
            match self.bytes[self.pos] {
                b'"' => {
                    self.pos += 1;
                    return Ok(Cow::Borrowed(&self.bytes[start..self.pos - 1]));
                }
                b'\\' => break,
                _ => self.non_ascii()?,
            }
        }
        let mut out = self.bytes[start..self.pos].to_vec();
        self.rest_of_string(&mut out)?;
        Ok(Cow::Owned(out))
    }

    /// Skips a string at the position (checking it).
    fn skip_string(&mut self) -> Scan<()> {
        self.expect(b'"')?;
        self.pos = past_string(self.bytes, self.pos)?;
        Ok(())
    }

    /// At a control byte (fails) or at the first byte of a run of non-ASCII
    /// bytes inside a string: past the run, which must be well-formed UTF-8
    /// by itself (an ASCII byte is never part of a longer character).
    #[cold]
    fn non_ascii(&mut self) -> Scan<()> {
        let start = self.pos;
        if self.bytes[start] < 0x80 {
            return Err(Fail);
        }
        let run = self.bytes[start..].iter().position(|&b| b < 0x80);
        self.pos = run.map_or(self.bytes.len(), |n| start + n);
        std::str::from_utf8(&self.bytes[start..self.pos]).map_err(|_| Fail)?;
        Ok(())
    }

    /// From a backslash inside a string to past its closing quote,
    /// decoding escapes into `out`.
    fn rest_of_string(&mut self, out: &mut Vec<u8>) -> Scan<()> {
        loop {
            let start = self.pos;
            self.pos = find_special(self.bytes, start).ok_or(Fail)?;
            out.extend_from_slice(&self.bytes[start..self.pos]);
            match self.bytes[self.pos] {
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                b'\\' => {
                    self.pos += 1;
                    let c = self.escape()?;
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                _ => {
                    let run = self.pos;
                    self.non_ascii()?;
                    out.extend_from_slice(&self.bytes[run..self.pos]);
                }
            }
        }
    }

    /// One escape, the backslash just read: the character it spells.
    fn escape(&mut self) -> Scan<char> {
        let byte = self.peek()?;
        self.pos += 1;
        Ok(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\x08',
            b'f' => '\x0c',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                match high {
                    0xD800..=0xDBFF => {
                        self.literal(b"\\u")?;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(Fail);
                        }
                        let code = 0x1_0000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                        char::from_u32(code).ok_or(Fail)?
                    }
                    _ => char::from_u32(high).ok_or(Fail)?,
                }
            }
            _ => return Err(Fail),
        })
    }

    fn hex4(&mut self) -> Scan<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or(Fail)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + (d as char).to_digit(16).ok_or(Fail)?;
        }
        self.pos += 4;
        Ok(n)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A number at the position, checked as `serde_json` checks it.
    fn number(&mut self) -> Scan<()> {
        let start = self.pos;
        self.eat(b'-');
        match self.peek()? {
            b'0' => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
                    return Err(Fail);
                }
            }
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return Err(Fail),
        }
        if self.eat(b'.') && self.digits() == 0 {
            return Err(Fail);
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(Fail);
            }
            exponent = true;
        }
        if exponent || self.pos - start > LONG_NUMBER {
            serde_json::from_str::<Skip>(self.text(start, self.pos)?).map_err(|_| Fail)?;
        }
        Ok(())
    }

    /// Skips one value at the position, checking it: one loop over the
    /// tokens, the open arrays and objects kept as bits (nesting is at
    /// most 127 deep), rather than a call per value; the position and the
    /// count of open containers (which `serde_json`'s remaining depth
    /// bounds) are kept in locals, and a member's key, colon and
    /// whitespace are read in line.
    pub(super) fn skip_value(&mut self) -> Scan<()> {
        let bytes = self.bytes;
        let mut pos = self.pos;
        // Bit i of `objects` is set when the container opened i levels
        // below the innermost one is an object.
        let mut objects: u128 = 0;
        let mut open = 0u32;
        loop {
            // A value is expected here.
            let byte = byte_at(bytes, pos);
            match byte {
                b'"' => pos = past_string(bytes, pos + 1)?,
                b'{' | b'[' => {
                    // `serde_json`'s depth limit counts this one too.
                    if open + 1 >= self.remaining {
                        return Err(Fail);
                    }
                    pos = past_ws(bytes, pos + 1);
                    // `]` and `}` are two past `[` and `{`.
                    if byte_at(bytes, pos) == byte + 2 {
                        pos += 1;
                    } else {
                        open += 1;
                        objects = (objects << 1) | u128::from(byte == b'{');
                        if byte == b'{' {
                            pos = past_key(bytes, pos)?;
                        }
                        continue;
                    }
                }
                b't' => pos = past_literal(bytes, pos, b"true")?,
                b'f' => pos = past_literal(bytes, pos, b"false")?,
                b'n' => pos = past_literal(bytes, pos, b"null")?,
                b'-' | b'0'..=b'9' => {
                    self.pos = pos;
                    self.number()?;
                    pos = self.pos;
                }
                _ => return Err(Fail),
            }
            // After a value: close containers until one goes on.
            loop {
                if open == 0 {
                    self.pos = pos;
                    return Ok(());
                }
                let object = objects & 1 == 1;
                let mut byte = byte_at(bytes, pos);
                if byte <= b' ' {
                    pos = past_more_ws(bytes, pos);
                    byte = byte_at(bytes, pos);
                }
                pos += 1;
                if byte == b',' {
                    pos = past_ws(bytes, pos);
                    if object {
                        pos = past_key(bytes, pos)?;
                    }
                    break;
                }
                // `]` is 0x5d, `}` is 0x7d.
                if byte != b']' + (u8::from(object) << 5) {
                    return Err(Fail);
                }
                open -= 1;
                objects >>= 1;
            }
        }
    }

    /// After a key: the colon, with any whitespace around it, up to the
    /// value (most lines have none: one comparison then).
    #[inline(always)]
    fn colon(&mut self) -> Scan<()> {
        self.pos = past_colon(self.bytes, self.pos)?;
        Ok(())
    }

    /// The text of the value at the position (checked), for `serde_json`
    /// to convert.
    fn value_text(&mut self) -> Scan<&'a str> {
        let start = self.pos;
        self.skip_value()?;
        self.text(start, self.pos)
    }

    /// A scalar column's value, as [`ScalarSeed`] converts it (a string
    /// or guid from `strings`).
    fn scalar(&mut self, ty: ColumnType, build: bool, strings: &mut StrCache) -> Scan<Value> {
        let seed = ScalarSeed { ty, build };
        match self.peek()? {
            // Any string is a string or a guid; unread, it is not built.
            b'"' if !build && matches!(ty, ColumnType::String | ColumnType::Guid) => {
                self.skip_string()?;
                Ok(Value::Null)
            }
            b'"' => {
                let text = self.string()?;
                match ty {
                    // As `ScalarSeed::visit_str` builds them.
                    ColumnType::String => Ok(Value::String(strings.get(&text))),
                    ColumnType::Guid => Ok(Value::Guid(strings.get(&text))),
                    _ => seed.visit_str::<serde_json::Error>(&text).map_err(|_| Fail),
                }
            }
            b'n' => {
                self.literal(b"null")?;
                seed.visit_unit::<serde_json::Error>().map_err(|_| Fail)
            }
            // As `serde_json` hands booleans to the seed.
            b't' => {
                self.literal(b"true")?;
                seed.visit_bool::<serde_json::Error>(true).map_err(|_| Fail)
            }
            b'f' => {
                self.literal(b"false")?;
                seed.visit_bool::<serde_json::Error>(false)
                    .map_err(|_| Fail)
            }
            _ => {
                let text = self.value_text()?;
                seed.deserialize(&mut serde_json::Deserializer::from_str(text))
                    .map_err(|_| Fail)
            }
        }
    }

    /// A `dynamic` value built as `projection` says, as
    /// [`super::DynamicSeed`] builds it. `reuse` is the value at the same
    /// place in the row read before: a bag that nothing else holds is
    /// refilled in place (and so, below it, are its bags), rather than
    /// allocated again.
    fn dynamic(
        &mut self,
        projection: &Projection,
        strings: &mut StrCache,
        reuse: Option<Value>,
    ) -> Scan<Value> {
        match projection {
            Projection::Members(members) if self.peek()? == b'{' => {
                self.pos += 1;
                self.enter()?;
                self.ws();
                // Refilled only if nothing else holds it (`Arc::get_mut`).
                let mut bag = match reuse {
                    Some(Value::Bag(bag)) => Some(bag),
                    _ => None,
                };
                // The old entries stay in front of the new ones until the
                // object ends: each new member's value can reuse its own.
                let mut entries = (bag.as_mut().and_then(Arc::get_mut))
                    .map(Bag::take_entries)
                    .unwrap_or_default();
                let old = entries.len();
                if !self.eat(b'}') {
                    loop {
                        let key = self.key()?;
                        self.colon()?;
                        match (members.iter())
                            .position(|(k, _)| same_key(k.as_str().as_bytes(), &key))
                        {
                            Some(i) => {
                                let (key, below) = &members[i];
                                let reuse = (entries[..old].iter_mut())
                                    .find(|(k, _)| k == key)
                                    .map(|(_, value)| std::mem::take(value));
                                let value = self.dynamic(below, strings, reuse)?;
                                entries.push((key.clone(), value));
                            }
                            None => self.skip_value()?,
                        }
                        if self.next_member(b'}')? {
                            break;
                        }
                    }
                }
                self.leave();
                entries.drain(..old);
                let built = Bag::from_entries(entries);
                Ok(Value::Bag(match bag.as_mut().and_then(Arc::get_mut) {
                    Some(place) => {
                        *place = built;
                        bag.unwrap_or_default()
                    }
                    None => Arc::new(built),
                }))
            }
            _ => self.whole(strings),
        }
    }

    /// A `dynamic` value built whole, as `ValueVisitor` builds it (a
    /// string from `strings`).
    fn whole(&mut self, strings: &mut StrCache) -> Scan<Value> {
        match self.peek()? {
            b'"' => {
                let text = self.string()?;
                Ok(Value::String(strings.get(&text)))
            }
            b'n' => {
                self.literal(b"null")?;
                Ok(Value::Null)
            }
            b't' => {
                self.literal(b"true")?;
                Ok(Value::Bool(true))
            }
            b'f' => {
                self.literal(b"false")?;
                Ok(Value::Bool(false))
            }
            _ => {
                let text = self.value_text()?;
                Value::deserialize(&mut serde_json::Deserializer::from_str(text)).map_err(|_| Fail)
            }
        }
    }
}
