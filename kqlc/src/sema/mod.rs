//! Semantic check: AST + [`Schema`] → [`CheckedQuery`] (a typed tree) or
//! diagnostics.
//!
//! The checker resolves every name (columns, `let` bindings, tables,
//! functions), infers the KQL type of every expression, fixes the column
//! layout after every operator, and reports what is wrong with a located
//! [`Diagnostic`](crate::diag::Diagnostic). It keeps going after an error where it can, so one run
//! reports several independent mistakes.

pub mod aggregates;
mod check;
pub mod desugar;
pub mod functions;
pub mod limits;
mod names;
pub mod schema;

pub use check::check;
pub use schema::{Column, Schema, Table};
// Shared with the IR: defined beside `ScalarType`.
pub use crate::types::{ApplyColumn, ExternalFormat, ScanOutput, WindowKind};

use crate::syntax::ast::{BinaryOp, JoinKind, ListOp, Literal, Span, UnaryOp};
use crate::types::ScalarType;
use functions::Function;

/// A query that passed the check: one pipeline (lets are resolved and
/// inlined).
#[derive(Clone, Debug)]
pub struct CheckedQuery {
    /// Where rows come from.
    pub source: CheckedSource,
    /// The operators in order, each with its column layout.
    pub stages: Vec<CheckedStage>,
    /// The result columns.
    pub output: Vec<Column>,
}

/// Where the rows of a checked query come from.
#[derive(Clone, Debug)]
pub enum CheckedSource {
    /// Rows read from input: a table of the schema.
    Table(Table),
    /// `range`: one column of values from `from` to `to` by `step`.
    Range {
        /// The column.
        column: Column,
        /// First value (constant).
        from: TypedExpr,
        /// Last value (constant).
        to: TypedExpr,
        /// Increment (constant).
        step: TypedExpr,
    },
    /// `externaldata`: rows read from local files when the detector starts.
    External {
        /// The columns.
        columns: Vec<Column>,
        /// The files, in order (`file://` removed).
        files: Vec<String>,
        /// How records are laid out.
        format: ExternalFormat,
        /// Drop each file's first record (`ignoreFirstRecord=true`).
        skip_first: bool,
    },
    /// Rows written in the query (`print`, `datatable`).
    Rows {
        /// The columns.
        columns: Vec<Column>,
        /// The rows, each as many expressions as columns.
        rows: Vec<Vec<TypedExpr>>,
    },
}

/// A row function: its kind and its arguments, evaluated on each row.
#[derive(Clone, Debug)]
pub struct CheckedWindow {
    /// Which function.
    pub kind: WindowKind,
    /// The arguments (`row_number`: start, restart; `prev`: value,
    /// default; `row_cumsum`: term, restart), missing ones filled in.
    pub args: Vec<TypedExpr>,
}

/// `scan`, checked. Its conditions and assignments read a wide row: the
/// record (the input columns, then the declared columns at their
/// defaults), then one block as wide as the record per step, the state's
/// values of that step (`s1.Col`; null where the state has none).
#[derive(Clone, Debug)]
pub struct CheckedScan {
    /// The number of input columns.
    pub input_width: usize,
    /// Each declared column's default value (a constant).
    pub defaults: Vec<TypedExpr>,
    /// The steps, first to last.
    pub steps: Vec<CheckedScanStep>,
    /// `with_match_id`: the match number is appended to output rows.
    pub match_id: bool,
}

/// `make-graph` and the graph operators after it (`check::graph`).
#[derive(Clone, Debug)]
pub struct CheckedGraph {
    /// The column of each edge's source node id.
    pub source: usize,
    /// The column of each edge's target node id.
    pub target: usize,
    /// `with T on ID`: each node table's rows, its id column, and the node
    /// property each of its columns fills.
    pub node_tables: Vec<(CheckedQuery, usize, Vec<usize>)>,
    /// The node properties, a component number's included.
    pub node_properties: Vec<Column>,
    /// `with_node_id=NAME`: the property holding each node's id.
    pub node_id_property: Option<usize>,
    /// `graph-mark-components`, in order: strong components or weak, and
    /// the property that gets the number.
    pub components: Vec<(bool, usize)>,
    /// `partitioned-by`: the partition column of the edges and of each
    /// node table.
    pub partition: Option<(usize, Vec<usize>)>,
    /// What the rows out are.
    pub output: CheckedGraphOutput,
}

/// The rows a graph gives.
#[derive(Clone, Debug)]
pub enum CheckedGraphOutput {
    /// `graph-to-table nodes`: a row per node (its hash id first when
    /// `with_id`), then its properties.
    Nodes {
        /// `with_node_id=`.
        with_id: bool,
    },
    /// `graph-to-table edges`: a row per edge, the hash ids first.
    Edges {
        /// `with_source_id=`.
        source_id: bool,
        /// `with_target_id=`.
        target_id: bool,
    },
    /// `graph-match` or `graph-shortest-paths`: a row per match, the
    /// pattern's blocks, then the folds.
    Match {
        /// The pattern.
        pattern: crate::types::GraphPattern,
        /// The `where` conjuncts, each with the binding event after which
        /// it is checked (see `types::binding_events`).
        conditions: Vec<(usize, TypedExpr)>,
        /// `all()`, `any()` and `map()` over variable length edges.
        folds: Vec<CheckedFold>,
    },
}

/// `all(e, c)`, `any(e, c)` or `map(e, x)` (over `inner_nodes(e)` when
/// `inner_nodes`): a column of the match row.
#[derive(Clone, Debug)]
pub struct CheckedFold {
    /// Which function.
    pub kind: crate::types::FoldKind,
    /// The variable length edge variable.
    pub edge: usize,
    /// Over the inner nodes, not the edges.
    pub inner_nodes: bool,
    /// Its position in the match row.
    pub position: usize,
    /// The condition or value, over one edge's (or node's) properties.
    pub body: TypedExpr,
}

/// One step of `scan`.
#[derive(Clone, Debug)]
pub struct CheckedScanStep {
    /// Its name.
    pub name: String,
    /// Which matches it outputs.
    pub output: ScanOutput,
    /// Its condition, over the wide row.
    pub condition: TypedExpr,
    /// Per declared column, the value a match assigns (none: the default).
    pub assignments: Vec<Option<TypedExpr>>,
}

/// One operator after the check.
#[derive(Clone, Debug)]
pub struct CheckedStage {
    /// What it does.
    pub op: CheckedOp,
    /// The operator's KQL text as written (for comments in generated code).
    pub text: String,
    /// The columns of its input rows.
    pub input: Vec<Column>,
    /// The columns of its output rows.
    pub output: Vec<Column>,
}

/// The operators, with names resolved to column positions.
#[derive(Clone, Debug)]
pub enum CheckedOp {
    /// Keep rows whose predicate is true.
    Where(TypedExpr),
    /// Compute values in order; each goes to a position that is either an
    /// existing column (replaced) or one past the last (appended). Later
    /// expressions see earlier results.
    Extend(Vec<(usize, TypedExpr)>),
    /// New rows of exactly these values.
    Project(Vec<TypedExpr>),
    /// New rows of these input columns, in this order (`project-away`,
    /// `project-rename`).
    Select(Vec<usize>),
    /// Expand arrays or bags into rows. Each item's value goes to the given
    /// position (replace or append, as in `Extend`).
    MvExpand {
        /// Position and expanded expression; several expand in parallel.
        items: Vec<(usize, TypedExpr)>,
        /// At most this many rows per input row.
        limit: Option<u64>,
        /// `with_itemindex`: the position of the (appended) index column.
        item_index: Option<usize>,
        /// `kind=array`: bags expand to `[key, value]` arrays.
        bag_as_array: bool,
    },
    /// `mv-apply`: expand each row (a `MvExpand`) into a subtable, run the
    /// subquery over it, lay its rows out with the row's other columns.
    MvApply {
        /// The expansion (a [`CheckedOp::MvExpand`]).
        expand: Box<CheckedOp>,
        /// The subquery; its source is a placeholder for the subtable.
        sub: Box<CheckedQuery>,
        /// Where each output column comes from.
        layout: Vec<ApplyColumn>,
    },
    /// Row functions over the ordered rows (`row_number`, `prev`,
    /// `row_cumsum`), each stored at its position as `Extend` does (later
    /// ones may read earlier ones: `row_number(1, prev(a) != a)`).
    Window(Vec<(usize, CheckedWindow)>),
    /// `scan`: rows matched to steps, output with the declared columns
    /// (and the match number).
    Scan(Box<CheckedScan>),
    /// `make-graph` and the graph operators after it: the input rows are
    /// the edges; at the end, the graph's nodes, edges or pattern matches
    /// are the output rows.
    Graph(Box<CheckedGraph>),
    /// Keep the first N rows.
    Take(u64),
    /// Keep N rows picked at random (all when there are at most N), in
    /// input order.
    Sample(u64),
    /// One row with the number of input rows.
    Count,
    /// Group rows by the key expressions and aggregate each group; output
    /// rows are the key values followed by the aggregates' results.
    Summarize {
        /// The grouping expressions.
        by: Vec<TypedExpr>,
        /// The aggregates, in output order.
        aggregates: Vec<CheckedAggregate>,
    },
    /// `make-series`: group rows by the keys and the bin of the axis,
    /// aggregate each bin; output rows are the key values, an array per
    /// aggregate over the bins, and the array of the bins' axis values.
    MakeSeries(Box<CheckedMakeSeries>),
    /// Sort all rows by the keys.
    Sort(Vec<CheckedSortKey>),
    /// The first N rows in the order of the key.
    Top {
        /// How many rows.
        count: u64,
        /// The order.
        key: CheckedSortKey,
    },
    /// The first row of each distinct combination of these columns, as rows
    /// of only these columns.
    Distinct(Vec<usize>),
    /// Match input rows (left) with the rows of another query (right).
    Join {
        /// The flavour.
        kind: JoinKind,
        /// The right side.
        right: Box<CheckedQuery>,
        /// Key columns of the left rows.
        left_keys: Vec<usize>,
        /// Key columns of the right rows (same order).
        right_keys: Vec<usize>,
        /// Positions of the right columns in output rows of the inner and
        /// outer kinds (`lookup` drops the right keys).
        right_columns: Vec<usize>,
        /// `evaluate ipv4_lookup`: the one left key is an IPv4 address that
        /// matches every right key (a range `a.b.c.d/n`) holding it; `kind`
        /// is `Inner` or `LeftOuter`.
        ipv4_range: bool,
    },
    /// `parse`: match a pattern (a regular expression) against text, store
    /// the captures, converted, in the target columns.
    Parse {
        /// The parsed text.
        expr: TypedExpr,
        /// The pattern as a regular expression; capture `i` is target `i`.
        regex: String,
        /// Target positions (replace or append) and types.
        targets: Vec<(usize, ScalarType)>,
        /// A capture that does not convert gives null instead of failing
        /// the match (`kind=relaxed`).
        relaxed: bool,
        /// Drop rows that do not match (`parse-where`); otherwise they get
        /// nulls.
        drop_unmatched: bool,
    },
    /// `top-nested`: per level, group the rows of each group of the level
    /// before by the key, rank the groups by the aggregate, keep the first
    /// N; output rows are the kept leaves, two columns per level (the key
    /// and the aggregate).
    TopNested(Vec<CheckedTopNestedLevel>),
    /// Ignore the input rows; at the end emit these constant rows
    /// (`getschema`: its rows depend only on the input's columns).
    ConstantRows(Vec<Vec<TypedExpr>>),
    /// `partition by COL (SUBQUERY)`: the subquery run over the rows of
    /// each value of the column, its results one after the other.
    Partition {
        /// The partition column.
        key: usize,
        /// The subquery; its source is a placeholder for a partition's rows.
        sub: Box<CheckedQuery>,
        /// At most this many partitions (the legacy strategy's 64).
        limit: Option<usize>,
    },
    /// The input rows and the rows of other queries, laid out by column name.
    Union {
        /// For each output column, the input column it takes (or null).
        input: Vec<Option<usize>>,
        /// The other queries, each with its column mapping.
        legs: Vec<(CheckedQuery, Vec<Option<usize>>)>,
    },
}

/// One level of a checked `top-nested`.
#[derive(Clone, Debug)]
pub struct CheckedTopNestedLevel {
    /// How many values to keep (none: all).
    pub count: Option<u64>,
    /// The grouped value.
    pub key: TypedExpr,
    /// `with others = VALUE` (constant).
    pub others: Option<TypedExpr>,
    /// The ranking aggregate (one column).
    pub aggregate: CheckedAggregate,
    /// Largest aggregate first (the default).
    pub descending: bool,
}

/// A checked `make-series`.
#[derive(Clone, Debug)]
pub struct CheckedMakeSeries {
    /// The grouping expressions.
    pub by: Vec<TypedExpr>,
    /// The aggregates (one column each), in output order.
    pub aggregates: Vec<CheckedAggregate>,
    /// Each aggregate's value for bins without rows (none: 0); constant.
    pub defaults: Vec<Option<TypedExpr>>,
    /// The binned value (datetime, timespan or a number).
    pub axis: TypedExpr,
    /// `from` (or `range`'s start); constant.
    pub from: Option<TypedExpr>,
    /// `to` (or `range`'s stop); constant.
    pub to: Option<TypedExpr>,
    /// The bin size; constant.
    pub step: TypedExpr,
    /// The alternate syntax `in range(START, STOP, STEP)`: bins of
    /// `bin(axis, STEP)`, `STOP` included.
    pub in_range: bool,
    /// `kind=nonempty`.
    pub nonempty: bool,
}

/// A sort key of `sort` or `top`.
#[derive(Clone, Debug)]
pub struct CheckedSortKey {
    /// The compared value.
    pub expr: TypedExpr,
    /// Largest first.
    pub descending: bool,
    /// Nulls before other values.
    pub nulls_first: bool,
}

/// One aggregate call of `summarize`.
#[derive(Clone, Debug)]
pub struct CheckedAggregate {
    /// Which aggregate.
    pub function: &'static aggregates::AggregateFunction,
    /// The aggregated value (none for `count()`/`countif()`).
    pub value: Option<TypedExpr>,
    /// The `*if` predicate.
    pub predicate: Option<TypedExpr>,
    /// A constant parameter: the size limit of `make_set`, the percentile.
    pub parameter: Option<TypedExpr>,
    /// The values `arg_min`/`arg_max` carry from the extreme row.
    pub carried: Vec<TypedExpr>,
    /// Their column names before de-duplication: the column's own, the
    /// name written (`Prev = City`), or `Column`.
    pub carried_names: Vec<String>,
    /// The weight of `percentilew`/`percentilesw`.
    pub weight: Option<TypedExpr>,
    /// The percentiles of `percentiles(x, 5, 99.9)` as their column names
    /// end (`5`, `99_9`); `parameter` holds their values.
    pub percentiles: Vec<String>,
}

impl CheckedAggregate {
    /// How many output columns it gives: a column per percentile of
    /// `percentiles`, the value and each carried one of `arg_max`.
    pub fn width(&self) -> usize {
        match self.function.shape {
            aggregates::Shape::Percentiles { array: false, .. } => self.percentiles.len().max(1),
            _ => 1 + self.carried.len(),
        }
    }
}

/// A typed expression.
#[derive(Clone, Debug)]
pub struct TypedExpr {
    /// What it is.
    pub kind: TypedExprKind,
    /// Its KQL type.
    pub ty: ScalarType,
    /// Where it was written.
    pub span: Span,
}

/// The typed expression forms.
#[derive(Clone, Debug)]
pub enum TypedExprKind {
    /// A literal.
    Literal(Literal),
    /// The column at this position of the input row.
    Column(usize),
    /// `target.name` on a dynamic value.
    Member(Box<TypedExpr>, String),
    /// `target[index]` on a dynamic value.
    Index(Box<TypedExpr>, Box<TypedExpr>),
    /// A function call.
    Call(&'static Function, Vec<TypedExpr>),
    /// `-x`.
    Unary(UnaryOp, Box<TypedExpr>),
    /// `lhs op rhs`.
    Binary(BinaryOp, Box<TypedExpr>, Box<TypedExpr>),
    /// A long flat chain `first op e op e ...` of one precedence level's
    /// arithmetic, a left fold (`ast::ExprKind::Chain`). Each step carries
    /// the type of the value so far after it.
    Chain(Box<TypedExpr>, Vec<(BinaryOp, TypedExpr, ScalarType)>),
    /// `x in (...)` and friends.
    List(ListOp, Box<TypedExpr>, Vec<TypedExpr>),
    /// A table computed before the input is read: with `column`, its first
    /// column as a dynamic array (the operand of `in`); otherwise the first
    /// column of its first row (`toscalar`).
    Subquery {
        /// The query; it reads no input table.
        query: Box<CheckedQuery>,
        /// All values of the first column, not only the first.
        column: bool,
    },
    /// `x [!]between (low .. high)`.
    Between {
        /// `!between`.
        negated: bool,
        /// The tested value.
        expr: Box<TypedExpr>,
        /// Lower bound.
        low: Box<TypedExpr>,
        /// Upper bound.
        high: Box<TypedExpr>,
    },
}
