//! The abstract syntax tree of a KQL query.
//!
//! Every node carries a byte [`Span`] into the source text. Spans compare equal
//! to each other whatever their offsets, so tests compare trees, not offsets.
//! [`std::fmt::Display`] on [`Query`] prints valid KQL that parses back to the
//! same tree (compound expressions are fully parenthesized).

use crate::types::ScalarType;

/// A byte range `start..end` in the query text.
///
/// Two spans are always equal: see the module documentation.
#[derive(Clone, Copy, Debug, Default, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

/// Hashes nothing, to agree with equality (all spans are equal).
impl std::hash::Hash for Span {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl Span {
    /// The span `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A name as written (bracketed names such as `['where']` are unquoted).
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A whole query: `let` statements and tabular expression statements,
/// separated by `;`.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// Statements in source order.
    pub statements: Vec<Statement>,
    /// The whole query.
    pub span: Span,
}

/// One statement of a query.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    /// `let NAME = VALUE`.
    Let(Let),
    /// A tabular expression whose rows are the query's result.
    Tabular(TabularExpr),
    /// `set NAME = VALUE` for an option that changes results and that kqlc
    /// implements (`query_bin_auto_size`, `query_bin_auto_at`); other `set`
    /// statements are [`Statement::Unimplemented`].
    Set(SetOption),
    /// A statement kqlc recognises but does not implement (`set`, `declare`, ...).
    Unimplemented(Unimplemented),
}

/// `set NAME = VALUE`: a request property for the query.
#[derive(Clone, Debug, PartialEq)]
pub struct SetOption {
    /// The option's name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// The whole statement.
    pub span: Span,
}

/// Valid KQL that kqlc recognises but does not implement yet: kept as its
/// source text, so the query parses and the checker can say exactly what is
/// missing.
#[derive(Clone, Debug, PartialEq)]
pub struct Unimplemented {
    /// What it is, for messages: `operator 'parse'`, `the 'externaldata' source`.
    pub what: String,
    /// The source text, printed back as is.
    pub text: String,
    /// Where it was written.
    pub span: Span,
    /// The names it would bind (a refused `declare query_parameters`'
    /// parameters): the checker binds them to placeholders, so that their
    /// uses are not reported again.
    pub binds: Vec<Ident>,
}

/// `let NAME = VALUE`.
#[derive(Clone, Debug, PartialEq)]
pub struct Let {
    /// The bound name.
    pub name: Ident,
    /// What it is bound to.
    pub value: LetValue,
    /// The whole statement.
    pub span: Span,
}

/// The right-hand side of a `let`.
#[derive(Clone, Debug, PartialEq)]
pub enum LetValue {
    /// A scalar expression, or a bare name that may turn out to be a table
    /// (the checker decides).
    Scalar(Expr),
    /// A tabular expression (it has a pipe or a tabular source keyword).
    Tabular(Box<TabularExpr>),
    /// A user-defined function: `(a: long, T: (*)) { BODY }`.
    Function(Function),
}

/// A user-defined function: `(a: long, T: (x: string)) { let ...; BODY }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// The parameters, in order.
    pub params: Vec<Param>,
    /// `let` statements at the start of the body, in order.
    pub lets: Vec<Let>,
    /// What the function returns.
    pub body: FunctionBody,
}

/// One parameter of a user-defined function.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Its name.
    pub name: Ident,
    /// Scalar or tabular.
    pub kind: ParamKind,
}

/// What a parameter takes.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamKind {
    /// A scalar of this type, with a default value for a missing argument.
    Scalar {
        /// The type.
        ty: ScalarType,
        /// `= VALUE`.
        default: Option<Expr>,
    },
    /// A table: `(*)` takes any (`None`); `(a: long, ...)` one that has at
    /// least these columns.
    Tabular(Option<Vec<(Ident, ScalarType)>>),
}

/// The result of a user-defined function.
#[derive(Clone, Debug, PartialEq)]
pub enum FunctionBody {
    /// A scalar expression (or a bare name that may be a table: the checker
    /// decides).
    Scalar(Expr),
    /// A tabular expression.
    Tabular(Box<TabularExpr>),
}

/// An argument of a call of a user-defined function in tabular position.
#[derive(Clone, Debug, PartialEq)]
pub enum Argument {
    /// A scalar expression, or a bare name that may be a table.
    Scalar(Expr),
    /// A tabular expression.
    Tabular(TabularExpr),
}

/// A call of a user-defined function that returns a table:
/// `f(ARG, ...)`, or `T | invoke f(ARG, ...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The function.
    pub name: Ident,
    /// The arguments as written (`invoke` passes its input as a first one).
    pub args: Vec<Argument>,
    /// The call.
    pub span: Span,
}

/// `SOURCE | OP | OP ...`.
#[derive(Clone, Debug, PartialEq)]
pub struct TabularExpr {
    /// Where rows come from.
    pub source: Source,
    /// The operators, in order.
    pub operators: Vec<Operator>,
    /// The whole expression.
    pub span: Span,
}

/// The first element of a tabular expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A table or a tabular `let` name.
    Named(Ident),
    /// `print [NAME =] EXPR, ...`: one row.
    Print(Vec<NamedExpr>, Span),
    /// `datatable (COL: TYPE, ...) [VALUE, ...]`: rows given inline.
    Datatable(Datatable),
    /// `union [OPTIONS] TABLE, ...`: the rows of every table.
    Union(Union, Span),
    /// `(TABULAR)`: a parenthesized tabular expression.
    Nested(Box<TabularExpr>),
    /// `range NAME from START to STOP step STEP`.
    Range(Box<Range>),
    /// `f(ARG, ...)`: a user-defined function that returns a table.
    Call(Call),
    /// `externaldata (COL: TYPE, ...) [URI, ...] [with (OPTION = VALUE, ...)]`.
    ExternalData(ExternalData),
    /// `search [kind=K] [in (TABLE, ...)] PREDICATE`: the rows of the
    /// tables (all tables of the schema without `in`) that pass.
    Search(Box<Search>, Span),
    /// `find [withsource=NAME] [in (TABLE, ...)] where PREDICATE [project
    /// ...]`: the rows of the tables that pass, laid out by `find`'s own
    /// rules (`source_`, common columns, `pack_`).
    Find(Box<Find>, Span),
    /// A source kqlc does not implement yet (`externaldata`, `range`, ...).
    Unimplemented(Unimplemented),
}

/// `datatable (COL: TYPE, ...) [VALUE, ...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Datatable {
    /// Column names and types.
    pub columns: Vec<(Ident, ScalarType)>,
    /// The values, row after row (length is a multiple of the column count
    /// when well formed; the checker reports otherwise).
    pub values: Vec<Expr>,
    /// The whole source.
    pub span: Span,
}

/// `externaldata (COL: TYPE, ...) [URI, ...] [with (OPTION = VALUE, ...)]`:
/// rows read from files.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalData {
    /// Column names and types.
    pub columns: Vec<(Ident, ScalarType)>,
    /// The file references (expressions: the checker wants string literals).
    pub uris: Vec<Expr>,
    /// `with (...)` options: name, value, location.
    pub options: Vec<(Ident, Expr)>,
    /// The whole source.
    pub span: Span,
}

/// `range NAME from START to STOP step STEP`: one column of values.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    /// The column.
    pub name: Ident,
    /// First value.
    pub from: Expr,
    /// Last value (inclusive, when a step lands on it).
    pub to: Expr,
    /// Increment.
    pub step: Expr,
}

/// A tabular operator after a pipe.
#[derive(Clone, Debug, PartialEq)]
pub struct Operator {
    /// What it does.
    pub kind: OperatorKind,
    /// From the operator name to its end (the pipe excluded).
    pub span: Span,
}

/// The tabular operators.
#[derive(Clone, Debug, PartialEq)]
pub enum OperatorKind {
    /// `where PREDICATE` (alias `filter`).
    Where(Expr),
    /// `extend [NAME =] EXPR, ...`.
    Extend(Vec<NamedExpr>),
    /// `project [NAME =] EXPR, ...`.
    Project(Vec<NamedExpr>),
    /// `project-away COL, ...` (names or wildcard patterns).
    ProjectAway(Vec<ColumnPattern>),
    /// `project-rename NEW = OLD, ...`.
    ProjectRename(Vec<(Ident, Ident)>),
    /// `mv-expand [NAME =] EXPR [to typeof(TYPE)], ... [limit N]`.
    MvExpand(MvExpand),
    /// `take N` (alias `limit N`).
    Take(Expr),
    /// `sample N`: up to N rows picked at random.
    Sample(Expr),
    /// `serialize [NAME = EXPR, ...]`: marks the rows as ordered (they always
    /// are in a detector) and extends them, typically with row functions.
    Serialize(Vec<NamedExpr>),
    /// `count`.
    Count,
    /// `summarize [NAME =] AGGREGATE, ... [by [NAME =] EXPR, ...]`.
    Summarize {
        /// The aggregate calls (possibly none: `summarize by X`).
        aggregates: Vec<NamedExpr>,
        /// The grouping expressions.
        by: Vec<NamedExpr>,
    },
    /// `make-series [kind=nonempty] [NAME =] AGGREGATE [default = VALUE], ...
    /// on AXIS [from START] [to END] step STEP [by [NAME =] EXPR, ...]`.
    MakeSeries(Box<MakeSeries>),
    /// `sort by EXPR [asc|desc] [nulls first|last], ...` (alias `order by`).
    Sort(Vec<SortExpr>),
    /// `top N by EXPR [asc|desc] [nulls first|last]`.
    Top {
        /// How many rows.
        count: Expr,
        /// The order.
        by: SortExpr,
    },
    /// `distinct EXPR, ...` (usually columns); empty for `distinct *`.
    Distinct(Vec<NamedExpr>),
    /// `project-keep COL, ...` (names or wildcard patterns).
    ProjectKeep(Vec<ColumnPattern>),
    /// `project-reorder COL [asc|desc|granny-asc|granny-desc], ...`: these
    /// first, the others after.
    ProjectReorder(Vec<(ColumnPattern, Option<ReorderOrder>)>),
    /// `join [kind=K] (RIGHT) on KEYS`.
    Join(Join),
    /// `lookup [kind=leftouter|inner] (RIGHT) on KEYS`.
    Lookup(Join),
    /// `union [OPTIONS] TABLE, ...` after a pipe: this input and the others.
    Union(Union),
    /// `parse [kind=simple|regex|relaxed] EXPR with PATTERN` (and
    /// `parse-where`, which drops rows that do not match).
    Parse(Parse),
    /// `as [hint.materialized=true] NAME`: names the rows so far for the
    /// rest of the query; passes them on unchanged.
    As(Ident),
    /// `mv-apply [with_itemindex=I] ITEMS [limit N] on (SUBQUERY)`.
    MvApply(MvApply),
    /// `invoke f(ARG, ...)`: calls a user-defined function with the rows so
    /// far as its first (tabular) argument.
    Invoke(Call),
    /// `top-nested ... , top-nested ...`: hierarchical aggregation, one
    /// level per clause.
    TopNested(Vec<TopNestedLevel>),
    /// `top-hitters N of EXPR [by SUM]`: the N values of `EXPR` with the
    /// most rows (or the largest sum of `SUM`).
    TopHitters {
        /// How many values.
        count: Expr,
        /// The counted values.
        of: Expr,
        /// The summed expression (none: count rows).
        by: Option<Expr>,
    },
    /// `sample-distinct N of COLUMN`: up to N distinct values of a column
    /// (which ones the reference leaves open).
    SampleDistinct {
        /// How many values at most.
        count: Expr,
        /// The sampled column.
        of: Ident,
    },
    /// `getschema`: one row per input column.
    GetSchema,
    /// `render VISUALIZATION [with (NAME = VALUE, ...)]`: a chart for a user
    /// agent; a detector has none, so it passes rows on unchanged.
    Render(Render),
    /// `partition [hint.NAME = VALUE ...] by COL (SUBQUERY)`: the subquery
    /// run over the rows of each value of the column.
    Partition(Partition),
    /// `project-by-names SPEC, ...`: the columns named by constant strings
    /// (`"C*"` patterns too), arrays of names or `column_names_of(T)`, in
    /// the order given.
    ProjectByNames(Vec<Expr>),
    /// `parse-kv EXPR as (KEY: TYPE, ...) [with (NAME = VALUE, ...)]`: the
    /// listed keys of a key/value text, as typed columns.
    ParseKv(ParseKv),
    /// `evaluate [hint.NAME = VALUE ...] PLUGIN(ARG, ...) [: (SCHEMA)]`:
    /// a plugin call over the rows so far.
    Evaluate(Evaluate),
    /// `scan [with_match_id = NAME] [declare (COL: TYPE [= DEFAULT], ...)]
    /// with (step NAME [output = all|last|none]: CONDITION [=> COL = EXPR,
    /// ...]; ...)`: matches sequences of rows, step by step.
    Scan(Box<Scan>),
    /// `search [kind=K] PREDICATE` after a pipe: the rows that pass.
    Search(Box<Search>),
    /// `make-graph SOURCE --> TARGET [with T on ID, ... | with_node_id=NAME]
    /// [partitioned-by COLUMN (OPERATORS)]`: the rows so far become the
    /// edges of a graph, which the graph operators after it (or in its
    /// `partitioned-by`) read.
    MakeGraph(Box<MakeGraph>),
    /// `graph-match` and `graph-shortest-paths`: the matches of a pattern
    /// in the graph, projected to rows.
    GraphMatch(Box<GraphMatch>),
    /// `graph-to-table nodes|edges ...`: the graph's nodes or edges as rows.
    GraphToTable(GraphToTable),
    /// `graph-mark-components [kind=weak|strong] [with_component_id=NAME]`:
    /// each node gets its connected component's number.
    GraphMarkComponents {
        /// `kind=strong`: components connected both ways.
        strong: bool,
        /// The property that holds the number (`ComponentId` unless given).
        property: Option<Ident>,
    },
    /// An operator kqlc does not implement yet (`fork`, ...).
    Unimplemented(Unimplemented),
}

/// `make-graph`'s clauses (`make-graph-operator.md`).
#[derive(Clone, Debug, PartialEq)]
pub struct MakeGraph {
    /// The column of each edge's source node id.
    pub source: Ident,
    /// The column of each edge's target node id.
    pub target: Ident,
    /// `with T on ID, ...`: the tables of node properties and their id
    /// columns.
    pub nodes: Vec<(TabularExpr, Ident)>,
    /// `with_node_id=NAME`: the node property that holds the node's id.
    pub node_id: Option<Ident>,
    /// `partitioned-by COLUMN (GRAPH-OPERATORS)`: a graph per value of the
    /// column (in the edges and every node table), each through the
    /// operators, their rows one after the other.
    pub partitioned_by: Option<(Ident, Vec<Operator>)>,
}

/// `graph-match [cycles=C] PATTERN [where PREDICATE] project ...` and
/// `graph-shortest-paths [output=any|all] PATTERN [where PREDICATE]
/// project ...`.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphMatch {
    /// `Some(all)` for `graph-shortest-paths` (`output=all`: every shortest
    /// path, not one per pair); `None` for `graph-match`.
    pub shortest: Option<bool>,
    /// `cycles=` of `graph-match`, as written (lowercase).
    pub cycles: Option<Ident>,
    /// The comma-separated sequences.
    pub pattern: Vec<PatternSequence>,
    /// `where PREDICATE`.
    pub predicate: Option<Expr>,
    /// `project [NAME =] EXPR, ...`.
    pub project: Vec<NamedExpr>,
}

/// One sequence of a graph pattern: a node, then edges each followed by a
/// node.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternSequence {
    /// The first node.
    pub first: PatternNode,
    /// Each edge and the node after it.
    pub steps: Vec<(PatternEdge, PatternNode)>,
}

/// `(NAME)` or `()`.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternNode {
    /// The variable, if named.
    pub name: Option<Ident>,
    /// Where it is written.
    pub span: Span,
}

/// `-[NAME*MIN..MAX]->`, `-->`, `<--`, `--` and their forms.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternEdge {
    /// The variable, if named.
    pub name: Option<Ident>,
    /// Which way it goes.
    pub direction: crate::types::EdgeDirection,
    /// `*MIN..MAX`: a variable length edge.
    pub range: Option<(u32, u32)>,
    /// Where it is written.
    pub span: Span,
}

/// `graph-to-table nodes [with_node_id=C]` or `graph-to-table edges
/// [with_source_id=C] [with_target_id=C] [as NAME]`.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphToTable {
    /// Edges, not nodes.
    pub edges: bool,
    /// `with_node_id=` (nodes) or `with_source_id=` (edges).
    pub first_id: Option<Ident>,
    /// `with_target_id=` (edges).
    pub target_id: Option<Ident>,
    /// `as NAME`.
    pub name: Option<Ident>,
    /// `nodes as N ..., edges as E ...`: the edges table after the comma
    /// (two results; the checker refuses it), and the comma's span.
    pub and_edges: Option<(Box<GraphToTable>, Span)>,
}

/// `search [kind=case_sensitive] [in (TABLE, ...)] PREDICATE`, as
/// written: a string literal where a condition stands is a term, tested
/// against every column (`desugar` rewrites it), and `COL: "x"` is read as
/// `COL has "x"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    /// `kind=case_sensitive`: every string test is case-sensitive.
    pub case_sensitive: bool,
    /// `in (TABLE, ...)`: the tables searched (empty: the input after a
    /// pipe, every table of the schema as a source).
    pub tables: Vec<TabularExpr>,
    /// The predicate (`*` alone: every row).
    pub predicate: Expr,
}

/// `find [withsource=NAME] [in (TABLE, ...)] where PREDICATE [project-smart
/// | project COLUMN[: TYPE], ... [, pack_all()]]`, or `find PREDICATE ...`
/// (`find-operator.md`). A string literal where a condition stands is a
/// term tested against every column, as in `search`.
#[derive(Clone, Debug, PartialEq)]
pub struct Find {
    /// `withsource=NAME`: the column naming each row's table (`source_`
    /// without it).
    pub with_source: Option<Ident>,
    /// `in (TABLE, ...)`; `None`: every table of the schema.
    pub tables: Option<Vec<TabularExpr>>,
    /// The predicate.
    pub predicate: Expr,
    /// The output columns.
    pub output: FindOutput,
}

/// The output clause of `find`.
#[derive(Clone, Debug, PartialEq)]
pub enum FindOutput {
    /// `project-smart`, the default: the columns common to the tables and
    /// those the predicate names, the rest packed into `pack_`.
    Smart,
    /// `project COLUMN[: TYPE], ...`, with `pack_all()` (or `pack(*)`) last
    /// when `pack` is set.
    Project {
        /// The columns, each with the type it is converted to, if given.
        columns: Vec<(Ident, Option<ScalarType>)>,
        /// The rest of each row's columns packed into `pack_`.
        pack: bool,
    },
}

/// `evaluate PLUGIN(ARG, ...) [: (SCHEMA)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluate {
    /// The plugin and its arguments as written.
    pub call: Call,
    /// `: ([*,] NAME: TYPE, ...)`: the output columns declared by the query.
    pub schema: Option<OutputSchema>,
}

/// An output schema written after a plugin call.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputSchema {
    /// `*` first: the input columns come before the declared ones.
    pub star: bool,
    /// The declared columns.
    pub columns: Vec<(Ident, ScalarType)>,
}

/// One clause of `top-nested`:
/// `top-nested [N] of [NAME =] EXPR [with others = VALUE] by [NAME =] AGGREGATE [asc|desc]`.
#[derive(Clone, Debug, PartialEq)]
pub struct TopNestedLevel {
    /// How many values to keep (none: all).
    pub count: Option<Expr>,
    /// The grouped value and its column name.
    pub of: NamedExpr,
    /// `with others = VALUE`: a row for the values not kept.
    pub others: Option<Expr>,
    /// The aggregate that ranks the values, and its column name.
    pub by: NamedExpr,
    /// `desc` (the default) or `asc`.
    pub descending: bool,
}

/// `render VISUALIZATION [with (NAME = VALUE, ...)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Render {
    /// The chart kind (`timechart`, `table`, ...).
    pub visualization: Ident,
    /// The properties, as written; the column lists of `ycolumns`,
    /// `series` and `anomalycolumns` take several values.
    pub properties: Vec<(Ident, Vec<Expr>)>,
}

/// The `scan` operator.
#[derive(Clone, Debug, PartialEq)]
pub struct Scan {
    /// `with_match_id = NAME`: the appended column of match numbers.
    pub match_id: Option<Ident>,
    /// `declare (COL: TYPE [= DEFAULT], ...)`: the columns the steps assign.
    pub declare: Vec<ScanDeclare>,
    /// The steps, first to last.
    pub steps: Vec<ScanStep>,
}

/// One declared column of `scan`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanDeclare {
    /// Its name.
    pub name: Ident,
    /// Its type.
    pub ty: ScalarType,
    /// Its value where no step assigns it (null when absent).
    pub default: Option<Expr>,
}

pub use crate::types::ScanOutput;

/// One step of `scan`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanStep {
    /// Its name (`s1`, referenced as `s1.Col`).
    pub name: Ident,
    /// Which matches it outputs.
    pub output: ScanOutput,
    /// The condition a row meets to match.
    pub condition: Expr,
    /// `=> COL = EXPR, ...`: what a match assigns to declared columns.
    pub assignments: Vec<(Ident, Expr)>,
}

/// `partition [hint.NAME = VALUE ...] by COL (SUBQUERY)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    /// The hints, as `name`, `value` (they do not change results).
    pub hints: Vec<(String, String)>,
    /// The partitioning column.
    pub by: Ident,
    /// The operators run over each partition.
    pub subquery: Vec<Operator>,
}

/// `make-series`: per group, an array of each aggregate over the bins of
/// an axis (`hint.*` options are accepted and dropped).
#[derive(Clone, Debug, PartialEq)]
pub struct MakeSeries {
    /// `kind=nonempty`: an empty input gives one row of default values.
    pub nonempty: bool,
    /// The aggregates, each with its `default =` value.
    pub aggregates: Vec<SeriesAggregate>,
    /// The axis column (`on AXIS`).
    pub axis: Expr,
    /// The bins of the axis.
    pub range: SeriesRange,
    /// The grouping expressions.
    pub by: Vec<NamedExpr>,
}

/// One aggregate of `make-series`: `[NAME =] AGGREGATE [default = VALUE]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesAggregate {
    /// The aggregate call and its name.
    pub item: NamedExpr,
    /// The value of bins without rows (default 0).
    pub default: Option<Expr>,
}

/// How `make-series` lays out its axis.
#[derive(Clone, Debug, PartialEq)]
pub enum SeriesRange {
    /// `[from START] [to END] step STEP`: bins of `bin_at(AXIS, STEP,
    /// START)`, `END` excluded.
    Step {
        /// The first bin (default: the first bin with data).
        from: Option<Expr>,
        /// The end, excluded (default: after the last bin with data).
        to: Option<Expr>,
        /// The bin size.
        step: Expr,
    },
    /// `in range(START, STOP, STEP)`: bins of `bin(AXIS, STEP)`, `STOP`
    /// included.
    InRange {
        /// The lowest value.
        start: Expr,
        /// The highest value, included.
        stop: Expr,
        /// The bin size.
        step: Expr,
    },
}

/// `union [kind=inner|outer] [withsource=NAME] [isfuzzy=BOOL] TABLE, ...`
/// (hints are accepted and dropped: they do not change results).
#[derive(Clone, Debug, PartialEq)]
pub struct Union {
    /// `kind=inner`: only the columns every table has (default `outer`:
    /// all of them).
    pub inner: bool,
    /// `withsource=NAME`: a first column naming each row's table.
    pub with_source: Option<Ident>,
    /// `isfuzzy=true`: tables that do not exist are left out.
    pub fuzzy: bool,
    /// The tables (for the operator form, those after the input).
    pub tables: Vec<TabularExpr>,
}

/// A column name, or a pattern with `*` standing for any characters
/// (`Dns*`, `*Id`, `*`), in `project-away`, `project-keep` and
/// `project-reorder`.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnPattern {
    /// The name, or the pattern as written (`*` for any characters).
    pub name: Ident,
    /// A pattern: matches every column whose name fits, possibly none.
    pub wildcard: bool,
}

impl ColumnPattern {
    /// Whether a column called `column` fits the pattern (or is the name).
    pub fn matches(&self, column: &str) -> bool {
        if !self.wildcard {
            return self.name.name == column;
        }
        let mut parts = self.name.name.split('*');
        let first = parts.next().unwrap_or_default();
        let Some(mut rest) = column.strip_prefix(first) else {
            return false;
        };
        let parts: Vec<&str> = parts.collect();
        for (i, part) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                return rest.len() >= part.len() && rest.ends_with(part);
            }
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.is_empty()
    }
}

/// How `project-reorder` orders the columns a pattern matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReorderOrder {
    /// `asc`: by name, A to Z.
    Asc,
    /// `desc`: by name, Z to A.
    Desc,
    /// `granny-asc`: by name, digit runs compared as numbers.
    GrannyAsc,
    /// `granny-desc`.
    GrannyDesc,
}

impl ReorderOrder {
    /// As written.
    pub fn spelling(self) -> &'static str {
        match self {
            ReorderOrder::Asc => "asc",
            ReorderOrder::Desc => "desc",
            ReorderOrder::GrannyAsc => "granny-asc",
            ReorderOrder::GrannyDesc => "granny-desc",
        }
    }
}

/// `parse` and `parse-where`.
#[derive(Clone, Debug, PartialEq)]
pub struct Parse {
    /// `parse-where`: rows that do not match are dropped.
    pub drop_unmatched: bool,
    /// How the pattern matches.
    pub kind: ParseKind,
    /// `flags=...` of `kind=regex`: regex flags (`U`, `i`, `m`, `s`).
    pub flags: Option<String>,
    /// The parsed text.
    pub expr: Expr,
    /// The pattern, in order.
    pub pattern: Vec<ParsePart>,
}

/// `kind=` of `parse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseKind {
    /// String constants match literally; columns must match their types.
    Simple,
    /// String constants are regular expressions.
    Regex,
    /// Like simple, but a column whose text does not convert is null.
    Relaxed,
}

/// `parse-kv`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseKv {
    /// The parsed text.
    pub expr: Expr,
    /// The extracted keys, each a new column of its declared type.
    pub keys: Vec<(Ident, ScalarType)>,
    /// The `with (...)` options in order: name (lowercase) and value.
    pub options: Vec<(Ident, Expr)>,
}

/// One element of a `parse` pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum ParsePart {
    /// `*`: any text, skipped.
    Any,
    /// A string constant, and where it is written.
    Text(String, Span),
    /// `Name [: type]`: a new column (string when no type is given).
    Column(Ident, Option<ScalarType>),
}

/// `join` and `lookup`.
#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    /// The flavour (`innerunique` when not written, for `join`;
    /// `leftouter` for `lookup`).
    pub kind: JoinKind,
    /// The right side.
    pub right: Box<TabularExpr>,
    /// The key pairs.
    pub on: Vec<JoinKey>,
}

/// One `on` condition.
#[derive(Clone, Debug, PartialEq)]
pub enum JoinKey {
    /// `on Name`: the same column on both sides.
    Same(Ident),
    /// `on $left.A == $right.B`.
    Pair(Ident, Ident),
}

/// The join flavours (shared with the IR).
pub use crate::types::JoinKind;

/// A sort key.
#[derive(Clone, Debug, PartialEq)]
pub struct SortExpr {
    /// What is compared.
    pub expr: Expr,
    /// `desc` (the default) or `asc`.
    pub descending: bool,
    /// `nulls first` / `nulls last`, when written (the default depends on
    /// the direction: first for `asc`, last for `desc`).
    pub nulls_first: Option<bool>,
}

impl SortExpr {
    /// Whether nulls go first, the default applied.
    pub fn nulls_first(&self) -> bool {
        self.nulls_first.unwrap_or(!self.descending)
    }
}

/// `mv-expand` and its options.
#[derive(Clone, Debug, PartialEq)]
pub struct MvExpand {
    /// The expanded expressions (several expand in parallel).
    pub items: Vec<MvExpandItem>,
    /// `limit N`: at most N rows per input row.
    pub limit: Option<Expr>,
    /// `with_itemindex=NAME`: a column with each element's position.
    pub item_index: Option<Ident>,
    /// `kind=array` (`bagexpansion=array`): a property bag expands to
    /// `[key, value]` arrays instead of single-key bags.
    pub bag_as_array: bool,
}

/// `mv-apply`: each input row is expanded as by `mv-expand` into a
/// subtable, the subquery runs over it, and its rows (with the input row's
/// other columns) are the output.
#[derive(Clone, Debug, PartialEq)]
pub struct MvApply {
    /// The expansion (as `mv-expand`'s; `kind=array` is not allowed).
    pub expand: MvExpand,
    /// The subquery's operators; its source is the subtable.
    pub subquery: Vec<Operator>,
}

/// One expanded expression of `mv-expand`.
#[derive(Clone, Debug, PartialEq)]
pub struct MvExpandItem {
    /// `NAME =`; without it the expression must be a column name.
    pub name: Option<Ident>,
    /// The array or bag to expand.
    pub expr: Expr,
    /// `to typeof(TYPE)`: the type of the expanded column (default dynamic).
    pub to_type: Option<ScalarType>,
}

/// `[NAME =] EXPR`, as in `extend`, `project` and `print`, or
/// `(NAME, NAME, ...) = EXPR` in `summarize`, naming the several columns of
/// an aggregate such as `arg_max` in order.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedExpr {
    /// The explicit name, if written (the first of a tuple).
    pub name: Option<Ident>,
    /// The names after the first of a tuple assignment `(a, b, c) = ...`
    /// (empty otherwise; `(a) = ...` is `a = ...`).
    pub more_names: Vec<Ident>,
    /// The value.
    pub expr: Expr,
}

/// A scalar expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// The whole expression.
    pub span: Span,
}

/// The scalar expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A literal value.
    Literal(Literal),
    /// A column or scalar `let` name.
    Name(Ident),
    /// `TARGET.NAME` on a dynamic value.
    Member {
        /// The value read from.
        target: Box<Expr>,
        /// The property.
        name: Ident,
    },
    /// `TARGET[INDEX]`: a property (string) or array element (integer).
    Index {
        /// The value read from.
        target: Box<Expr>,
        /// The key or position.
        index: Box<Expr>,
    },
    /// A scalar expression kqlc does not implement yet (a tabular argument
    /// of a function other than `toscalar`).
    Unimplemented(Unimplemented),
    /// A tabular expression where a scalar one may stand: the operand of
    /// `in` (`x in (T | project y)`) or the argument of `toscalar`.
    Tabular(Box<TabularExpr>),
    /// `*` as an argument: `arg_max(Timestamp, *)`, `count(*)`... (only
    /// aggregate calls accept it).
    Star,
    /// A typed literal whose content kqlc cannot read (`datetime(<start>)`,
    /// `long(abc)`, `decimal(abc)`): Kusto's grammar takes any content, so
    /// it parses, and the checker reports `diagnostic`.
    InvalidLiteral {
        /// The literal as written.
        text: String,
        /// Why it cannot be read.
        diagnostic: Box<crate::diag::Diagnostic>,
    },
    /// `typeof(TYPE)` as an argument: the result type of `extract(re, n,
    /// s, typeof(long))` and `extract_json(path, s, typeof(long))`.
    TypeOf(ScalarType),
    /// `NAME = VALUE` as an argument of a call: a named argument of a
    /// user-defined function, or the column name of a value `arg_max`
    /// carries (`arg_min(Timestamp, Prev = City)`).
    NamedArgument {
        /// The parameter or column name.
        name: Ident,
        /// The value.
        value: Box<Expr>,
    },
    /// `NAME(ARG, ...)`.
    Call {
        /// The function.
        name: Ident,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `-EXPR` or `+EXPR`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `LHS OP RHS`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// A long flat chain of one precedence level's arithmetic operators,
    /// `FIRST OP E OP E ...` (`a + b - c + ...`, `a * b / c ...`),
    /// evaluated from left to right exactly as the nested `Binary` form.
    /// The parser builds it for chains longer than it keeps nested, so that
    /// no later stage recurses once per operator.
    Chain {
        /// The first operand.
        first: Box<Expr>,
        /// Each operator with its right operand, in order.
        rest: Vec<(BinaryOp, Expr)>,
    },
    /// `EXPR in (A, B, ...)` and the other operators that take a list.
    List {
        /// The operator.
        op: ListOp,
        /// The tested value.
        expr: Box<Expr>,
        /// The list elements.
        items: Vec<Expr>,
    },
    /// `EXPR [!]between (LOW .. HIGH)`.
    Between {
        /// `!between`.
        negated: bool,
        /// The tested value.
        expr: Box<Expr>,
        /// Lower bound, inclusive.
        low: Box<Expr>,
        /// Upper bound, inclusive.
        high: Box<Expr>,
    },
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-`.
    Neg,
    /// `+`.
    Plus,
}

/// Binary operators. Precedence lives in the parser's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `or`.
    Or,
    /// `and`.
    And,
    /// `==`.
    Eq,
    /// `!=` (also written `<>`).
    NotEq,
    /// `=~`: case-insensitive string equality.
    EqCi,
    /// `!~`: case-insensitive string inequality.
    NotEqCi,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Mod,
    /// A string operator such as `has` or `!startswith_cs`.
    Str(StringOp),
}

/// A string operator: its kind, whether it is negated (`!`), and whether it is
/// case-sensitive (`_cs`, or the operator is always case-sensitive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StringOp {
    /// Which test.
    pub kind: StringOpKind,
    /// Written with a leading `!`.
    pub negated: bool,
    /// Written with `_cs`.
    pub case_sensitive: bool,
}

/// The tests of the string operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringOpKind {
    /// `contains`: substring.
    Contains,
    /// `has`: whole term.
    Has,
    /// `hasprefix`: a term starts with.
    HasPrefix,
    /// `hassuffix`: a term ends with.
    HasSuffix,
    /// `startswith`.
    StartsWith,
    /// `endswith`.
    EndsWith,
    /// `matches regex` (always case-sensitive, never negated).
    MatchesRegex,
}

impl StringOp {
    /// The operator as written in KQL, e.g. `!startswith_cs`.
    pub fn spelling(self) -> String {
        let base = match self.kind {
            StringOpKind::Contains => "contains",
            StringOpKind::Has => "has",
            StringOpKind::HasPrefix => "hasprefix",
            StringOpKind::HasSuffix => "hassuffix",
            StringOpKind::StartsWith => "startswith",
            StringOpKind::EndsWith => "endswith",
            StringOpKind::MatchesRegex => return "matches regex".to_string(),
        };
        format!(
            "{}{}{}",
            if self.negated { "!" } else { "" },
            base,
            if self.case_sensitive { "_cs" } else { "" }
        )
    }
}

/// Operators whose right side is a parenthesized list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListOp {
    /// `in`: equal to an element (case-sensitive).
    In,
    /// `!in`.
    NotIn,
    /// `in~`: equal to an element, case-insensitive.
    InCi,
    /// `!in~`.
    NotInCi,
    /// `has_any`: has any of the terms.
    HasAny,
    /// `has_all`: has all of the terms.
    HasAll,
}

impl ListOp {
    /// The operator as written in KQL.
    pub fn spelling(self) -> &'static str {
        match self {
            ListOp::In => "in",
            ListOp::NotIn => "!in",
            ListOp::InCi => "in~",
            ListOp::NotInCi => "!in~",
            ListOp::HasAny => "has_any",
            ListOp::HasAll => "has_all",
        }
    }
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `true`, `false`, `bool(true)`.
    Bool(bool),
    /// `int(5)`.
    Int(i32),
    /// `5`, `long(5)`, `0x1F`.
    Long(i64),
    /// `1.5`, `1e3`, `real(1.5)`, `real(nan)`.
    Real(f64),
    /// `decimal(1.5)`, `decimal(1e5)`: the exact value.
    Decimal(kql_literal::decimal::Decimal),
    /// `"text"`, `'text'`, `@"verbatim"`, ... (the decoded text).
    String(String),
    /// `datetime(2024-05-28T10:00:00Z)`: ticks (100 ns) since the Unix epoch.
    DateTime(i64),
    /// `1d`, `100ms`, `timespan(1.02:03:04)`: ticks (100 ns).
    TimeSpan(i64),
    /// `guid(...)`: canonical lowercase text.
    Guid(String),
    /// `dynamic(...)`.
    Dynamic(DynamicLiteral),
    /// `long(null)`, `datetime(null)`, ...: a typed null.
    Null(ScalarType),
}

/// The contents of a `dynamic(...)` literal.
#[derive(Clone, Debug, PartialEq)]
pub enum DynamicLiteral {
    /// `null`.
    Null,
    /// A scalar literal (number, string, bool, datetime, ...).
    Scalar(Box<Literal>),
    /// `[a, b, ...]`.
    Array(Vec<DynamicLiteral>),
    /// `{"key": value, ...}` in source order.
    Bag(Vec<(String, DynamicLiteral)>),
}
