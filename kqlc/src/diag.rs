//! Diagnostics: one value type for every error kqlc reports about a query,
//! with a stable code from one registry, rendered like rustc's.
//!
//! The same [`Diagnostic`] serves `kqlc check`, `kqlc build`, `kqlc run` and
//! (later) the `kql!` macro.

use crate::syntax::ast::Span;
use std::fmt;

/// The registry of diagnostic codes. A code never changes meaning once
/// released; retired codes are not reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// A character that starts no token.
    UnexpectedCharacter,
    /// A string literal without its closing quote.
    UnterminatedString,
    /// A token where another was expected.
    UnexpectedToken,
    /// An opening `(`, `[` or `{` without its closing partner, or a stray closer.
    UnbalancedDelimiter,
    /// A literal that does not denote a value (`datetime(2024-13-45)`, `1zz`).
    InvalidLiteral,
    /// Expressions nested deeper than the parser allows.
    NestingTooDeep,
    /// A name that is not a table or tabular `let`.
    UnknownTable,
    /// A name that is not a column or scalar `let` here.
    UnknownColumn,
    /// A function kqlc does not know.
    UnknownFunction,
    /// A call with too few or too many arguments.
    WrongArgumentCount,
    /// An argument or operand of the wrong type.
    TypeMismatch,
    /// Two output columns with the same name.
    DuplicateColumn,
    /// Valid KQL that kqlc does not implement yet.
    Unsupported,
    /// A query without a tabular expression to run.
    NoTabularExpression,
    /// A schema file that cannot be read or understood.
    InvalidSchema,
    /// A constant that exceeds a documented limit (`docs/limits.md`), such
    /// as a `range` of more rows than a detector makes.
    LimitExceeded,
    /// An `assert(condition, message)` whose constant condition is false.
    AssertionFailed,
}

impl Code {
    /// Every code, in registry order.
    pub const ALL: [Code; 17] = [
        Code::UnexpectedCharacter,
        Code::UnterminatedString,
        Code::UnexpectedToken,
        Code::UnbalancedDelimiter,
        Code::InvalidLiteral,
        Code::NestingTooDeep,
        Code::UnknownTable,
        Code::UnknownColumn,
        Code::UnknownFunction,
        Code::WrongArgumentCount,
        Code::TypeMismatch,
        Code::DuplicateColumn,
        Code::Unsupported,
        Code::NoTabularExpression,
        Code::InvalidSchema,
        Code::LimitExceeded,
        Code::AssertionFailed,
    ];

    /// The stable code, e.g. `KQL0101`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::UnexpectedCharacter => "KQL0001",
            Code::UnterminatedString => "KQL0002",
            Code::UnexpectedToken => "KQL0003",
            Code::UnbalancedDelimiter => "KQL0004",
            Code::InvalidLiteral => "KQL0005",
            Code::NestingTooDeep => "KQL0006",
            Code::UnknownTable => "KQL0100",
            Code::UnknownColumn => "KQL0101",
            Code::UnknownFunction => "KQL0102",
            Code::WrongArgumentCount => "KQL0103",
            Code::TypeMismatch => "KQL0104",
            Code::DuplicateColumn => "KQL0105",
            Code::Unsupported => "KQL0106",
            Code::NoTabularExpression => "KQL0107",
            Code::InvalidSchema => "KQL0108",
            Code::LimitExceeded => "KQL0109",
            Code::AssertionFailed => "KQL0110",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A label on a span of the query.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// What is labelled.
    pub span: Span,
    /// Text under the underline (may be empty).
    pub message: String,
}

/// An error about a query.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// The registry code.
    pub code: Code,
    /// The headline, lowercase, no final period (rustc's style).
    pub message: String,
    /// The place the error is about.
    pub primary: Label,
    /// Related places.
    pub secondary: Vec<Label>,
    /// Extra facts (`note: ...`).
    pub notes: Vec<String>,
    /// A suggestion (`help: ...`).
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with a headline and a primary span.
    pub fn new(code: Code, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// Sets the text under the primary underline.
    pub fn with_label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }

    /// Adds a secondary label.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// The 1-based line and column (in characters) of the primary span.
    pub fn line_column(&self, source: &str) -> (usize, usize) {
        line_column(source, self.primary.span.start)
    }

    /// Renders like rustc: `error[KQL0101]: ...`, `--> file:line:col`, the
    /// source line with an underline, then notes and help. `color` adds ANSI
    /// colours.
    ///
    /// The rule's text, file name and the messages (which may quote the
    /// rule) are shown with control and invisible format characters made
    /// harmless: a rule cannot drive the terminal or forge a line of output.
    pub fn render(&self, file_name: &str, source: &str, color: bool) -> String {
        use annotate_snippets::{Level, Renderer, Snippet};
        let source = &shown_source(source);
        let file_name = &escaped(file_name);
        let (title, primary_label) = (escaped(&self.message), escaped(&self.primary.message));
        let secondary: Vec<String> = self.secondary.iter().map(|l| escaped(&l.message)).collect();
        let notes: Vec<String> = self.notes.iter().map(|n| escaped(n)).collect();
        let help = self.help.as_deref().map(escaped);
        let clamp = |span: Span| {
            let start = floor_char_boundary(source, span.start.min(source.len()));
            let end = floor_char_boundary(source, span.end.clamp(start, source.len()));
            start..end
        };
        let mut snippet = Snippet::source(source)
            .origin(file_name)
            .fold(true)
            .annotation(
                Level::Error
                    .span(clamp(self.primary.span))
                    .label(&primary_label),
            );
        for (label, text) in self.secondary.iter().zip(&secondary) {
            snippet = snippet.annotation(Level::Info.span(clamp(label.span)).label(text));
        }
        let mut message = Level::Error
            .title(&title)
            .id(self.code.as_str())
            .snippet(snippet);
        for note in &notes {
            message = message.footer(Level::Note.title(note));
        }
        if let Some(help) = &help {
            message = message.footer(Level::Help.title(help));
        }
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let rendered = renderer.render(message).to_string();
        rendered
    }
}

/// A character a terminal would act on or hide rather than show: C0 and C1
/// controls (but tab and line feed), line and paragraph separators, bidi
/// overrides and isolates, and zero-width format characters.
fn is_hidden(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// `text` with each hidden character as `\u{..}`, for messages.
fn escaped(text: &str) -> String {
    text.chars()
        .map(|c| {
            if is_hidden(c) {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The rule's text for a snippet: each hidden character replaced by one of
/// the same UTF-8 length (`?`, `¿`, `\u{fffd}`), so spans still point at
/// the same bytes. A CR before a line feed stays (a CRLF file).
fn shown_source(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            out.push(c);
        } else if is_hidden(c) {
            out.push(match c.len_utf8() {
                1 => '?',
                2 => '\u{bf}',
                _ => '\u{fffd}',
            });
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error[{}]: {}", self.code, self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// The 1-based line and column (in characters) of byte `offset` in `source`.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, source[line_start..offset].chars().count() + 1)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The closest name to `name` among `candidates`, for `did you mean` help:
/// case-insensitive equality first, then the smallest edit distance within a
/// third of the name's length.
pub fn closest_name<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate.to_lowercase() == lower {
            return Some(candidate);
        }
        let distance = strsim::levenshtein(&lower, &candidate.to_lowercase());
        if distance <= (name.chars().count() / 3).max(1) && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_escaped_in_messages_and_masked_in_source_at_the_same_length() {
        let source = "a\u{1b}[31m b\u{202e}c\r\nd\u{85}e\r f";
        let shown = shown_source(source);
        assert_eq!(shown.len(), source.len());
        assert_eq!(shown, "a?[31m b\u{fffd}c\r\nd\u{bf}e? f");
        assert_eq!(escaped("x\u{1b}y\nz"), "x\\u{1b}y\nz");
    }
}
