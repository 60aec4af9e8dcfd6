//! String functions: `strcat`, `strcat_delim`, `strcat_array`, `strlen`,
//! `tolower`, `toupper`, `substring`, `indexof`, `replace_string`,
//! `replace_strings`, `split`, `url_decode`, `url_encode`,
//! `url_encode_component`, `reverse`, `strrep`, `strcmp`, `string_size`,
//! `translate`, `countof`, `has_any_index`, `unicode_codepoints_from_string`,
//! `unicode_codepoints_to_string`.
//!
//! As the reference says for several of them ("If the arguments aren't of
//! string type, they'll be forcibly converted to string"), every string
//! argument is taken as its `tostring`: a null is `""`. Positions and lengths
//! count Unicode code points (`strlen-function.md`).
//!
//! Functions whose KQL form has optional arguments take them as a slice
//! (`substring(args)`, `indexof_range(args)`); the shapes the generated code
//! calls most have fixed-argument functions (`indexof(s, match)`,
//! `split(s, delim)`, `split_at(s, delim, index)`).

use std::fmt::Write as _;
use std::sync::Arc;

use super::{forced_text, integer_arg, MAX_STRING_BYTES, STRING_CAP};
use crate::functions::regex::cached_regex;
use crate::ops;
use crate::text::to_text;
use crate::value::Value;

/// An integer argument: int, long, or a real truncated toward zero; `None`
/// for null, anything else, and a real outside the long range (not a
/// saturated position: `substring("abc", 0, 1e30)` is `""`, as for any
/// length that is not a long).
fn int_arg(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(i64::from(*n)),
        Value::Long(n) => Some(*n),
        Value::Real(x) => super::checked_long(x.trunc()),
        _ => None,
    }
}

/// `strcat(arg1, arg2, ...)` (`strcat-function.md`): the `tostring` of every
/// argument, concatenated (`strcat("hello", " ", "world")`). Nulls add
/// nothing.
pub fn strcat(args: &[Value]) -> Value {
    let mut out = String::new();
    for a in args {
        out.push_str(&to_text(a));
    }
    Value::string(out)
}

/// `strcat_delim(delimiter, arg1, arg2, ...)` (`strcat-delim-function.md`):
/// the `tostring` of the arguments after the first, joined by the first
/// (`strcat_delim('-', 1, '2', 'A', 1s)` is `1-2-A-00:00:01`). No arguments →
/// `""`.
pub fn strcat_delim(args: &[Value]) -> Value {
    let Some((delimiter, rest)) = args.split_first() else {
        return Value::from_static("");
    };
    let delimiter = to_text(delimiter);
    let mut out = String::new();
    for (i, a) in rest.iter().enumerate() {
        if i > 0 {
            out.push_str(&delimiter);
        }
        out.push_str(&to_text(a));
    }
    Value::string(out)
}

/// `strcat_array(array, delimiter)` (`strcat-array-function.md`): the
/// `tostring` of the array's elements joined by `delimiter`
/// (`strcat_array(dynamic([1, 2, 3]), "->")` is `1->2->3`). A null element
/// adds `""`. A value that is not an array gives `""` (the reference is
/// silent).
pub fn strcat_array(array: &Value, delimiter: &Value) -> Value {
    let Value::Array(items) = array else {
        return Value::from_static("");
    };
    let delimiter = to_text(delimiter);
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(&delimiter);
        }
        out.push_str(&to_text(item));
    }
    Value::string(out)
}

/// `strlen(source)` (`strlen-function.md`): the number of Unicode code points
/// (`strlen("⒦⒰⒮⒯⒪")` is 5, `strlen('Çedilla')` with a combining mark is
/// 8), as a long. A null is `""`, length 0.
pub fn strlen(s: &Value) -> Value {
    Value::Long(to_text(s).chars().count() as i64)
}

/// `tolower(source)` (`tolower-function.md`): Unicode lowercase of the
/// `tostring` of `source`.
pub fn tolower(s: &Value) -> Value {
    Value::string(to_text(s).to_lowercase())
}

/// `toupper(source)` (`toupper-function.md`): Unicode uppercase of the
/// `tostring` of `source`.
pub fn toupper(s: &Value) -> Value {
    Value::string(to_text(s).to_uppercase())
}

/// Byte offset of code point `k` in `s` (or `s.len()` past the end).
fn byte_offset(s: &str, k: usize) -> usize {
    if s.is_ascii() {
        return k.min(s.len());
    }
    s.char_indices().nth(k).map_or(s.len(), |(i, _)| i)
}

/// `substring(source, startingIndex [, length])` (`substring-function.md`),
/// arguments as a slice: `substring("123456", 1)` is `23456`,
/// `substring("123456", 2, 2)` is `34`, `substring("123456", -2, 2)` is `56`
/// (a negative start counts from the end).
///
/// Choices where the reference is silent: a negative start before the
/// beginning is clamped to 0; a start past the end, a negative length, or a
/// missing or null start or length gives `""` (a `string` has no null).
pub fn substring(args: &[Value]) -> Value {
    let Some(source) = args.first() else {
        return Value::from_static("");
    };
    let Some(start) = args.get(1).and_then(int_arg) else {
        return Value::from_static("");
    };
    let length = match args.get(2) {
        None => None,
        Some(v) => match int_arg(v) {
            Some(n) if n >= 0 => Some(n),
            _ => return Value::from_static(""),
        },
    };
    let text = to_text(source);
    let len = text.chars().count() as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start.min(len)
    };
    let end = match length {
        Some(n) => start.saturating_add(n).min(len),
        None => len,
    };
    let from = byte_offset(&text, start as usize);
    let to = byte_offset(&text, end as usize);
    Value::string(&text[from..to])
}

/// `indexof(string, match)` (`indexof-function.md`): the zero-based position
/// (in code points) of the first occurrence of `match` in `string`, or -1;
/// both arguments are taken as their `tostring` (`indexof(1234567, 5)`
/// looks for `"5"` in `"1234567"`). An empty `match` is found at 0.
pub fn indexof(s: &Value, needle: &Value) -> Value {
    indexof_range(&[s.clone(), needle.clone()])
}

/// The full form `indexof(string, match [, start [, length [, occurrence]]])`
/// (`indexof-function.md`), arguments as a slice:
///
/// - `start` (default 0): where the search starts; negative counts from the
///   end (`indexof("abcdefg", "cde", -5)` is 2);
/// - `length` (default -1, unlimited): how many positions to examine; the
///   match must lie within them (`indexof("abcdefg", "cde", 1, 2)` is -1);
/// - `occurrence` (default 1): which occurrence; each further occurrence is
///   searched from one past the previous one with the same `length`
///   (`indexof("abcdefgabcdefg", "cde", 1, 10, 2)` is 9, as in the
///   reference).
///
/// Returns a long: the position, or -1 when not found (also when `start` is
/// past the end). Null when `start` counts back before the beginning,
/// `length` < -1, `occurrence` < 1 (the reference says < 0; occurrence 0
/// has no meaning), or an optional argument is given but null.
pub fn indexof_range(args: &[Value]) -> Value {
    let text = args.first().map(to_text).unwrap_or_default();
    let needle = args.get(1).map(to_text).unwrap_or_default();
    let optional = |i: usize, default: i64| match args.get(i) {
        None => Some(default),
        Some(v) => int_arg(v),
    };
    let (Some(start), Some(length), Some(occurrence)) =
        (optional(2, 0), optional(3, -1), optional(4, 1))
    else {
        return Value::Null;
    };
    let hay: Vec<char> = text.chars().collect();
    let needle: Vec<char> = needle.chars().collect();
    let len = hay.len() as i64;
    let start = if start < 0 { len + start } else { start };
    if start < 0 || length < -1 || occurrence < 1 {
        return Value::Null;
    }
    let mut pos = start;
    for k in 1..=occurrence {
        if pos > len {
            return Value::Long(-1);
        }
        let window_end = if length == -1 {
            len
        } else {
            pos.saturating_add(length).min(len)
        };
        let window = &hay[pos as usize..window_end as usize];
        let found = if needle.is_empty() {
            Some(0)
        } else {
            window
                .windows(needle.len())
                .position(|w| w == needle.as_slice())
        };
        let Some(offset) = found else {
            return Value::Long(-1);
        };
        let at = pos + offset as i64;
        if k == occurrence {
            return Value::Long(at);
        }
        pos = at + 1;
    }
    Value::Long(-1)
}

/// `replace_string(text, lookup, rewrite)` (`replace-string-function.md`):
/// every non-overlapping occurrence of `lookup` in `text` replaced by
/// `rewrite`, left to right. An empty `lookup` leaves `text` unchanged (the
/// reference is silent; .NET refuses an empty lookup).
pub fn replace_string(text: &Value, lookup: &Value, rewrite: &Value) -> Value {
    let text_str = to_text(text);
    let lookup = to_text(lookup);
    if lookup.is_empty() || !text_str.contains(lookup.as_ref()) {
        return Value::string(text_str.into_owned());
    }
    Value::string(text_str.replace(lookup.as_ref(), &to_text(rewrite)))
}

fn string_array<'a>(parts: impl Iterator<Item = &'a str>) -> Value {
    Value::Array(Arc::new(parts.map(Value::string).collect()))
}

/// `split(source, delimiter)` (`split-function.md`): a dynamic array of the
/// substrings between occurrences of `delimiter`: `split("aa_bb", "_")` is
/// `["aa","bb"]`, `split("", "_")` is `[""]`, `split("a__b", "_")` is
/// `["a","","b"]`. An empty delimiter gives `[source]` (the reference is
/// silent).
pub fn split(s: &Value, delimiter: &Value) -> Value {
    let text = to_text(s);
    let delimiter = to_text(delimiter);
    if delimiter.is_empty() {
        return string_array(std::iter::once(text.as_ref()));
    }
    string_array(text.split(delimiter.as_ref()))
}

/// `split(source, delimiter, requestedIndex)` (`split-function.md`): an array
/// holding only the substring at `requestedIndex` (`split("aaa_bbb_ccc", "_",
/// 1)` is `["bbb"]`), or an empty array when there is none (a negative index
/// included). An index that is not an integer gives null.
pub fn split_at(s: &Value, delimiter: &Value, index: &Value) -> Value {
    let Some(index) = int_arg(index) else {
        return Value::Null;
    };
    let Value::Array(parts) = split(s, delimiter) else {
        return Value::Null;
    };
    let picked = usize::try_from(index).ok().and_then(|i| parts.get(i));
    Value::Array(Arc::new(picked.cloned().into_iter().collect()))
}

/// `split(source, delimiter [, requestedIndex])` (`split-function.md`),
/// arguments as a slice: [`split`] with two arguments, [`split_at`] with
/// three (`split(Caller, "@", 1)`).
pub fn split_args(args: &[Value]) -> Value {
    match args {
        [s, d] => split(s, d),
        [s, d, i] => split_at(s, d, i),
        _ => Value::Null,
    }
}

/// `reverse(value)` (`reverse-function.md`): the characters (code points) of
/// the string form of `value` in reverse order
/// (`reverse("ABC")` is `CBA`, `reverse(123.45)` is `54.321`). A datetime
/// is taken in its full form with seven fraction digits, as in the
/// reference's example (`Z0000000.00:00:21T51-01-7102`). Null → `""`.
pub fn reverse(v: &Value) -> Value {
    Value::string(forced_text(v).chars().rev().collect::<String>())
}

/// Most repetitions `strrep` makes (`strrep-function.md`: "If multiplier is
/// more than the maximal allowed value of 1024, the input string will be
/// repeated 1024 times").
const STRREP_MAX_REPEATS: i64 = 1024;

/// `strrep(value, multiplier [, delimiter])` (`strrep-function.md`),
/// arguments as a slice: the string form of `value` repeated `multiplier`
/// times, joined by `delimiter` (default `""`): `strrep('ABC', 2)` is
/// `ABCABC`, `strrep(123, 3, '.')` is `123.123.123`.
///
/// A multiplier above 1024 repeats 1024 times, as the reference says; the
/// result is also cut to whole repetitions within
/// [`MAX_STRING_BYTES`] so that a long input cannot
/// exhaust memory. A multiplier below 1, null or not an integer gives `""`
/// (the reference is silent).
pub fn strrep(args: &[Value]) -> Value {
    let (Some(value), Some(count)) = (args.first(), args.get(1).and_then(integer_arg)) else {
        return Value::from_static("");
    };
    if count < 1 {
        return Value::from_static("");
    }
    let count = count.min(STRREP_MAX_REPEATS);
    let text = to_text(value);
    let delimiter = args.get(2).map(to_text).unwrap_or_default();
    let mut out = String::new();
    for i in 0..count {
        let extra = if i > 0 { delimiter.len() } else { 0 } + text.len();
        if out.len() + extra > MAX_STRING_BYTES {
            crate::budget::cap_hit(STRING_CAP);
            break;
        }
        if i > 0 {
            out.push_str(&delimiter);
        }
        out.push_str(&text);
    }
    Value::string(out)
}

/// `strcmp(string1, string2)` (`strcmp-function.md`): -1, 0 or 1 as an int,
/// comparing the strings character by character (ordinal, case-sensitive:
/// `strcmp("abc", "ABC")` is 1, `strcmp("abcde", "abc")` is 1). Nulls are
/// `""`.
pub fn strcmp(a: &Value, b: &Value) -> Value {
    let ordering = to_text(a).as_ref().cmp(to_text(b).as_ref());
    Value::Int(ordering as i32)
}

/// `string_size(source)` (`string-size-function.md`): the size in bytes of
/// the string's UTF-8 form, as a long (`string_size("⒦⒰⒮⒯⒪")` is 15).
pub fn string_size(v: &Value) -> Value {
    Value::Long(to_text(v).len() as i64)
}

/// `translate(searchList, replacementList, source)`
/// (`translate-function.md`): every character of `source` found in
/// `searchList` is replaced by the character at the same position in
/// `replacementList`, or by its last character when `replacementList` is
/// shorter, or removed when it is empty: `translate("abc", "x", "abc")` is
/// `xxx`, `translate("krasp", "otsku", "spark")` is `kusto`.
pub fn translate(search: &Value, replacement: &Value, source: &Value) -> Value {
    let search: Vec<char> = to_text(search).chars().collect();
    let replacement: Vec<char> = to_text(replacement).chars().collect();
    let out: String = to_text(source)
        .chars()
        .filter_map(|c| match search.iter().position(|&s| s == c) {
            None => Some(c),
            Some(i) => replacement.get(i).or_else(|| replacement.last()).copied(),
        })
        .collect();
    Value::string(out)
}

/// `countof(source, search [, kind])` (`countof-function.md`), arguments as
/// a slice: the number of matches of `search` in `source`, as a long. With
/// kind `normal` (the default) plain matches may overlap
/// (`countof("aaaa", "aa")` is 3); with kind `regex` regular-expression
/// matches don't (`countof("ababa", "aba", "regex")` is 1).
///
/// An empty `search` counts 0 (the reference is silent). Another kind, or
/// an invalid regular expression, gives null.
pub fn countof(args: &[Value]) -> Value {
    let source = args.first().map(to_text).unwrap_or_default();
    let search = args.get(1).map(to_text).unwrap_or_default();
    let kind = args.get(2).map(to_text);
    match kind.as_deref() {
        None | Some("normal") => {
            if search.is_empty() {
                return Value::Long(0);
            }
            let finder = memchr::memmem::Finder::new(search.as_bytes());
            let mut count = 0i64;
            let mut at = 0usize;
            let bytes = source.as_bytes();
            while let Some(i) = finder.find(&bytes[at..]) {
                count += 1;
                // Overlapping: continue one character after the match start.
                let start = at + i;
                let step = source[start..].chars().next().map_or(1, char::len_utf8);
                at = start + step;
                if at > bytes.len() {
                    break;
                }
            }
            Value::Long(count)
        }
        Some("regex") => match cached_regex(&search) {
            Some(re) => Value::Long(re.find_iter(&source).count() as i64),
            None => Value::Null,
        },
        Some(_) => Value::Null,
    }
}

/// `has_any_index(source, values)` (`has-any-index-function.md`): the
/// zero-based position of the first element of the array `values` that
/// `source` `has` (term match, case-insensitive, as the `has` operator), or
/// -1 when none is found or `values` is empty, as a long. Elements are taken
/// as their string form (`range(1, 3, 1)` looks for `1`, `2`, `3`). A
/// `values` that is not an array gives null (the reference is silent).
pub fn has_any_index(source: &Value, values: &Value) -> Value {
    let Value::Array(items) = values else {
        return Value::Null;
    };
    let found = items
        .iter()
        .position(|item| ops::is_true(&ops::has(source, item, false)));
    Value::Long(found.map_or(-1, |i| i as i64))
}

/// `replace_strings(text, lookups, rewrites)` (`replace-strings-function.md`):
/// the matches of the strings of the array `lookups` replaced by the strings
/// at the same positions of the array `rewrites`. Matches don't overlap, and
/// "the earlier match takes the precedence": the first lookup's matches are
/// taken first (left to right), then the second's where they overlap none
/// taken before, and so on, so `replace_strings("This is", ["is", "This"],
/// ["was", "This"])` is `Thwas was`. A lookup that is not a string (or is
/// empty) is ignored; a rewrite that is not a string (or is missing) keeps
/// the matched text, and the match still counts. A `lookups` that is not an
/// array gives `text` unchanged.
pub fn replace_strings(text: &Value, lookups: &Value, rewrites: &Value) -> Value {
    let text = to_text(text);
    let Value::Array(lookups) = lookups else {
        return Value::string(text.into_owned());
    };
    let rewrites: &[Value] = match rewrites {
        Value::Array(r) => r,
        _ => &[],
    };
    // Claimed byte ranges with their replacement, in no particular order.
    let mut claims: Vec<(usize, usize, Option<&str>)> = Vec::new();
    for (i, lookup) in lookups.iter().enumerate() {
        let Value::String(lookup) = lookup else {
            continue;
        };
        if lookup.is_empty() {
            continue;
        }
        let rewrite = rewrites.get(i).and_then(Value::as_str);
        let finder = memchr::memmem::Finder::new(lookup.as_bytes());
        let mut at = 0;
        while let Some(found) = finder.find(&text.as_bytes()[at..]) {
            let start = at + found;
            let end = start + lookup.len();
            if claims.iter().any(|&(s, e, _)| start < e && s < end) {
                at = start + text[start..].chars().next().map_or(1, char::len_utf8);
            } else {
                claims.push((start, end, rewrite));
                at = end;
            }
            if at >= text.len() {
                break;
            }
        }
    }
    claims.sort_by_key(|&(s, _, _)| s);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end, rewrite) in claims {
        out.push_str(&text[last..start]);
        out.push_str(rewrite.unwrap_or(&text[start..end]));
        last = end;
        if out.len() > MAX_STRING_BYTES {
            crate::budget::cap_hit(STRING_CAP);
            return Value::from_static("");
        }
    }
    out.push_str(&text[last..]);
    Value::string(out)
}

/// `unicode_codepoints_from_string(value)`
/// (`unicode-codepoints-from-string-function.md`; deprecated alias
/// `to_utf8`): the code points of a string as a dynamic array of longs
/// (`"⒦⒰⒮⒯⒪"` is `[9382,9392,9390,9391,9386]`). Null → `[]`.
pub fn unicode_codepoints_from_string(v: &Value) -> Value {
    Value::Array(Arc::new(
        to_text(v)
            .chars()
            .map(|c| Value::Long(i64::from(u32::from(c))))
            .collect(),
    ))
}

/// `unicode_codepoints_to_string(values)`
/// (`unicode-codepoints-to-string-function.md`; deprecated alias
/// `make_string`): the string of the code points in the array `values`
/// (nested arrays are flattened). An element that is not an integer or not a
/// valid code point, or a `values` that is not an array, gives `""`.
pub fn unicode_codepoints_to_string(v: &Value) -> Value {
    fn push(out: &mut String, v: &Value) -> bool {
        match v {
            Value::Array(items) => items.iter().all(|item| push(out, item)),
            other => match integer_arg(other)
                .and_then(|n| u32::try_from(n).ok())
                .and_then(char::from_u32)
            {
                Some(c) => {
                    out.push(c);
                    true
                }
                None => false,
            },
        }
    }
    let mut out = String::new();
    if matches!(v, Value::Array(_)) && push(&mut out, v) {
        Value::string(out)
    } else {
        Value::from_static("")
    }
}

/// `url_decode(encoded_url)` (`url-decode-function.md`): `%xx` escapes
/// decoded (`https%3a%2f%2fwww.bing.com%2f` → `https://www.bing.com/`), and
/// `+` read as a space, the inverse of [`url_encode`]. Malformed escapes are
/// kept as they are; bytes that do not form UTF-8 become U+FFFD (the
/// reference is silent on both).
pub fn url_decode(s: &Value) -> Value {
    let text = to_text(s);
    let plus_as_space = text.replace('+', " ");
    let decoded = percent_encoding::percent_decode_str(&plus_as_space).decode_utf8_lossy();
    Value::string(decoded.into_owned())
}

/// Percent-encodes `s` as .NET's `HttpUtility.UrlEncode` does, which the
/// reference's examples match: ASCII letters, digits and `-_.!*()` stay,
/// every other byte of the UTF-8 text becomes `%xx` with lowercase hex, and a
/// space becomes `space`.
fn url_encode_with(s: &str, space: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!*()".contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push_str(space);
        } else {
            let _ = write!(out, "%{b:02x}");
        }
    }
    out
}

/// `url_encode(url)` (`url-encode-function.md`): `https://www.bing.com/hello
/// world` → `https%3a%2f%2fwww.bing.com%2fhello+world`: spaces as `+`, other
/// reserved bytes as lowercase `%xx`, letters, digits and `-_.!*()` kept.
pub fn url_encode(s: &Value) -> Value {
    Value::string(url_encode_with(&to_text(s), "+"))
}

/// `url_encode_component(url)` (`url-encode-component-function.md`): as
/// [`url_encode`] but a space becomes `%20`
/// (`https%3a%2f%2fwww.bing.com%2fhello%20world`).
pub fn url_encode_component(s: &Value) -> Value {
    Value::string(url_encode_with(&to_text(s), "%20"))
}

/// `regex_quote(s)` (`regex-quote-function.md`): `s` with every character
/// that has a meaning in a regular expression escaped by a backslash, so the
/// result matches `s` literally (`(a$b.c)` gives `\(a\$b\.c\)`). The
/// reference does not list the characters; kqlc escapes RE2's
/// metacharacters `\ . + * ? ( ) | [ ] { } ^ $` and nothing else (.NET's
/// `Regex.Escape` also escapes `#` and white space, which RE2 would refuse
/// as `\ `). A null is `""`.
pub fn regex_quote(s: &Value) -> Value {
    let text = to_text(s);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    Value::string(out)
}

/// `isascii(s)` (`isascii-function.md`): true when every character of the
/// `tostring` of `s` is ASCII (code points 0 to 127); the empty string
/// (and so a null) is ASCII.
pub fn isascii(s: &Value) -> Value {
    Value::Bool(to_text(s).is_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_json_text;
    use crate::text::to_string;
    use crate::value::{ticks, TimeSpan};

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    fn l(n: i64) -> Value {
        Value::Long(n)
    }

    #[test]
    fn strcat_converts_arguments_to_strings() {
        assert_eq!(strcat(&[s("hello"), s(" "), s("world")]), s("hello world"));
        assert_eq!(
            strcat(&[s("a"), Value::Null, l(1), Value::Bool(true)]),
            s("a1true")
        );
        assert_eq!(strcat(&[]), s(""));
    }

    #[test]
    fn strcat_delim_joins_with_first_argument() {
        let args = [
            s("-"),
            l(1),
            s("2"),
            s("A"),
            Value::TimeSpan(TimeSpan(ticks::PER_SECOND)),
        ];
        assert_eq!(strcat_delim(&args), s("1-2-A-00:00:01"));
        assert_eq!(strcat_delim(&[s(",")]), s(""));
        assert_eq!(strcat_delim(&[]), s(""));
    }

    #[test]
    fn strcat_array_joins_elements() {
        let arr = parse_json_text("[1, 2, 3]").unwrap_or_default();
        assert_eq!(strcat_array(&arr, &s("->")), s("1->2->3"));
        assert_eq!(strcat_array(&arr, &s("\"")), s("1\"2\"3"));
        let mixed = parse_json_text(r#"["a", null, [1]]"#).unwrap_or_default();
        assert_eq!(strcat_array(&mixed, &s(",")), s("a,,[1]"));
        assert_eq!(strcat_array(&Value::Null, &s(",")), s(""));
        assert_eq!(strcat_array(&s("abc"), &s(",")), s(""));
    }

    #[test]
    fn strlen_counts_code_points() {
        assert_eq!(strlen(&s("hello")), l(5));
        assert_eq!(strlen(&s("⒦⒰⒮⒯⒪")), l(5));
        assert_eq!(strlen(&s("C\u{327}edilla")), l(8));
        assert_eq!(strlen(&Value::Null), l(0));
    }

    #[test]
    fn case_conversion_is_unicode() {
        assert_eq!(tolower(&s("ABC Été")), s("abc été"));
        assert_eq!(toupper(&s("abc été")), s("ABC ÉTÉ"));
        assert_eq!(tolower(&Value::Null), s(""));
    }

    #[test]
    fn substring_follows_reference_examples() {
        assert_eq!(substring(&[s("123456"), l(1)]), s("23456"));
        assert_eq!(substring(&[s("123456"), l(2), l(2)]), s("34"));
        assert_eq!(substring(&[s("ABCD"), l(0), l(2)]), s("AB"));
        assert_eq!(substring(&[s("123456"), l(-2), l(2)]), s("56"));
    }

    #[test]
    fn substring_edge_cases() {
        assert_eq!(substring(&[s("abc"), l(5)]), s(""));
        assert_eq!(substring(&[s("abc"), l(-10)]), s("abc"));
        assert_eq!(substring(&[s("abc"), l(1), l(100)]), s("bc"));
        assert_eq!(substring(&[s("abc"), l(1), l(-1)]), s(""));
        assert_eq!(substring(&[s("abc"), Value::Null]), s(""));
        assert_eq!(substring(&[s("abc"), l(0), Value::Null]), s(""));
        assert_eq!(substring(&[s("abc")]), s(""));
        assert_eq!(substring(&[]), s(""));
        assert_eq!(substring(&[s("héllo"), l(1), l(3)]), s("éll"));
        assert_eq!(substring(&[s("abc"), l(i64::MAX), l(i64::MAX)]), s(""));
        assert_eq!(substring(&[s("abc"), l(i64::MIN)]), s("abc"));
        assert_eq!(substring(&[s("abc"), l(1), l(i64::MAX)]), s("bc"));
    }

    #[test]
    fn indexof_follows_reference_examples() {
        let abc = s("abcdefg");
        let twice = s("abcdefgabcdefg");
        let cde = s("cde");
        assert_eq!(indexof(&abc, &cde), l(2));
        assert_eq!(indexof_range(&[abc.clone(), cde.clone(), l(1), l(4)]), l(2));
        assert_eq!(
            indexof_range(&[abc.clone(), cde.clone(), l(1), l(2)]),
            l(-1)
        );
        assert_eq!(
            indexof_range(&[abc.clone(), cde.clone(), l(3), l(4)]),
            l(-1)
        );
        assert_eq!(indexof_range(&[abc.clone(), cde.clone(), l(-5)]), l(2));
        assert_eq!(indexof_range(&[l(1234567), l(5), l(1), l(4)]), l(4));
        assert_eq!(
            indexof_range(&[abc.clone(), cde.clone(), l(2), l(-1)]),
            l(2)
        );
        assert_eq!(
            indexof_range(&[twice.clone(), cde.clone(), l(1), l(10), l(2)]),
            l(9)
        );
        assert_eq!(indexof_range(&[twice, cde, l(1), l(-1), l(3)]), l(-1));
    }

    #[test]
    fn indexof_edge_cases() {
        let abc = s("abcdefg");
        assert_eq!(indexof(&abc, &s("xyz")), l(-1));
        assert_eq!(indexof(&abc, &s("")), l(0));
        assert_eq!(indexof(&Value::Null, &s("")), l(0));
        assert_eq!(indexof(&Value::Null, &s("a")), l(-1));
        assert_eq!(indexof(&s("héllo"), &s("llo")), l(2));
        assert_eq!(indexof_range(&[abc.clone(), s("a"), l(-8)]), Value::Null);
        assert_eq!(indexof_range(&[abc.clone(), s("a"), l(8)]), l(-1));
        assert_eq!(
            indexof_range(&[abc.clone(), s("a"), l(0), l(-2)]),
            Value::Null
        );
        assert_eq!(
            indexof_range(&[abc.clone(), s("a"), l(0), l(-1), l(0)]),
            Value::Null
        );
        assert_eq!(
            indexof_range(&[abc.clone(), s("a"), Value::Null]),
            Value::Null
        );
        assert_eq!(indexof_range(&[abc, s("g"), l(0), l(i64::MAX)]), l(6));
    }

    #[test]
    fn replace_string_replaces_every_match() {
        assert_eq!(
            replace_string(&s("Number is 1"), &s("is"), &s("was")),
            s("Number was 1")
        );
        assert_eq!(replace_string(&s("aaa"), &s("aa"), &s("b")), s("ba"));
        assert_eq!(replace_string(&s("abc"), &s(""), &s("x")), s("abc"));
        assert_eq!(replace_string(&Value::Null, &s("a"), &s("b")), s(""));
    }

    #[test]
    fn split_follows_reference_examples() {
        let text = |v: &Value| to_string(v);
        assert_eq!(text(&split(&s("aa_bb"), &s("_"))), r#"["aa","bb"]"#);
        assert_eq!(
            text(&split_at(&s("aaa_bbb_ccc"), &s("_"), &l(1))),
            r#"["bbb"]"#
        );
        assert_eq!(text(&split(&s(""), &s("_"))), r#"[""]"#);
        assert_eq!(text(&split(&s("a__b"), &s("_"))), r#"["a","","b"]"#);
        assert_eq!(text(&split(&s("aabbcc"), &s("bb"))), r#"["aa","cc"]"#);
    }

    #[test]
    fn split_edge_cases() {
        let text = |v: &Value| to_string(v);
        assert_eq!(text(&split(&s("abc"), &s(""))), r#"["abc"]"#);
        assert_eq!(text(&split_at(&s("a_b"), &s("_"), &l(5))), "[]");
        assert_eq!(text(&split_at(&s("a_b"), &s("_"), &l(-1))), "[]");
        assert_eq!(split_at(&s("a_b"), &s("_"), &Value::Null), Value::Null);
        assert_eq!(text(&split(&Value::Null, &s(","))), r#"[""]"#);
    }

    #[test]
    fn split_args_dispatches_on_arity() {
        let text = |v: &Value| to_string(v);
        assert_eq!(text(&split_args(&[s("a@b"), s("@"), l(1)])), r#"["b"]"#);
        assert_eq!(text(&split_args(&[s("a@b"), s("@")])), r#"["a","b"]"#);
        assert_eq!(split_args(&[s("a")]), Value::Null);
    }

    #[test]
    fn reverse_follows_reference_examples() {
        assert_eq!(
            reverse(&s("ABCDEFGHIJKLMNOPQRSTUVWXYZ")),
            s("ZYXWVUTSRQPONMLKJIHGFEDCBA")
        );
        assert_eq!(reverse(&l(12345)), s("54321"));
        assert_eq!(reverse(&Value::Real(123.45)), s("54.321"));
        assert_eq!(
            reverse(&Value::TimeSpan(TimeSpan(3 * ticks::PER_HOUR))),
            s("00:00:30")
        );
        let d =
            crate::text::parse_datetime("2017-10-15 12:00").unwrap_or(crate::value::DateTime(0));
        assert_eq!(
            reverse(&Value::DateTime(d)),
            s("Z0000000.00:00:21T51-01-7102")
        );
        assert_eq!(reverse(&Value::Null), s(""));
        assert_eq!(reverse(&s("héllo")), s("olléh"));
    }

    #[test]
    fn strrep_follows_reference_examples_and_caps() {
        assert_eq!(strrep(&[s("ABC"), l(2)]), s("ABCABC"));
        assert_eq!(strrep(&[l(123), l(3), s(".")]), s("123.123.123"));
        assert_eq!(
            strrep(&[
                Value::TimeSpan(TimeSpan(3 * ticks::PER_SECOND)),
                l(2),
                s(" ")
            ]),
            s("00:00:03 00:00:03")
        );
        assert_eq!(strrep(&[s("a"), l(0)]), s(""));
        assert_eq!(strrep(&[s("a"), Value::Null]), s(""));
        let Value::String(many) = strrep(&[s("ab"), l(i64::MAX)]) else {
            panic!("not a string")
        };
        assert_eq!(many.len(), 2048);
        let big = Value::string("x".repeat(1 << 20));
        let Value::String(capped) = strrep(&[big, l(1000)]) else {
            panic!("not a string")
        };
        assert!(capped.len() <= MAX_STRING_BYTES);
    }

    #[test]
    fn strcmp_follows_reference_examples() {
        assert_eq!(strcmp(&s("ABC"), &s("ABC")), Value::Int(0));
        assert_eq!(strcmp(&s("abc"), &s("ABC")), Value::Int(1));
        assert_eq!(strcmp(&s("ABC"), &s("abc")), Value::Int(-1));
        assert_eq!(strcmp(&s("abcde"), &s("abc")), Value::Int(1));
        assert_eq!(strcmp(&Value::Null, &s("")), Value::Int(0));
    }

    #[test]
    fn string_size_counts_utf8_bytes() {
        assert_eq!(string_size(&s("hello")), l(5));
        assert_eq!(string_size(&s("⒦⒰⒮⒯⒪")), l(15));
        assert_eq!(string_size(&Value::Null), l(0));
    }

    #[test]
    fn translate_follows_reference_examples() {
        assert_eq!(translate(&s("abc"), &s("x"), &s("abc")), s("xxx"));
        assert_eq!(translate(&s("abc"), &s(""), &s("ab")), s(""));
        assert_eq!(translate(&s("krasp"), &s("otsku"), &s("spark")), s("kusto"));
        assert_eq!(translate(&s("a"), &s("b"), &Value::Null), s(""));
    }

    #[test]
    fn countof_follows_reference_examples() {
        assert_eq!(countof(&[s("aaa"), s("a")]), l(3));
        assert_eq!(countof(&[s("aaaa"), s("aa")]), l(3));
        assert_eq!(countof(&[s("ababa"), s("ab"), s("normal")]), l(2));
        assert_eq!(countof(&[s("ababa"), s("aba")]), l(2));
        assert_eq!(countof(&[s("ababa"), s("aba"), s("regex")]), l(1));
        assert_eq!(countof(&[s("abcabc"), s("a.c"), s("regex")]), l(2));
        assert_eq!(countof(&[s("abc"), s("")]), l(0));
        assert_eq!(countof(&[s("ééé"), s("éé")]), l(2));
        assert_eq!(countof(&[s("abc"), s("("), s("regex")]), Value::Null);
        assert_eq!(countof(&[s("abc"), s("a"), s("other")]), Value::Null);
    }

    #[test]
    fn has_any_index_uses_term_matching() {
        let arr = |t: &str| parse_json_text(t).unwrap_or_default();
        let text = s("this is an example");
        assert_eq!(has_any_index(&text, &arr(r#"["this","example"]"#)), l(0));
        assert_eq!(has_any_index(&text, &arr(r#"["not","example"]"#)), l(1));
        assert_eq!(has_any_index(&text, &arr(r#"["not","found"]"#)), l(-1));
        assert_eq!(has_any_index(&s("Example number 2"), &arr("[1,2,3]")), l(1));
        assert_eq!(has_any_index(&text, &arr("[]")), l(-1));
        assert_eq!(has_any_index(&text, &arr(r#"["exam"]"#)), l(-1));
        assert_eq!(has_any_index(&text, &Value::Null), Value::Null);
    }

    #[test]
    fn replace_strings_follows_reference_examples() {
        let arr = |t: &str| parse_json_text(t).unwrap_or_default();
        let msg = s("A magic trick can turn a cat into a dog");
        assert_eq!(
            replace_strings(&msg, &arr(r#"["cat","dog"]"#), &arr(r#"["dog","pigeon"]"#)),
            s("A magic trick can turn a dog into a pigeon")
        );
        let msg = s("This is an example of using replace_strings()");
        assert_eq!(
            replace_strings(&msg, &arr(r#"["is","This"]"#), &arr(r#"["was","This"]"#)),
            s("Thwas was an example of using replace_strings()")
        );
        assert_eq!(
            replace_strings(&msg, &arr(r#"["This","is"]"#), &arr(r#"[12345,"was"]"#)),
            s("This was an example of using replace_strings()")
        );
        assert_eq!(
            replace_strings(&s("abc"), &Value::Null, &Value::Null),
            s("abc")
        );
    }

    #[test]
    fn unicode_codepoints_round_trip() {
        let v = unicode_codepoints_from_string(&s("⒦⒰⒮⒯⒪"));
        assert_eq!(to_string(&v), "[9382,9392,9390,9391,9386]");
        assert_eq!(unicode_codepoints_to_string(&v), s("⒦⒰⒮⒯⒪"));
        let bad = parse_json_text("[1114112]").unwrap_or_default();
        assert_eq!(unicode_codepoints_to_string(&bad), s(""));
        assert_eq!(unicode_codepoints_to_string(&Value::Null), s(""));
        assert_eq!(
            to_string(&unicode_codepoints_from_string(&Value::Null)),
            "[]"
        );
    }

    #[test]
    fn url_functions_follow_reference_examples() {
        assert_eq!(
            url_decode(&s("https%3a%2f%2fwww.bing.com%2f")),
            s("https://www.bing.com/")
        );
        assert_eq!(
            url_encode(&s("https://www.bing.com/hello world")),
            s("https%3a%2f%2fwww.bing.com%2fhello+world")
        );
        assert_eq!(
            url_encode_component(&s("https://www.bing.com/hello world/")),
            s("https%3a%2f%2fwww.bing.com%2fhello%20world%2f")
        );
    }

    #[test]
    fn url_round_trips_and_edge_cases() {
        let text = s("a b+c/é?x=1&y=%");
        assert_eq!(url_decode(&url_encode(&text)), text);
        assert_eq!(url_decode(&url_encode_component(&text)), text);
        assert_eq!(url_decode(&s("100%zz")), s("100%zz"));
        assert_eq!(url_decode(&s("%ff")), s("\u{fffd}"));
        assert_eq!(url_decode(&s("a+b%2B")), s("a b+"));
        assert_eq!(url_encode(&Value::Null), s(""));
    }
}
