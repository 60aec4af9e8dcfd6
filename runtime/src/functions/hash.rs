//! Hash functions: `hash` (also `hash_xxhash64`), `hash_md5`, `hash_sha1`,
//! `hash_sha256`.
//!
//! The value hashed is the value's text in UTF-8, a datetime in its full
//! form with seven fraction digits (`2020-01-01T00:00:00.0000000Z`): the
//! reference's examples (`hash-md5-function.md`, `hash-sha1-function.md`,
//! `hash-sha256-function.md`) hash exactly these bytes.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::{checked_long, forced_text, integer_arg, real_arg};
use crate::value::Value;

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn digest_hex<D: Digest>(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    Value::string(hex(&D::digest(forced_text(v).as_bytes())))
}

/// `hash_md5(source)` (`hash-md5-function.md`): the MD5 hash as lowercase hex
/// (`hash_md5("World")` is `f5a7924e621e84c9280a9a27e1bcb7f6`). Null →
/// null.
pub fn hash_md5(v: &Value) -> Value {
    digest_hex::<Md5>(v)
}

/// `hash_sha1(source)` (`hash-sha1-function.md`): the SHA-1 hash as lowercase
/// hex. Null → null.
pub fn hash_sha1(v: &Value) -> Value {
    digest_hex::<Sha1>(v)
}

/// `hash_sha256(source)` (`hash-sha256-function.md`): the SHA-256 hash as
/// lowercase hex (`hash_sha256("World")` is
/// `78ae647dc5544d227130a0682a51e30bc7777fbb6d8a8f17007463a3ecd1d524`).
/// Null → null.
pub fn hash_sha256(v: &Value) -> Value {
    digest_hex::<Sha256>(v)
}

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

fn read_u64(b: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&b[..8]);
    u64::from_le_bytes(word)
}

fn read_u32(b: &[u8]) -> u64 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&b[..4]);
    u64::from(u32::from_le_bytes(word))
}

fn round(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

fn merge(acc: u64, value: u64) -> u64 {
    (acc ^ round(0, value)).wrapping_mul(P1).wrapping_add(P4)
}

/// XXH64 of `data` with seed 0 (the reference algorithm by Yann Collet).
fn xxhash64(data: &[u8]) -> u64 {
    let len = data.len() as u64;
    let mut rest = data;
    let mut h = if data.len() >= 32 {
        let mut v = [P1.wrapping_add(P2), P2, 0, 0u64.wrapping_sub(P1)];
        while rest.len() >= 32 {
            for (i, lane) in v.iter_mut().enumerate() {
                *lane = round(*lane, read_u64(&rest[i * 8..]));
            }
            rest = &rest[32..];
        }
        let mut h = v[0]
            .rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18));
        for lane in v {
            h = merge(h, lane);
        }
        h
    } else {
        P5
    };
    h = h.wrapping_add(len);
    while rest.len() >= 8 {
        h ^= round(0, read_u64(rest));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        rest = &rest[8..];
    }
    if rest.len() >= 4 {
        h ^= read_u32(rest).wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        rest = &rest[4..];
    }
    for &b in rest {
        h ^= u64::from(b).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

/// The bytes `hash` hashes: a string's UTF-8; a datetime's .NET ticks
/// (since 0001-01-01) and a long's, int's or timespan's value as 8
/// little-endian bytes; a real's IEEE bits; anything else its text.
fn hash_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::DateTime(d) => {
            d.0.wrapping_add(crate::text::UNIX_EPOCH_DOTNET_TICKS)
                .to_le_bytes()
                .to_vec()
        }
        Value::Int(_) | Value::Long(_) => integer_arg(v).unwrap_or(0).to_le_bytes().to_vec(),
        Value::TimeSpan(t) => t.0.to_le_bytes().to_vec(),
        Value::Real(x) => x.to_le_bytes().to_vec(),
        other => forced_text(other).as_bytes().to_vec(),
    }
}

/// `hash(source [, mod])` (`hash-function.md`; also `hash_xxhash64`), as a
/// slice: the XXH64 hash of `source` as a long (`hash("World")` is
/// 1846988464401551951, `hash(datetime("2015-01-01"))` is
/// 1380966698541616202 — strings hash their UTF-8 bytes and datetimes their
/// ticks, which reproduces both of the reference's examples). With `mod`,
/// the unsigned hash modulo `mod` (`hash("World", 100)` is 51).
///
/// **Unsettled**: the bytes hashed for longs, ints, timespans (8
/// little-endian bytes) and reals (their IEEE bits) follow the datetime
/// example by analogy; bools, guids and dynamic values hash their text. A
/// hash that does not fit a signed long is returned as its two's-complement
/// long. Null, or a `mod` that is null or not positive, gives null.
pub fn hash(args: &[Value]) -> Value {
    let Some(source) = args.first() else {
        return Value::Null;
    };
    if source.is_null() {
        return Value::Null;
    }
    let h = xxhash64(&hash_bytes(source));
    match args.get(1) {
        None => Value::Long(h as i64),
        Some(m) => {
            match integer_arg(m).or_else(|| real_arg(m).and_then(|x| checked_long(x.trunc()))) {
                Some(m) if m > 0 => Value::Long((h % m as u64) as i64),
                _ => Value::Null,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parse_datetime;

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    fn dt(text: &str) -> Value {
        Value::DateTime(parse_datetime(text).unwrap_or_else(|| panic!("{text}")))
    }

    #[test]
    fn digests_follow_reference_examples() {
        assert_eq!(hash_md5(&s("World")), s("f5a7924e621e84c9280a9a27e1bcb7f6"));
        assert_eq!(
            hash_md5(&dt("2020-01-01")),
            s("786c530672d1f8db31fee25ea8a9390b")
        );
        assert_eq!(
            hash_sha1(&s("World")),
            s("70c07ec18ef89c5309bbb0937f3a6342411e1fdd")
        );
        assert_eq!(
            hash_sha1(&dt("2020-01-01")),
            s("e903e533f4d636b4fc0dcf3cf81e7b7f330de776")
        );
        assert_eq!(
            hash_sha256(&s("World")),
            s("78ae647dc5544d227130a0682a51e30bc7777fbb6d8a8f17007463a3ecd1d524")
        );
        assert_eq!(
            hash_sha256(&dt("2020-01-01")),
            s("ba666752dc1a20eb750b0eb64e780cc4c968bc9fb8813461c1d7e750f302d71d")
        );
        assert_eq!(hash_md5(&s("")), s("d41d8cd98f00b204e9800998ecf8427e"));
        assert_eq!(hash_md5(&Value::Null), Value::Null);
    }

    #[test]
    fn xxhash_follows_reference_examples() {
        assert_eq!(hash(&[s("World")]), Value::Long(1846988464401551951));
        assert_eq!(hash(&[s("World"), Value::Long(100)]), Value::Long(51));
        assert_eq!(hash(&[dt("2015-01-01")]), Value::Long(1380966698541616202));
        assert_eq!(xxhash64(b""), 0xEF46_DB37_51D8_E999);
        let long_input = "x".repeat(100);
        assert_ne!(hash(&[Value::string(long_input)]), Value::Null);
        assert_eq!(hash(&[Value::Null]), Value::Null);
        assert_eq!(hash(&[s("a"), Value::Long(0)]), Value::Null);
    }
}
