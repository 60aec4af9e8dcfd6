//! Text from input or from rules, made safe to quote in a message.
//!
//! Messages go to a terminal or a log one line each (`FILE:LINE: cause`,
//! `summary: ...`). A JSON key or value is any text: quoted raw, a `\n` in
//! it would start a line that looks like the detector's own (a forged
//! `summary: 0 rows read` or `FILE:LINE:`), an ESC would drive the terminal
//! (colours, cursor moves, a changed window title), and a bidi override or
//! a line separator would make the line read differently from what it says.
//!
//! [`printable`] is the one function every message that quotes such text
//! goes through: in `kql-runtime` ([`crate::record::clip`], so every
//! description of an input value) and in the detector (each report line,
//! the summary, `--version`).

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control or otherwise invisible character escaped, so
/// that it prints as one visible line: `\n`, `\r`, `\t`, and `\u{XX}` for
/// the others (ESC is `\u{1b}`). Everything else, non-ASCII letters
/// included, is kept.
///
/// Escaped: the C0 and C1 controls and DEL; the Unicode line and paragraph
/// separators (U+2028, U+2029); the bidirectional marks, embeddings,
/// overrides and isolates (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066
/// to U+2069); zero-width and other invisible format characters (U+00AD,
/// U+180E, U+200B to U+200D, U+2060 to U+2064, U+FEFF, U+FFF9 to U+FFFB, the
/// tags U+E0000 to U+E007F).
///
/// A backslash is kept as it is, so escaping twice changes nothing (a
/// message may be escaped where it is made and again where it is written);
/// the price is that a literal `\n` in the input reads like an escaped line
/// end, which cannot forge a line.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A character that does not print as itself on one line.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{AD}'
                | '\u{61C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_kept_as_it_is() {
        for text in ["create", "Zoë's café", "日本語", "a\\nb", "' \" {}"] {
            assert!(matches!(printable(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn line_ends_and_terminal_escapes_cannot_start_a_line() {
        assert_eq!(
            printable("x\n summary: 0 rows read\r\x1b[31mred\t\u{7f}\u{85}"),
            "x\\n summary: 0 rows read\\r\\u{1b}[31mred\\t\\u{7f}\\u{85}"
        );
    }

    #[test]
    fn invisible_and_bidi_characters_are_shown() {
        assert_eq!(
            printable("a\u{2028}b\u{202e}c\u{2066}d\u{200b}e\u{feff}"),
            "a\\u{2028}b\\u{202e}c\\u{2066}d\\u{200b}e\\u{feff}"
        );
    }

    #[test]
    fn escaping_twice_changes_nothing() {
        let once = printable("k\ney\x1b\u{2029}").into_owned();
        assert_eq!(printable(&once), once);
    }
}
