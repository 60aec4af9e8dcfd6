//! Base64 functions: `base64_encode_tostring`, `base64_decode_tostring`,
//! `base64_encode_fromarray`, `base64_decode_toarray`,
//! `base64_encode_fromguid`, `base64_decode_toguid`, and the compressing
//! forms `zlib_compress_to_base64_string`, `zlib_decompress_from_base64_string`,
//! `gzip_compress_to_base64_string`, `gzip_decompress_from_base64_string`,
//! and the Punycode pair `punycode_from_string`, `punycode_to_string`.
//!
//! The alphabet is the standard one (`+`, `/`) with `=` padding. Decoding is
//! strict, as .NET's `Convert.FromBase64String`: white space is skipped, the
//! length must be a multiple of four and padding must be right; anything else
//! fails. The reference's examples agree: `base64_decode_toarray` of
//! `"U3RyaW5n0KHR0tGA0L7Rh9C60LA"` (no padding) gives nothing to encode back.

use std::sync::Arc;

use super::integer_arg;
use crate::text::to_text;
use crate::value::{Str, Value};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn sextet(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Strict base64 decoding; `None` when `text` is not valid base64.
fn decode(text: &str) -> Option<Vec<u8>> {
    let symbols: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if symbols.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(symbols.len() / 4 * 3);
    let chunks = symbols.len() / 4;
    for (i, chunk) in symbols.chunks(4).enumerate() {
        let padding = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 || (padding > 0 && i + 1 != chunks) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - padding] {
            n = (n << 6) | sextet(c)?;
        }
        n <<= 6 * padding as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - padding]);
    }
    Some(out)
}

/// `base64_encode_tostring(string)` (`base64-encode-tostring-function.md`):
/// the base64 of the string's UTF-8 bytes (`"Kusto"` is `S3VzdG8=`). Null →
/// `""`.
pub fn base64_encode_tostring(v: &Value) -> Value {
    Value::string(encode(to_text(v).as_bytes()))
}

/// `base64_decode_tostring(base64_string)`
/// (`base64-decode-tostring-function.md`): the UTF-8 text that the base64
/// encodes (`"S3VzdG8="` is `Kusto`). Bytes that are not valid UTF-8, or text
/// that is not valid base64, give `""` (the reference shows an empty result;
/// a string has no null).
pub fn base64_decode_tostring(v: &Value) -> Value {
    decode(&to_text(v))
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map_or(Value::from_static(""), Value::string)
}

/// `base64_decode_toarray(base64_string)` (`base64-decode-toarray-function.md`):
/// the decoded bytes as a dynamic array of longs (`"S3VzdG8="` is
/// `[75,117,115,116,111]`). Text that is not valid base64 gives null.
pub fn base64_decode_toarray(v: &Value) -> Value {
    decode(&to_text(v)).map_or(Value::Null, |bytes| {
        Value::Array(Arc::new(
            bytes
                .into_iter()
                .map(|b| Value::Long(i64::from(b)))
                .collect(),
        ))
    })
}

/// `base64_encode_fromarray(base64_string_decoded_as_array)`
/// (`base64-encode-fromarray-function.md`): the base64 of an array of bytes
/// (integers 0–255; -128–-1 are read as signed bytes). A value that is not
/// such an array gives `""` (the reference shows an empty result for a
/// null array).
pub fn base64_encode_fromarray(v: &Value) -> Value {
    let Value::Array(items) = v else {
        return Value::from_static("");
    };
    let mut bytes = Vec::with_capacity(items.len());
    for item in items.iter() {
        match integer_arg(item) {
            Some(n) if (-128..=255).contains(&n) => bytes.push(n as u8),
            _ => return Value::from_static(""),
        }
    }
    Value::string(encode(&bytes))
}

/// The 16 bytes of a guid in .NET's `Guid.ToByteArray` order (the first
/// three groups little-endian).
fn guid_bytes(text: &str) -> Option<[u8; 16]> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    Some(b)
}

/// `base64_encode_fromguid(guid)` (`base64-encode-fromguid-function.md`):
/// the base64 of the guid's 16 bytes in .NET order
/// (`toguid("ae3133f2-6e22-49ae-b06a-16e6a9b212eb")` is
/// `8jMxriJurkmwahbmqbIS6w==`). A value that is not a guid gives `""`.
pub fn base64_encode_fromguid(v: &Value) -> Value {
    match v {
        Value::Guid(g) => {
            guid_bytes(g).map_or(Value::from_static(""), |b| Value::string(encode(&b)))
        }
        _ => Value::from_static(""),
    }
}

/// `base64_decode_toguid(base64_string)` (`base64-decode-toguid-function.md`):
/// the guid whose 16 bytes (.NET order) the base64 encodes; the inverse of
/// [`base64_encode_fromguid`]. Anything else gives null.
pub fn base64_decode_toguid(v: &Value) -> Value {
    let Some(mut b) = decode(&to_text(v)).filter(|b| b.len() == 16) else {
        return Value::Null;
    };
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Value::Guid(Str::from(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )))
}

/// The compressed forms are written as the reference's examples show
/// them: deflate without compression (stored blocks, the bytes the
/// reference's examples hold), a zlib header `78 01`, and a gzip header with
/// no time, no flags and the "unknown" operating system (`1f 8b 08 00
/// 00000000 00 ff`). Any zlib or gzip reader decompresses them.
fn stored_deflate(text: &str) -> Option<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::none());
    encoder.write_all(text.as_bytes()).ok()?;
    encoder.finish().ok()
}

/// `zlib_compress_to_base64_string(string)`
/// (`zlib-base64-compress-function.md`): the base64 of the zlib stream
/// (window size 15) of the string's UTF-8 bytes. The bytes of Kusto's
/// compressor are not specified; kqlc stores rather than compresses (see
/// `stored_deflate`), which gives the reference's example exactly.
pub fn zlib_compress_to_base64_string(v: &Value) -> Value {
    let text = to_text(v);
    let Some(deflated) = stored_deflate(&text) else {
        return Value::from_static("");
    };
    let mut out = vec![0x78, 0x01];
    out.extend(deflated);
    out.extend(adler32(text.as_bytes()).to_be_bytes());
    Value::string(encode(&out))
}

/// `gzip_compress_to_base64_string(string)` (`gzip-base64-compress.md`): the
/// base64 of a gzip member holding the string's UTF-8 bytes (see
/// `stored_deflate`).
pub fn gzip_compress_to_base64_string(v: &Value) -> Value {
    let text = to_text(v);
    let Some(deflated) = stored_deflate(&text) else {
        return Value::from_static("");
    };
    let mut out = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff];
    out.extend(deflated);
    let mut crc = flate2::Crc::new();
    crc.update(text.as_bytes());
    out.extend(crc.sum().to_le_bytes());
    out.extend((text.len() as u32).to_le_bytes());
    Value::string(encode(&out))
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in bytes.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

/// Reads a decompressor to the end as UTF-8 text, up to the size a function
/// may build ([`super::MAX_STRING_BYTES`]; past it the result is `""` and
/// the detector says so).
fn inflate_text(reader: impl std::io::Read) -> Option<String> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    let limit = super::MAX_STRING_BYTES as u64;
    reader.take(limit + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > limit {
        crate::budget::cap_hit(super::STRING_CAP);
        return None;
    }
    String::from_utf8(bytes).ok()
}

/// `zlib_decompress_from_base64_string(string)`
/// (`zlib-base64-decompress-function.md`): the UTF-8 text of a base64 zlib
/// stream. Text that is not base64, not a whole zlib stream (checksum
/// included) or not UTF-8 gives `""`, the reference's empty result.
pub fn zlib_decompress_from_base64_string(v: &Value) -> Value {
    decode(&to_text(v))
        .and_then(|bytes| inflate_text(flate2::read::ZlibDecoder::new(bytes.as_slice())))
        .map_or(Value::from_static(""), Value::string)
}

/// `gzip_decompress_from_base64_string(string)` (`gzip-base64-decompress.md`):
/// the UTF-8 text of a base64 gzip member. As the reference says, the header
/// must have ID1, ID2 and CM right and the FLG byte zero (no optional
/// fields); otherwise, or when the text is not base64, the data is damaged
/// (checksum included) or not UTF-8, the result is `""`.
pub fn gzip_decompress_from_base64_string(v: &Value) -> Value {
    decode(&to_text(v))
        .filter(|bytes| bytes.len() >= 10 && bytes[..4] == [0x1f, 0x8b, 0x08, 0x00])
        .and_then(|bytes| inflate_text(flate2::read::GzDecoder::new(bytes.as_slice())))
        .map_or(Value::from_static(""), Value::string)
}

/// `punycode_from_string(text)` (`punycode-from-string-function.md`): the
/// text in Punycode (RFC 3492), ASCII only and without the `xn--` prefix
/// (`académie-française` is `acadmie-franaise-npb1a`). The encoding is the
/// RFC's, with no IDNA mapping: case is kept, and an ASCII-only text gets
/// the delimiter (`abc` is `abc-`). A non-string or a text the encoder
/// refuses gives `""`, the page's "empty result".
pub fn punycode_from_string(text: &Value) -> Value {
    match text {
        Value::String(s) => Value::string(punycode::encode(s.as_str()).unwrap_or_default()),
        _ => Value::from_static(""),
    }
}

/// `punycode_to_string(text)` (`punycode-to-string-function.md`): the text
/// a Punycode string (without `xn--`) encodes. Text that is not ASCII, not
/// valid Punycode, or not a string gives `""`.
pub fn punycode_to_string(text: &Value) -> Value {
    match text {
        Value::String(s) => Value::string(punycode::decode(s.as_str()).unwrap_or_default()),
        _ => Value::from_static(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::to_string;

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    #[test]
    fn base64_follows_reference_examples() {
        assert_eq!(base64_encode_tostring(&s("Kusto")), s("S3VzdG8="));
        assert_eq!(base64_decode_tostring(&s("S3VzdG8=")), s("Kusto"));
        assert_eq!(
            base64_decode_tostring(&s("U3RyaW5n0KHR0tGA0L7Rh9C60LA=")),
            s("")
        );
        assert_eq!(
            to_string(&base64_decode_toarray(&s("S3VzdG8="))),
            "[75,117,115,116,111]"
        );
        assert_eq!(
            base64_decode_toarray(&s("U3RyaW5n0KHR0tGA0L7Rh9C60LA")),
            Value::Null
        );
        assert_eq!(
            base64_encode_fromarray(&base64_decode_toarray(&s("S3VzdG8="))),
            s("S3VzdG8=")
        );
        assert_eq!(base64_encode_fromarray(&Value::Null), s(""));
    }

    #[test]
    fn base64_round_trips_and_rejects() {
        for text in ["", "a", "ab", "abc", "abcd", "héllo wörld"] {
            let encoded = base64_encode_tostring(&Value::string(text));
            assert_eq!(base64_decode_tostring(&encoded), Value::string(text));
        }
        assert_eq!(base64_encode_tostring(&s("ab")), s("YWI="));
        assert_eq!(base64_encode_tostring(&s("a")), s("YQ=="));
        assert_eq!(base64_decode_tostring(&s("YW Jj")), s("abc"));
        for bad in ["YQ", "Y===", "YQ==YQ==", "@@@@", "YQ=a"] {
            assert_eq!(base64_decode_toarray(&s(bad)), Value::Null, "{bad}");
        }
        assert_eq!(base64_encode_tostring(&Value::Null), s(""));
    }

    #[test]
    fn guids_round_trip() {
        let g = Value::Guid("ae3133f2-6e22-49ae-b06a-16e6a9b212eb".into());
        assert_eq!(base64_encode_fromguid(&g), s("8jMxriJurkmwahbmqbIS6w=="));
        assert_eq!(base64_decode_toguid(&s("8jMxriJurkmwahbmqbIS6w==")), g);
        assert_eq!(base64_decode_toguid(&s("S3VzdG8=")), Value::Null);
        assert_eq!(base64_encode_fromguid(&Value::Null), s(""));
    }
}
