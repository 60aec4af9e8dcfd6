//! The vocabulary every stage shares: the KQL scalar types, and the small
//! enums that the checked query and the IR both carry (join flavours, row
//! functions, `mv-apply` layouts, `externaldata` formats).

use std::fmt;

/// A KQL scalar type. `dynamic` is a scalar type in KQL too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// `bool` (alias `boolean`).
    Bool,
    /// `int` (32-bit signed).
    Int,
    /// `long` (64-bit signed).
    Long,
    /// `real` (alias `double`).
    Real,
    /// `decimal` (38 exact digits).
    Decimal,
    /// `string`.
    String,
    /// `datetime` (alias `date`).
    DateTime,
    /// `timespan` (alias `time`).
    TimeSpan,
    /// `guid` (alias `uniqueid`).
    Guid,
    /// `dynamic`.
    Dynamic,
}

impl ScalarType {
    /// Every type, in the order KQL's documentation lists them.
    pub const ALL: [ScalarType; 10] = [
        ScalarType::Bool,
        ScalarType::DateTime,
        ScalarType::Decimal,
        ScalarType::Dynamic,
        ScalarType::Guid,
        ScalarType::Int,
        ScalarType::Long,
        ScalarType::Real,
        ScalarType::String,
        ScalarType::TimeSpan,
    ];

    /// The type named `name` (KQL's names and aliases; case-sensitive as in KQL).
    pub fn from_name(name: &str) -> Option<ScalarType> {
        Some(match name {
            "bool" | "boolean" => ScalarType::Bool,
            "int" | "int32" => ScalarType::Int,
            "long" | "int64" => ScalarType::Long,
            "real" | "double" => ScalarType::Real,
            "decimal" => ScalarType::Decimal,
            "string" => ScalarType::String,
            "datetime" | "date" => ScalarType::DateTime,
            "timespan" | "time" => ScalarType::TimeSpan,
            "guid" | "uniqueid" => ScalarType::Guid,
            "dynamic" => ScalarType::Dynamic,
            _ => return None,
        })
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::Bool => "bool",
            ScalarType::Int => "int",
            ScalarType::Long => "long",
            ScalarType::Real => "real",
            ScalarType::Decimal => "decimal",
            ScalarType::String => "string",
            ScalarType::DateTime => "datetime",
            ScalarType::TimeSpan => "timespan",
            ScalarType::Guid => "guid",
            ScalarType::Dynamic => "dynamic",
        }
    }

    /// True for `int`, `long` and `real`. Not for `decimal`: the places
    /// that take a decimal name it (arithmetic, comparison, the aggregates
    /// and functions whose table entry accepts it), so a function that
    /// computes in reals refuses a decimal instead of rounding it silently
    /// (as Microsoft's parser does: a decimal does not narrow to a real).
    pub fn is_numeric(self) -> bool {
        matches!(self, ScalarType::Int | ScalarType::Long | ScalarType::Real)
    }

    /// True for the numbers: [`ScalarType::is_numeric`] and `decimal`.
    pub fn is_number(self) -> bool {
        self.is_numeric() || self == ScalarType::Decimal
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The join flavours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    /// `innerunique`: inner join after deduplicating the left side by key.
    InnerUnique,
    /// `inner`.
    Inner,
    /// `leftouter`.
    LeftOuter,
    /// `rightouter`.
    RightOuter,
    /// `fullouter`.
    FullOuter,
    /// `leftanti` (`anti`, `leftantisemi`).
    LeftAnti,
    /// `rightanti` (`rightantisemi`).
    RightAnti,
    /// `leftsemi`.
    LeftSemi,
    /// `rightsemi`.
    RightSemi,
}

impl JoinKind {
    /// The flavour named `name`, aliases included.
    pub fn from_name(name: &str) -> Option<JoinKind> {
        Some(match name {
            "innerunique" => JoinKind::InnerUnique,
            "inner" => JoinKind::Inner,
            "leftouter" => JoinKind::LeftOuter,
            "rightouter" => JoinKind::RightOuter,
            "fullouter" => JoinKind::FullOuter,
            "leftanti" | "anti" | "leftantisemi" => JoinKind::LeftAnti,
            "rightanti" | "rightantisemi" => JoinKind::RightAnti,
            "leftsemi" => JoinKind::LeftSemi,
            "rightsemi" => JoinKind::RightSemi,
            _ => return None,
        })
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            JoinKind::InnerUnique => "innerunique",
            JoinKind::Inner => "inner",
            JoinKind::LeftOuter => "leftouter",
            JoinKind::RightOuter => "rightouter",
            JoinKind::FullOuter => "fullouter",
            JoinKind::LeftAnti => "leftanti",
            JoinKind::RightAnti => "rightanti",
            JoinKind::LeftSemi => "leftsemi",
            JoinKind::RightSemi => "rightsemi",
        }
    }
}

/// Which of a `scan` step's matches are output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanOutput {
    /// Every match (the default).
    All,
    /// The last of a series of repeated matches.
    Last,
    /// None.
    None,
}

/// The row functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowKind {
    /// `row_number([start [, restart]])`.
    RowNumber,
    /// `prev(value [, offset [, default]])`, with the offset.
    Prev(usize),
    /// `next(value [, offset [, default]])`, with the offset: the stage
    /// holds rows back until the row `offset` later arrives.
    Next(usize),
    /// `row_cumsum(term [, restart])`.
    CumSum,
    /// `row_rank_dense(term [, restart])`.
    RankDense,
    /// `row_rank_min(term [, restart])`.
    RankMin,
    /// `row_window_session(expr, max_from_first, max_between_neighbors
    /// [, restart])`.
    Session,
}

/// Where an output column of `mv-apply` comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyColumn {
    /// This column of the input row.
    Outer(usize),
    /// This column of the subquery's row.
    Sub(usize),
}

/// How the records of an `externaldata` file are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternalFormat {
    /// Fields separated by this byte, RFC 4180 quoting.
    Delimited(u8),
    /// JSON objects, keys naming columns.
    Json,
    /// One line per record, into the first column.
    Text,
    /// The whole file into the first column.
    Raw,
}

impl ExternalFormat {
    /// The format called `name` (an `externaldata` `format` option or a
    /// file extension), if kqlc reads it.
    pub fn from_name(name: &str) -> Option<ExternalFormat> {
        Some(match name.to_ascii_lowercase().as_str() {
            "csv" => ExternalFormat::Delimited(b','),
            "tsv" | "tsve" => ExternalFormat::Delimited(b'\t'),
            "psv" => ExternalFormat::Delimited(b'|'),
            "scsv" => ExternalFormat::Delimited(b';'),
            "sohsv" => ExternalFormat::Delimited(1),
            "json" | "multijson" => ExternalFormat::Json,
            "txt" => ExternalFormat::Text,
            "raw" => ExternalFormat::Raw,
            _ => return None,
        })
    }
}

/// Which way a graph pattern's edge goes (`-->`, `<--`, `--`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeDirection {
    /// `-->`: from the node before to the node after.
    Forward,
    /// `<--`: from the node after to the node before.
    Backward,
    /// `--`: either way.
    Any,
}

/// `graph-match`'s `cycles=`: which repetitions a match may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cycles {
    /// `unique_edges` (the default): no edge twice.
    UniqueEdges,
    /// `none`: no node twice (other than one variable named twice).
    None,
    /// `all`: anything.
    All,
}

/// A checked graph pattern, as the checker and the IR both carry it:
/// node and edge variables by number, and the sequences that link them.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphPattern {
    /// How many node variables (named ones once, each anonymous node its own).
    pub nodes: usize,
    /// The edge variables, each with its direction and length range.
    pub edges: Vec<PatternEdgeSpec>,
    /// The sequences: a first node, then (edge, node) steps.
    pub sequences: Vec<(usize, Vec<(usize, usize)>)>,
    /// `cycles=`.
    pub cycles: Cycles,
    /// `graph-shortest-paths`: `Some(all)`, where `all` keeps every shortest
    /// path of a pair rather than the first.
    pub shortest: Option<bool>,
    /// The row a match fills: per node variable, the position of its block
    /// of properties (none: anonymous); per edge variable the same.
    pub node_blocks: Vec<Option<usize>>,
    /// See `node_blocks`.
    pub edge_blocks: Vec<Option<usize>>,
    /// The width of a match's row.
    pub width: usize,
}

/// One edge of a [`GraphPattern`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PatternEdgeSpec {
    /// Which way it goes.
    pub direction: EdgeDirection,
    /// At least this many edges.
    pub min: u32,
    /// At most this many edges.
    pub max: u32,
    /// Written with `*MIN..MAX`: its properties are arrays.
    pub variable: bool,
}

/// The binding events of a pattern, in the order a match binds them: each
/// sequence's first node, then each edge and the node after it. A
/// condition is checked at the first event after which every variable it
/// reads is bound.
pub fn binding_events(pattern: &GraphPattern) -> Vec<PatternVar> {
    let mut events = Vec::new();
    for (first, steps) in &pattern.sequences {
        events.push(PatternVar::Node(*first));
        for (edge, node) in steps {
            events.push(PatternVar::Edge(*edge));
            events.push(PatternVar::Node(*node));
        }
    }
    events
}

/// A variable of a [`GraphPattern`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternVar {
    /// A node variable by number.
    Node(usize),
    /// An edge variable by number.
    Edge(usize),
}

/// The graph functions over a variable length edge's elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoldKind {
    /// `all(e, c)`: `c` holds for every element (true for none).
    All,
    /// `any(e, c)`: `c` holds for some element (false for none).
    Any,
    /// `map(e, x)`: the array of `x` per element.
    Map,
}
