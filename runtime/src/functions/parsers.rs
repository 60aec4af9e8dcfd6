//! Functions that parse a structured string into a dynamic value:
//! `parse_url`, `parse_urlquery`, `parse_path`, `parse_csv`,
//! `parse_command_line`, and the `parse-kv` operator's extraction.

use std::sync::Arc;

use crate::text::to_text;
use crate::value::{Str, Value};

fn s(text: &str) -> Value {
    Value::string(text)
}

fn percent_decoded(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// The bag of the parameters of a query string `k1=v1&k2=v2`: keys and
/// values percent-decoded (`+` is a space); a parameter without `=` has the
/// value `""`; a repeated key keeps its first position and takes the last
/// value; empty parameters are skipped.
fn query_parameters(query: &str) -> Value {
    let entries = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                Str::from(percent_decoded(k)),
                Value::string(percent_decoded(v)),
            )
        })
        .collect();
    Value::bag(entries)
}

/// `parse_url(url)` (`parse-url-function.md`): the parts of an absolute URL
/// as a bag with the keys `Scheme`, `Host`, `Port`, `Path`, `Username`,
/// `Password`, `Query Parameters` (a bag) and `Fragment`, in that order;
/// `parse_url("scheme://username:password@host:1234/this/is/a/path?k1=v1&k2=v2#fragment")`
/// has Scheme `scheme`, Host `host`, Port `1234`, Username `username`,
/// Password `password`, Query Parameters `{"k1":"v1","k2":"v2"}`, Fragment
/// `fragment`. Absent parts are `""` (the port too: it is not filled in from
/// the scheme).
///
/// **Unsettled**: the Path keeps its leading `/` (`/this/is/a/path`, as
/// .NET's `Uri.AbsolutePath`, on which Kusto is built, gives it), where the
/// reference's example prints `this/is/a/path`; a URL without a path has
/// Path `""`. Text that is not an absolute URL (`scheme://...`) gives the
/// bag with every part empty.
pub fn parse_url(v: &Value) -> Value {
    let text = to_text(v);
    let text = text.trim();
    let mut scheme = "";
    let mut host = "";
    let mut port = "";
    let mut path = "";
    let mut user = "";
    let mut password = "";
    let mut query = "";
    let mut fragment = "";
    if let Some((sch, rest)) = text.split_once("://") {
        let valid_scheme = sch.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && sch
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if valid_scheme {
            scheme = sch;
            let (rest, frag) = rest.split_once('#').unwrap_or((rest, ""));
            fragment = frag;
            let (rest, q) = rest.split_once('?').unwrap_or((rest, ""));
            query = q;
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, p) = rest.split_at(authority_end);
            path = p;
            let host_port = match authority.rsplit_once('@') {
                Some((userinfo, hp)) => {
                    let (u, pw) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                    user = u;
                    password = pw;
                    hp
                }
                None => authority,
            };
            // `[v6]:port` or `host:port`.
            let (h, pt) = if host_port.starts_with('[') {
                match host_port.find(']') {
                    Some(end) => {
                        let after = &host_port[end + 1..];
                        (&host_port[..=end], after.strip_prefix(':').unwrap_or(""))
                    }
                    None => (host_port, ""),
                }
            } else {
                host_port.split_once(':').unwrap_or((host_port, ""))
            };
            host = h;
            port = pt;
        }
    }
    Value::bag(vec![
        (Str::from("Scheme"), s(scheme)),
        (Str::from("Host"), s(host)),
        (Str::from("Port"), s(port)),
        (Str::from("Path"), s(path)),
        (Str::from("Username"), s(user)),
        (Str::from("Password"), s(password)),
        (Str::from("Query Parameters"), query_parameters(query)),
        (Str::from("Fragment"), s(fragment)),
    ])
}

/// `parse_urlquery(query)` (`parse-url-query-function.md`): a bag
/// `{"Query Parameters": {...}}` of the parameters of a URL query
/// (`"k1=v1&k2=v2&k3=v3"` gives `{"k1":"v1","k2":"v2","k3":"v3"}`); a leading
/// `?` is skipped, keys and values are percent-decoded.
pub fn parse_urlquery(v: &Value) -> Value {
    let text = to_text(v);
    let query = text.trim().strip_prefix('?').unwrap_or(text.trim());
    Value::bag(vec![(
        Str::from("Query Parameters"),
        query_parameters(query),
    )])
}

fn is_separator(c: char) -> bool {
    c == '/' || c == '\\'
}

/// `parse_path(path)` (`parse-path-function.md`): the parts of a file path as
/// a bag with the keys `Scheme`, `RootPath`, `DirectoryPath`,
/// `DirectoryName`, `Filename`, `Extension`, `AlternateDataStreamName`;
/// `@"C:\temp\file.txt"` gives RootPath `C:`, DirectoryPath `C:\temp`,
/// DirectoryName `temp`, Filename `file.txt`, Extension `txt`;
/// `"file://C:/temp/file.txt:some.exe"` has Scheme `file` and
/// AlternateDataStreamName `some.exe`; UNC paths (`\\shared\users\...`) have
/// no RootPath. Both slashes separate; long paths (`\\?\C:\...`) read their
/// drive as the root. Absent parts are `""`.
pub fn parse_path(v: &Value) -> Value {
    let text = to_text(v);
    let mut rest: &str = &text;
    let mut scheme = "";
    if let Some((sch, after)) = rest.split_once("://") {
        if !sch.is_empty() && sch.chars().all(|c| c.is_ascii_alphanumeric()) {
            scheme = sch;
            rest = after;
        }
    }
    let drive_of = |p: &str| -> Option<usize> {
        let b = p.as_bytes();
        (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':').then_some(2)
    };
    let root = if let Some(long) = rest.strip_prefix(r"\\?\") {
        drive_of(long).map(|n| &long[..n])
    } else {
        drive_of(rest).map(|n| &rest[..n])
    }
    .unwrap_or("");
    let (directory, last) = match rest.rfind(is_separator) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => ("", rest),
    };
    // A bare `C:file` keeps the drive as the directory.
    let (directory, last) = if directory.is_empty()
        && !root.is_empty()
        && last.len() > root.len()
        && rest.starts_with(root)
    {
        (root, &last[root.len()..])
    } else {
        (directory, last)
    };
    let (filename, stream) = last.split_once(':').unwrap_or((last, ""));
    let extension = filename.rsplit_once('.').map_or("", |(_, e)| e);
    let directory_name = directory
        .rsplit(is_separator)
        .next()
        .filter(|name| *name != root || root.is_empty())
        .unwrap_or("");
    Value::bag(vec![
        (Str::from("Scheme"), s(scheme)),
        (Str::from("RootPath"), s(root)),
        (Str::from("DirectoryPath"), s(directory)),
        (Str::from("DirectoryName"), s(directory_name)),
        (Str::from("Filename"), s(filename)),
        (Str::from("Extension"), s(extension)),
        (Str::from("AlternateDataStreamName"), s(stream)),
    ])
}

/// `parse_csv(csv_text)` (`parse-csv-function.md`): the fields of the first
/// record of comma-separated values as a dynamic array of strings. A field
/// in double quotes may hold commas, line feeds and doubled quotes (`""` for
/// `"`); a line feed outside quotes ends the record (`'record1,a,b,c\nrecord2'`
/// gives `["record1","a","b","c"]`). Null → `[""]`.
pub fn parse_csv(v: &Value) -> Value {
    let text = to_text(v);
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            ',' => fields.push(Value::string(std::mem::take(&mut field))),
            '\n' => break,
            '\r' if chars.peek() == Some(&'\n') => break,
            other => field.push(other),
        }
    }
    fields.push(Value::string(field));
    Value::Array(Arc::new(fields))
}

/// `parse_command_line(command_line, parser_type)`
/// (`parse-command-line-function.md`): the arguments of a Windows command
/// line as a dynamic array of strings, split as `CommandLineToArgvW` does:
/// arguments are separated by spaces and tabs outside double quotes; `2n`
/// backslashes before a quote give `n` backslashes and the quote toggles
/// quoting, `2n+1` give `n` backslashes and a literal quote; other
/// backslashes are literal; inside quotes, `""` is a literal quote. The first
/// argument (the program) ends at the first space or tab outside quotes and
/// takes backslashes literally. (`echo "hello world!"` gives
/// `["echo","hello world!"]`.) An empty or blank command line gives `[]`.
/// The only parser type is `"windows"` (case-insensitive); any other gives
/// null.
pub fn parse_command_line(v: &Value, parser: &Value) -> Value {
    if !to_text(parser).eq_ignore_ascii_case("windows") {
        return Value::Null;
    }
    let text = to_text(v);
    let chars: Vec<char> = text.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    let blank = |c: char| c == ' ' || c == '\t';
    while i < chars.len() && blank(chars[i]) {
        i += 1;
    }
    if i >= chars.len() {
        return Value::Array(Arc::new(args));
    }
    // The program name.
    let mut program = String::new();
    let mut quoted = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            quoted = !quoted;
        } else if blank(c) && !quoted {
            break;
        } else {
            program.push(c);
        }
        i += 1;
    }
    args.push(Value::string(program));
    loop {
        while i < chars.len() && blank(chars[i]) {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let mut arg = String::new();
        let mut quoted = false;
        while i < chars.len() {
            let c = chars[i];
            if c == '\\' {
                let start = i;
                while i < chars.len() && chars[i] == '\\' {
                    i += 1;
                }
                let count = i - start;
                if i < chars.len() && chars[i] == '"' {
                    arg.extend(std::iter::repeat_n('\\', count / 2));
                    if count % 2 == 1 {
                        arg.push('"');
                        i += 1;
                    }
                } else {
                    arg.extend(std::iter::repeat_n('\\', count));
                }
                continue;
            }
            if c == '"' {
                if quoted && chars.get(i + 1) == Some(&'"') {
                    arg.push('"');
                    i += 2;
                    continue;
                }
                quoted = !quoted;
                i += 1;
                continue;
            }
            if blank(c) && !quoted {
                break;
            }
            arg.push(c);
            i += 1;
        }
        args.push(Value::string(arg));
    }
    Value::Array(Arc::new(args))
}

/// The options of a `parse-kv` operator, as its rewrite passes them.
struct KvOptions {
    /// Between pairs; empty in the mode without delimiters.
    pair: String,
    /// Between a key and its value.
    kv: String,
    /// (opening, closing) quote characters.
    quotes: Vec<(char, char)>,
    /// Characters that escape the next one inside quotes.
    escapes: Vec<char>,
    greedy: bool,
}

impl KvOptions {
    fn closing(&self, open: char) -> Option<char> {
        self.quotes.iter().find(|q| q.0 == open).map(|q| q.1)
    }

    /// The quoted text at the start of `rest` (which begins with an opening
    /// quote), unescaped, and how many bytes it spans (closing quote
    /// included; to the end when the quote is not closed).
    fn quoted(&self, rest: &str, close: char) -> (String, usize) {
        let mut out = String::new();
        let mut chars = rest.char_indices().skip(1);
        while let Some((i, c)) = chars.next() {
            if self.escapes.contains(&c) {
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
            } else if c == close {
                return (out, i + c.len_utf8());
            } else {
                out.push(c);
            }
        }
        (out, rest.len())
    }

    /// Whether `rest` (just after a pair delimiter) starts a new pair: a
    /// key (quoted, or text holding no delimiter) and the key/value
    /// delimiter.
    fn starts_pair(&self, rest: &str) -> bool {
        let trimmed = rest.trim_start();
        if let Some(close) = trimmed.chars().next().and_then(|c| self.closing(c)) {
            let (_, len) = self.quoted(trimmed, close);
            return trimmed[len..].trim_start().starts_with(self.kv.as_str());
        }
        match trimmed.find(self.kv.as_str()) {
            Some(at) => {
                let key = &trimmed[..at];
                !key.trim().is_empty() && !key.contains(self.pair.as_str())
            }
            None => false,
        }
    }

    /// The end of an unquoted value starting at `rest`: the next pair
    /// delimiter, or in greedy mode the next one that starts a pair.
    fn value_end(&self, rest: &str) -> usize {
        let mut from = 0;
        while let Some(at) = rest[from..].find(self.pair.as_str()) {
            let at = from + at;
            if !self.greedy || self.starts_pair(&rest[at + self.pair.len()..]) {
                return at;
            }
            from = at + self.pair.len();
        }
        rest.len()
    }
}

fn insert_first(entries: &mut Vec<(Str, Value)>, key: &str, value: &str) {
    let key = key.trim();
    if !key.is_empty() && !entries.iter().any(|(k, _)| &**k == key) {
        entries.push((Str::from(key), Value::string(value.trim())));
    }
}

/// The pairs of `text` split by the given delimiters.
fn kv_delimited(text: &str, options: &KvOptions) -> Vec<(Str, Value)> {
    let mut entries = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        rest = rest.trim_start();
        // The key.
        let key;
        if let Some(close) = rest.chars().next().and_then(|c| options.closing(c)) {
            let (quoted, len) = options.quoted(rest, close);
            key = quoted;
            rest = rest[len..].trim_start();
            if !rest.starts_with(options.kv.as_str()) {
                // Not a pair: skip to the next pair delimiter.
                match rest.find(options.pair.as_str()) {
                    Some(at) => rest = &rest[at + options.pair.len()..],
                    None => break,
                }
                continue;
            }
        } else {
            let kv_at = rest.find(options.kv.as_str());
            let pair_at = rest.find(options.pair.as_str());
            match (kv_at, pair_at) {
                (Some(kv), Some(pair)) if pair < kv => {
                    rest = &rest[pair + options.pair.len()..];
                    continue;
                }
                (Some(kv), _) => {
                    key = rest[..kv].to_string();
                    rest = &rest[kv..];
                }
                (None, _) => break,
            }
        }
        rest = rest[options.kv.len()..].trim_start();
        // The value.
        if let Some(close) = rest.chars().next().and_then(|c| options.closing(c)) {
            let (value, len) = options.quoted(rest, close);
            insert_first(&mut entries, &key, &value);
            rest = &rest[len..];
            match rest.find(options.pair.as_str()) {
                Some(at) => rest = &rest[at + options.pair.len()..],
                None => break,
            }
        } else {
            let end = options.value_end(rest);
            insert_first(&mut entries, &key, &rest[..end]);
            rest = rest.get(end + options.pair.len()..).unwrap_or("");
        }
    }
    entries
}

/// The pairs of `text` without delimiters: tokens are runs of letters,
/// digits and `_`, or quoted texts; everything else separates them. Each
/// token is a key whose value is the token after it.
fn kv_undelimited(text: &str, options: &KvOptions) -> Vec<(Str, Value)> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(close) = options.closing(c) {
            let (quoted, len) = options.quoted(rest, close);
            tokens.push(quoted);
            rest = &rest[len..];
        } else if c.is_alphanumeric() || c == '_' {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            tokens.push(rest[..end].to_string());
            rest = &rest[end..];
        } else {
            rest = &rest[c.len_utf8()..];
        }
    }
    let mut entries = Vec::new();
    for pair in tokens.windows(2) {
        insert_first(&mut entries, &pair[0], &pair[1]);
    }
    entries
}

/// The `parse-kv` operator's extraction (`parse-kv-operator.md`):
/// `[text, pair_delimiter, kv_delimiter, quotes, escapes, greedy, regex]`
/// gives a bag of every key found in `text` and its value (a string,
/// trimmed; the first appearance of a key wins). `quotes` holds opening
/// and closing characters two by two. A non-empty `regex` (two capture
/// groups: key and value) takes each match as a pair; without delimiters,
/// tokens separated by any other character than letters, digits and `_`
/// pair up. A null text gives an empty bag.
pub fn parse_kv(args: &[Value]) -> Value {
    let [text, pair, kv, quotes, escapes, greedy, regex] = args else {
        return Value::Null;
    };
    let text = to_text(text);
    let regex = to_text(regex);
    if !regex.is_empty() {
        let Some(re) = crate::functions::regex::cached_regex(&regex) else {
            return Value::Null;
        };
        let mut entries = Vec::new();
        for captures in re.captures_iter(&text) {
            if let (Some(key), Some(value)) = (captures.get(1), captures.get(2)) {
                insert_first(&mut entries, key.as_str(), value.as_str());
            }
        }
        return Value::bag(entries);
    }
    let quote_chars: Vec<char> = to_text(quotes).chars().collect();
    let options = KvOptions {
        pair: to_text(pair).to_string(),
        kv: to_text(kv).to_string(),
        quotes: quote_chars
            .chunks(2)
            .map(|q| (q[0], q[q.len() - 1]))
            .collect(),
        escapes: to_text(escapes).chars().collect(),
        greedy: matches!(greedy, Value::Bool(true)),
    };
    let entries = if options.pair.is_empty() || options.kv.is_empty() {
        kv_undelimited(&text, &options)
    } else {
        kv_delimited(&text, &options)
    };
    Value::bag(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::to_string;

    fn t(text: &'static str) -> Value {
        Value::from_static(text)
    }

    #[test]
    fn parse_url_splits_parts() {
        let v = parse_url(&t(
            "scheme://username:password@host:1234/this/is/a/path?k1=v1&k2=v2#fragment",
        ));
        assert_eq!(
            to_string(&v),
            r#"{"Scheme":"scheme","Host":"host","Port":"1234","Path":"/this/is/a/path","Username":"username","Password":"password","Query Parameters":{"k1":"v1","k2":"v2"},"Fragment":"fragment"}"#
        );
        let v = parse_url(&t("https://bing.com"));
        assert_eq!(
            to_string(&v),
            r#"{"Scheme":"https","Host":"bing.com","Port":"","Path":"","Username":"","Password":"","Query Parameters":{},"Fragment":""}"#
        );
        let v = parse_url(&t("http://[::1]:8080/a?x=%20y+z"));
        assert_eq!(crate::ops::member(&v, "Host"), t("[::1]"));
        assert_eq!(crate::ops::member(&v, "Port"), t("8080"));
        assert_eq!(
            to_string(&crate::ops::member(&v, "Query Parameters")),
            r#"{"x":" y z"}"#
        );
        let empty = parse_url(&t("bing.com"));
        assert_eq!(crate::ops::member(&empty, "Host"), t(""));
        assert_eq!(
            crate::ops::member(&parse_url(&Value::Null), "Scheme"),
            t("")
        );
    }

    #[test]
    fn parse_urlquery_reads_parameters() {
        assert_eq!(
            to_string(&parse_urlquery(&t("k1=v1&k2=v2&k3=v3"))),
            r#"{"Query Parameters":{"k1":"v1","k2":"v2","k3":"v3"}}"#
        );
        assert_eq!(
            to_string(&parse_urlquery(&t("?a=1&&b&a=2"))),
            r#"{"Query Parameters":{"a":"2","b":""}}"#
        );
    }

    #[test]
    fn parse_path_follows_reference_examples() {
        let p = |text: &'static str| to_string(&parse_path(&t(text)));
        assert_eq!(
            p(r"C:\temp\file.txt"),
            r#"{"Scheme":"","RootPath":"C:","DirectoryPath":"C:\\temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":""}"#
        );
        assert_eq!(
            p(r"temp\file.txt"),
            r#"{"Scheme":"","RootPath":"","DirectoryPath":"temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":""}"#
        );
        assert_eq!(
            p("file://C:/temp/file.txt:some.exe"),
            r#"{"Scheme":"file","RootPath":"C:","DirectoryPath":"C:/temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":"some.exe"}"#
        );
        assert_eq!(
            p(r"\\shared\users\temp\file.txt.gz"),
            r#"{"Scheme":"","RootPath":"","DirectoryPath":"\\\\shared\\users\\temp","DirectoryName":"temp","Filename":"file.txt.gz","Extension":"gz","AlternateDataStreamName":""}"#
        );
        assert_eq!(
            p("/usr/lib/temp/file.txt"),
            r#"{"Scheme":"","RootPath":"","DirectoryPath":"/usr/lib/temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":""}"#
        );
        assert_eq!(
            p("file.txt"),
            r#"{"Scheme":"","RootPath":"","DirectoryPath":"","DirectoryName":"","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":""}"#
        );
        assert_eq!(
            p(r"C:\file"),
            r#"{"Scheme":"","RootPath":"C:","DirectoryPath":"C:","DirectoryName":"","Filename":"file","Extension":"","AlternateDataStreamName":""}"#
        );
    }

    #[test]
    fn parse_csv_follows_reference_examples() {
        assert_eq!(
            to_string(&parse_csv(&t(
                "aa,\"b,b,b\",cc,\"Escaping quotes: \"\"Title\"\"\",\"line1\nline2\""
            ))),
            r#"["aa","b,b,b","cc","Escaping quotes: \"Title\"","line1\nline2"]"#
        );
        assert_eq!(
            to_string(&parse_csv(&t("record1,a,b,c\nrecord2,x,y,z"))),
            r#"["record1","a","b","c"]"#
        );
        assert_eq!(to_string(&parse_csv(&t(""))), r#"[""]"#);
        assert_eq!(to_string(&parse_csv(&t("a,"))), r#"["a",""]"#);
    }

    #[test]
    fn parse_command_line_follows_windows_rules() {
        let w = t("windows");
        let p = |text: &'static str| to_string(&parse_command_line(&t(text), &w));
        assert_eq!(p("echo \"hello world!\""), r#"["echo","hello world!"]"#);
        assert_eq!(
            p(r#""C:\Program Files\a.exe" -x  "b c""#),
            r#"["C:\\Program Files\\a.exe","-x","b c"]"#
        );
        assert_eq!(
            p(r#"a.exe a\\\"b c\\"d e" f"#),
            r#"["a.exe","a\\\"b","c\\d e","f"]"#
        );
        assert_eq!(p(r#"a.exe "x""y""#), r#"["a.exe","x\"y"]"#);
        assert_eq!(p(r"cmd.exe C:\dir\ x"), r#"["cmd.exe","C:\\dir\\","x"]"#);
        assert_eq!(p("   "), "[]");
        assert_eq!(parse_command_line(&t("a b"), &t("linux")), Value::Null);
    }
}
