//! Regular-expression functions: `extract`, `extract_all`, `replace_regex`
//! (and its deprecated form `replace`), `trim`, `trim_start`, `trim_end`,
//! `indexof_regex`, and the compiled pattern cache shared with the
//! `matches regex` operator.
//!
//! KQL regular expressions use RE2 syntax (`regex.md`); the `regex` crate
//! implements the same syntax and guarantees linear-time matching.
//!
//! Patterns are usually constants, which the compiler checks before run
//! time; a pattern computed at run time that does not compile gives null.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use ::regex::Regex;

use super::{integer_arg, MAX_STRING_BYTES, STRING_CAP};
use crate::text::to_text;
use crate::value::Value;

/// Most patterns kept per thread; the cache is emptied when it is full
/// (queries use a handful of constant patterns, so this only bounds
/// pathological run-time patterns).
const CACHE_LIMIT: usize = 256;

thread_local! {
    /// Compiled patterns (or `None` for patterns that do not compile), by
    /// pattern text.
    static REGEX_CACHE: RefCell<HashMap<String, Option<Arc<Regex>>>> = RefCell::new(HashMap::new());
}

/// The compiled form of `pattern`, from a per-thread cache; `None` when the
/// pattern is not a valid regular expression.
///
/// The cache hands out the same `Regex` behind an `Arc`, never a clone of
/// it: a cloned `Regex` starts with an empty pool of match caches, so every
/// search on a fresh clone allocates its scratch space again (about 130,000
/// instructions per `extract` call, measured with callgrind, against a few
/// thousand when the cache is reused).
pub fn cached_regex(pattern: &str) -> Option<Arc<Regex>> {
    REGEX_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(compiled) = cache.get(pattern) {
            return compiled.clone();
        }
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        let compiled = Regex::new(pattern).ok().map(Arc::new);
        cache.insert(pattern.to_owned(), compiled.clone());
        compiled
    })
}

/// A constant pattern of a rule, compiled once for the whole run: generated
/// code keeps one in a `static` per call site (`static RE: ConstRegex =
/// ConstRegex::new("...")`) and calls the `_with` form of a function
/// (`extract_with`), instead of looking the pattern up in the per-thread
/// cache for every row. All threads share the one `Regex` (and its pool of
/// match caches).
#[derive(Debug)]
pub struct ConstRegex {
    /// The pattern.
    pattern: &'static str,
    /// Its compiled form (`None`: not a valid pattern), made on first use.
    compiled: std::sync::OnceLock<Option<Regex>>,
}

impl ConstRegex {
    /// The pattern, compiled on first use.
    pub const fn new(pattern: &'static str) -> ConstRegex {
        ConstRegex {
            pattern,
            compiled: std::sync::OnceLock::new(),
        }
    }

    /// The compiled pattern; `None` when it is not valid (constant patterns
    /// are checked by the compiler, so this does not happen in a rule).
    pub fn get(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| Regex::new(self.pattern).ok())
            .as_ref()
    }
}

fn array(items: Vec<Value>) -> Value {
    Value::Array(Arc::new(items))
}

/// `extract(regex, captureGroup, source)` (`extract-function.md`): the text
/// matched by capture group `captureGroup` (0 = the whole match) in the first
/// match of `regex` in `source` (its `tostring`).
///
/// The reference says "no match → null"; the result type is `string`, which
/// has no null in KQL, so no match gives `""`. So does a group number that is
/// not an integer, is negative or beyond the pattern's groups, and a group
/// that did not take part in the match. An invalid pattern gives null. The
/// optional 4th argument (`typeof(T)`) is the compiler's business: it
/// converts the string (`toint("")` is null, as the reference wants).
pub fn extract(regex: &Value, group: &Value, text: &Value) -> Value {
    extract_compiled(cached_regex(&to_text(regex)).as_deref(), group, text)
}

/// [`extract`] with a constant pattern.
pub fn extract_with(regex: &ConstRegex, group: &Value, text: &Value) -> Value {
    extract_compiled(regex.get(), group, text)
}

fn extract_compiled(re: Option<&Regex>, group: &Value, text: &Value) -> Value {
    let Some(re) = re else {
        return Value::Null;
    };
    let group = match group {
        Value::Int(n) => i64::from(*n),
        Value::Long(n) => *n,
        _ => return Value::from_static(""),
    };
    let Ok(group) = usize::try_from(group) else {
        return Value::from_static("");
    };
    let text = to_text(text);
    let found = if group == 0 {
        re.find(&text).map(|m| m.as_str())
    } else {
        re.captures(&text)
            .and_then(|c| c.get(group))
            .map(|m| m.as_str())
    };
    Value::string(found.unwrap_or(""))
}

/// Collects, for each match of `re` in `text`, the texts of `groups`
/// (a group that did not take part gives `""`); one group gives a flat
/// array, several an array of arrays; no match gives null.
fn collect_groups(re: &Regex, groups: &[usize], text: &str) -> Value {
    let mut matches = Vec::new();
    for caps in re.captures_iter(text) {
        let texts = groups
            .iter()
            .map(|&g| Value::string(caps.get(g).map_or("", |m| m.as_str())));
        if groups.len() == 1 {
            matches.extend(texts);
        } else {
            matches.push(array(texts.collect()));
        }
    }
    if matches.is_empty() {
        Value::Null
    } else {
        array(matches)
    }
}

/// `extract_all(regex, source)` (`extract-all-function.md`): all matches of
/// `regex` in `source` (its `tostring`). With one capture group, an array of
/// that group's texts (`extract_all(@"(\d+)", "a 123, 567")` is
/// `["123","567"]`); with several, an array with one array of all group
/// texts per match. No match → null.
///
/// The reference requires 1 to 16 capture groups; a pattern without capture
/// groups, like an invalid pattern, gives null here (the compiler rejects
/// both for constant patterns). A group that did not take part in a match
/// gives `""`.
pub fn extract_all(regex: &Value, text: &Value) -> Value {
    extract_all_compiled(cached_regex(&to_text(regex)).as_deref(), text)
}

/// [`extract_all`] with a constant pattern.
pub fn extract_all_with(regex: &ConstRegex, text: &Value) -> Value {
    extract_all_compiled(regex.get(), text)
}

fn extract_all_compiled(re: Option<&Regex>, text: &Value) -> Value {
    let Some(re) = re else {
        return Value::Null;
    };
    let group_count = re.captures_len() - 1;
    if group_count == 0 {
        return Value::Null;
    }
    let groups: Vec<usize> = (1..=group_count).collect();
    collect_groups(re, &groups, &to_text(text))
}

/// `extract_all(regex, captureGroups, source)`, the 3-argument form
/// (`extract-all-function.md`): as [`extract_all`], keeping only the groups
/// listed in the `dynamic` array `captureGroups`, by number (1-based) or by
/// name (`(?P<name>…)`), in the listed order. One listed group gives a flat
/// array, several an array of arrays.
///
/// `captureGroups` that is not a non-empty array, or lists a group the
/// pattern does not have, gives null (the reference is silent), as does an
/// invalid pattern.
pub fn extract_all_groups(regex: &Value, capture_groups: &Value, text: &Value) -> Value {
    let Some(re) = cached_regex(&to_text(regex)) else {
        return Value::Null;
    };
    let Value::Array(wanted) = capture_groups else {
        return Value::Null;
    };
    let group_count = re.captures_len() - 1;
    let mut groups = Vec::with_capacity(wanted.len());
    for g in wanted.iter() {
        let index = match g {
            Value::Int(n) => usize::try_from(*n).ok(),
            Value::Long(n) => usize::try_from(*n).ok(),
            Value::String(name) => re.capture_names().position(|n| n == Some(name.as_str())),
            _ => None,
        };
        match index {
            Some(i) if (1..=group_count).contains(&i) => groups.push(i),
            _ => return Value::Null,
        }
    }
    if groups.is_empty() {
        return Value::Null;
    }
    collect_groups(&re, &groups, &to_text(text))
}

/// `extract_all(regex, [captureGroups,] source)` (`extract-all-function.md`),
/// arguments as a slice: [`extract_all`] with two arguments,
/// [`extract_all_groups`] with three.
pub fn extract_all_args(args: &[Value]) -> Value {
    match args {
        [re, text] => extract_all(re, text),
        [re, groups, text] => extract_all_groups(re, groups, text),
        _ => Value::Null,
    }
}

/// Appends the rewrite of one match: `\0`…`\9` stand for capture groups
/// (a group that did not take part adds nothing), `\\` for a backslash;
/// any other character, a lone backslash included, is copied.
fn push_rewrite(out: &mut String, rewrite: &str, caps: &::regex::Captures<'_>) {
    let mut chars = rewrite.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some(d) if d.is_ascii_digit() => {
                chars.next();
                let group = (d as u8 - b'0') as usize;
                out.push_str(caps.get(group).map_or("", |m| m.as_str()));
            }
            Some('\\') => {
                chars.next();
                out.push('\\');
            }
            _ => out.push('\\'),
        }
    }
}

/// `replace_regex(text, regex, rewrite)` (`replace-regex-function.md`):
/// every non-overlapping match of `regex` in `text` replaced by `rewrite`,
/// in which `\0` is the whole match and `\1`, `\2`, ... the capture groups
/// (`replace_regex("Number is 1", @"is (\d+)", @"was: \1")` is
/// `Number was: 1`).
///
/// An invalid pattern gives `""` (a string has no null; constant patterns
/// are checked by the compiler). A result beyond
/// [`MAX_STRING_BYTES`] also gives `""`, so that a
/// rewrite repeated at every position cannot exhaust memory.
pub fn replace_regex(text: &Value, regex: &Value, rewrite: &Value) -> Value {
    replace_regex_compiled(text, cached_regex(&to_text(regex)).as_deref(), rewrite)
}

/// [`replace_regex`] with a constant pattern.
pub fn replace_regex_with(text: &Value, regex: &ConstRegex, rewrite: &Value) -> Value {
    replace_regex_compiled(text, regex.get(), rewrite)
}

fn replace_regex_compiled(text: &Value, re: Option<&Regex>, rewrite: &Value) -> Value {
    let Some(re) = re else {
        return Value::from_static("");
    };
    let text = to_text(text);
    let rewrite = to_text(rewrite);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in re.captures_iter(&text) {
        let Some(m) = caps.get(0) else {
            continue;
        };
        out.push_str(&text[last..m.start()]);
        push_rewrite(&mut out, &rewrite, &caps);
        last = m.end();
        if out.len() > MAX_STRING_BYTES {
            crate::budget::cap_hit(STRING_CAP);
            return Value::from_static("");
        }
    }
    out.push_str(&text[last..]);
    Value::string(out)
}

/// `replace(regex, rewrite, text)`: the deprecated form of
/// [`replace_regex`] with the text last (`replacefunction.md`).
pub fn replace(regex: &Value, rewrite: &Value, text: &Value) -> Value {
    replace_regex(text, regex, rewrite)
}

/// The compiled form of `(?:regex)+` anchored at the start (`^`) or the end
/// (`$`) of the text.
fn anchored_repeat(regex: &Value, at_start: bool) -> Option<Arc<Regex>> {
    let regex = to_text(regex);
    // Checks the pattern alone first, so that a pattern that only compiles
    // because of the wrapping (`a)(b`) is refused.
    cached_regex(&regex)?;
    let pattern = if at_start {
        format!("^(?:{regex})+")
    } else {
        format!("(?:{regex})+$")
    };
    cached_regex(&pattern)
}

fn trim_with(regex: &Value, source: &Value, start: bool, end: bool) -> Value {
    let text = to_text(source);
    let mut from = 0;
    let mut to = text.len();
    if start {
        let Some(re) = anchored_repeat(regex, true) else {
            return Value::from_static("");
        };
        if let Some(m) = re.find(&text) {
            from = m.end();
        }
    }
    if end {
        let Some(re) = anchored_repeat(regex, false) else {
            return Value::from_static("");
        };
        if let Some(m) = re.find(&text[from..]) {
            to = from + m.start();
        }
    }
    Value::string(&text[from..to])
}

/// `trim(regex, source)` (`trim-function.md`): `source` without the matches
/// of `regex` repeated at its start and at its end
/// (`trim("--", "--https://bing.com--")` is `https://bing.com`,
/// `trim(@"[^\w]+", "-  Te st1// $")` is `Te st1`). An invalid pattern
/// gives `""`.
pub fn trim(regex: &Value, source: &Value) -> Value {
    trim_with(regex, source, true, true)
}

/// `trim_start(regex, source)` (`trim-start-function.md`): as [`trim`], at
/// the start only (`trim_start(@"[^\w]+", "-  Te st1// $")` is
/// `Te st1// $`).
pub fn trim_start(regex: &Value, source: &Value) -> Value {
    trim_with(regex, source, true, false)
}

/// `trim_end(regex, source)` (`trim-end-function.md`): as [`trim`], at the
/// end only.
pub fn trim_end(regex: &Value, source: &Value) -> Value {
    trim_with(regex, source, false, true)
}

/// `indexof_regex(string, match [, start [, length [, occurrence]]])`
/// (`indexof-regex-function.md`), arguments as a slice: the position (in
/// code points) of the `occurrence`-th non-overlapping match of the regular
/// expression `match` among the `length` characters from `start`, as a long;
/// -1 when there is none (`indexof_regex("abcabcdefg", @"a.c", 0, 9, 2)` is
/// 3). Null when `start` < 0 (unlike `indexof`, a negative start is an
/// error here), `length` < -1, `occurrence` < 1, an optional argument is
/// null, or the pattern is invalid.
pub fn indexof_regex(args: &[Value]) -> Value {
    let text = args.first().map(to_text).unwrap_or_default();
    let Some(re) = args.get(1).and_then(|p| cached_regex(&to_text(p))) else {
        return Value::Null;
    };
    let optional = |i: usize, default: i64| match args.get(i) {
        None => Some(default),
        Some(v) => integer_arg(v),
    };
    let (Some(start), Some(length), Some(occurrence)) =
        (optional(2, 0), optional(3, -1), optional(4, 1))
    else {
        return Value::Null;
    };
    if start < 0 || length < -1 || occurrence < 1 {
        return Value::Null;
    }
    let offsets: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let char_count = offsets.len() as i64 - 1;
    if start > char_count {
        return Value::Long(-1);
    }
    let end = if length == -1 {
        char_count
    } else {
        start.saturating_add(length).min(char_count)
    };
    let (from, to) = (offsets[start as usize], offsets[end as usize]);
    let window = &text[from..to];
    let found = re
        .find_iter(window)
        .nth(usize::try_from(occurrence - 1).unwrap_or(usize::MAX));
    match found {
        Some(m) => {
            let byte = from + m.start();
            let position = offsets.partition_point(|&o| o < byte);
            Value::Long(position as i64)
        }
        None => Value::Long(-1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_json_text;
    use crate::text::to_string;

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    const GUID: &str = "82b8be2d-dfa7-4bd1-8f63-24ad26d31449";

    #[test]
    fn extract_takes_a_group_of_the_first_match() {
        assert_eq!(
            extract(&s(r"-(\d{2})-"), &Value::Long(1), &s("15-12-2024")),
            s("12")
        );
        assert_eq!(
            extract(
                &s("User: ([^,]+)"),
                &Value::Long(1),
                &s("User: JohnDoe, Email: x")
            ),
            s("JohnDoe")
        );
        assert_eq!(extract(&s(r"\d+"), &Value::Int(0), &s("ab 42 7")), s("42"));
    }

    #[test]
    fn extract_without_match_gives_empty_string() {
        assert_eq!(extract(&s(r"(\d+)"), &Value::Long(1), &s("none")), s(""));
        assert_eq!(extract(&s(r"(\d+)"), &Value::Long(2), &s("12")), s(""));
        assert_eq!(extract(&s(r"(\d+)"), &Value::Long(-1), &s("12")), s(""));
        assert_eq!(extract(&s(r"(\d+)"), &Value::Null, &s("12")), s(""));
        assert_eq!(extract(&s(r"(a)|(b)"), &Value::Long(1), &s("b")), s(""));
        assert_eq!(extract(&s(r"(\d+)"), &Value::Long(1), &Value::Null), s(""));
    }

    #[test]
    fn extract_with_invalid_pattern_gives_null() {
        assert_eq!(extract(&s("("), &Value::Long(1), &s("x")), Value::Null);
    }

    #[test]
    fn extract_all_with_one_group_is_flat() {
        let v = extract_all(&s(r"(\d+)"), &s("a set of numbers: 123, 567 and 789"));
        assert_eq!(to_string(&v), r#"["123","567","789"]"#);
        let v = extract_all(&s(r"([\da-f]{2})"), &s(GUID));
        assert_eq!(
            to_string(&v),
            r#"["82","b8","be","2d","df","a7","4b","d1","8f","63","24","ad","26","d3","14","49"]"#
        );
    }

    #[test]
    fn extract_all_with_several_groups_nests() {
        let v = extract_all(&s(r"(\w)(\w+)(\w)"), &s(GUID));
        assert_eq!(
            to_string(&v),
            r#"[["8","2b8be2","d"],["d","fa","7"],["4","bd","1"],["8","f6","3"],["2","4ad26d3144","9"]]"#
        );
    }

    #[test]
    fn extract_all_edge_cases() {
        assert_eq!(extract_all(&s(r"(\d+)"), &s("none")), Value::Null);
        assert_eq!(extract_all(&s(r"\d+"), &s("12")), Value::Null);
        assert_eq!(extract_all(&s("("), &s("12")), Value::Null);
        assert_eq!(
            to_string(&extract_all(&s("(a)|(b)"), &s("b"))),
            r#"[["","b"]]"#
        );
    }

    #[test]
    fn extract_all_groups_selects_by_number_and_name() {
        let groups = parse_json_text("[1,3]").unwrap_or_default();
        let v = extract_all_groups(&s(r"(\w)(\w+)(\w)"), &groups, &s(GUID));
        assert_eq!(
            to_string(&v),
            r#"[["8","d"],["d","7"],["4","1"],["8","3"],["2","9"]]"#
        );
        let groups = parse_json_text(r#"["first",2,"last"]"#).unwrap_or_default();
        let v = extract_all_groups(
            &s(r"(?P<first>\w)(?P<middle>\w+)(?P<last>\w)"),
            &groups,
            &s(GUID),
        );
        assert_eq!(
            to_string(&v),
            r#"[["8","2b8be2","d"],["d","fa","7"],["4","bd","1"],["8","f6","3"],["2","4ad26d3144","9"]]"#
        );
        let one = parse_json_text("[2]").unwrap_or_default();
        let v = extract_all_groups(&s(r"(\w)(\w+)(\w)"), &one, &s("abcd"));
        assert_eq!(to_string(&v), r#"["bc"]"#);
    }

    #[test]
    fn extract_all_groups_rejects_unknown_groups() {
        let re = s(r"(\w)(\w)");
        for groups in ["[0]", "[3]", r#"["nope"]"#, "[]", "[true]"] {
            let g = parse_json_text(groups).unwrap_or_default();
            assert_eq!(
                extract_all_groups(&re, &g, &s("ab")),
                Value::Null,
                "{groups}"
            );
        }
        assert_eq!(
            extract_all_groups(&re, &Value::Long(1), &s("ab")),
            Value::Null
        );
    }

    #[test]
    fn constant_patterns_give_what_the_cached_forms_give() {
        static DIGITS: ConstRegex = ConstRegex::new("([0-9]+)");
        static VOWEL: ConstRegex = ConstRegex::new("[aeiou]");
        static INVALID: ConstRegex = ConstRegex::new("(");
        let texts = [
            s("a 123, 567"),
            s(""),
            Value::Null,
            Value::Long(42),
            s("none"),
        ];
        for text in &texts {
            for group in [Value::Long(0), Value::Long(1), Value::Long(2), Value::Null] {
                assert_eq!(
                    extract_with(&DIGITS, &group, text),
                    extract(&s("([0-9]+)"), &group, text)
                );
            }
            assert_eq!(
                extract_all_with(&DIGITS, text),
                extract_all(&s("([0-9]+)"), text)
            );
            assert_eq!(
                replace_regex_with(text, &VOWEL, &s("<\\0>")),
                replace_regex(text, &s("[aeiou]"), &s("<\\0>"))
            );
            assert_eq!(extract_with(&INVALID, &Value::Long(0), text), Value::Null);
            assert_eq!(extract_all_with(&INVALID, text), Value::Null);
            assert_eq!(replace_regex_with(text, &INVALID, &s("x")), s(""));
        }
    }

    #[test]
    fn cache_returns_the_same_answer_and_survives_overflow() {
        for i in 0..(CACHE_LIMIT * 2) {
            assert!(cached_regex(&format!("a{i}")).is_some());
        }
        assert!(cached_regex("(").is_none());
        assert!(cached_regex("(").is_none());
        assert!(cached_regex("a+").is_some_and(|re| re.is_match("caab")));
    }

    #[test]
    fn replace_regex_rewrites_groups() {
        assert_eq!(
            replace_regex(&s("Number is 1"), &s(r"is (\d+)"), &s(r"was: \1")),
            s("Number was: 1")
        );
        assert_eq!(
            replace_regex(&s("a1b22"), &s(r"\d+"), &s(r"<\0>")),
            s("a<1>b<22>")
        );
        assert_eq!(replace_regex(&s("abc"), &s("x*"), &s("-")), s("-a-b-c-"));
        assert_eq!(
            replace_regex(&s("ab"), &s("(a)|(b)"), &s(r"[\2]")),
            s("[][b]")
        );
        assert_eq!(replace_regex(&s("a$b"), &s(r"\$"), &s(r"\\$")), s(r"a\$b"));
        assert_eq!(replace_regex(&s("abc"), &s("("), &s("x")), s(""));
        assert_eq!(replace_regex(&Value::Null, &s("a"), &s("x")), s(""));
        assert_eq!(
            replace(&s(r"is (\d+)"), &s(r"was: \1"), &s("Number is 2")),
            s("Number was: 2")
        );
    }

    #[test]
    fn replace_regex_output_is_bounded() {
        let text = Value::string("a".repeat(1 << 16));
        let rewrite = Value::string("b".repeat(2048));
        assert_eq!(replace_regex(&text, &s(""), &rewrite), s(""));
    }

    #[test]
    fn trim_follows_reference_examples() {
        assert_eq!(
            trim(&s("--"), &s("--https://bing.com--")),
            s("https://bing.com")
        );
        assert_eq!(trim(&s(r"[^\w]+"), &s("-  Te st1// $")), s("Te st1"));
        assert_eq!(
            trim(&s(r"\s+"), &s("    Hello, world!    ")),
            s("Hello, world!")
        );
        assert_eq!(
            trim_start(&s("https://"), &s("https://bing.com")),
            s("bing.com")
        );
        assert_eq!(
            trim_start(&s(r"[^\w]+"), &s("-  Te st1// $")),
            s("Te st1// $")
        );
        assert_eq!(trim_end(&s(r"[^\w]+"), &s("-  Te st1// $")), s("-  Te st1"));
        assert_eq!(trim(&s("ab"), &s("abababxab")), s("x"));
        assert_eq!(trim(&s("a"), &s("aaaa")), s(""));
        assert_eq!(trim(&s("a)(b"), &s("ab")), s(""));
        assert_eq!(trim(&s("x"), &Value::Null), s(""));
    }

    #[test]
    fn indexof_regex_follows_reference_examples() {
        let l = Value::Long;
        assert_eq!(indexof_regex(&[s("abcabc"), s("a.c")]), l(0));
        assert_eq!(
            indexof_regex(&[s("abcabcdefg"), s("a.c"), l(0), l(9), l(2)]),
            l(3)
        );
        assert_eq!(
            indexof_regex(&[s("abcabc"), s("a.c"), l(1), l(-1), l(2)]),
            l(-1)
        );
        assert_eq!(
            indexof_regex(&[s("ababaa"), s("a.a"), l(0), l(-1), l(2)]),
            l(-1)
        );
        assert_eq!(indexof_regex(&[s("abcabc"), s("a|ab"), l(-1)]), Value::Null);
        assert_eq!(indexof_regex(&[s("héllo"), s("l+")]), l(2));
        assert_eq!(indexof_regex(&[s("abc"), s("c"), l(10)]), l(-1));
        assert_eq!(indexof_regex(&[s("abc"), s("(")]), Value::Null);
        assert_eq!(indexof_regex(&[s("abc"), s("b"), Value::Null]), Value::Null);
    }
}
