//! The pipeline IR: what codegen turns into Rust.
//!
//! Small and explicit: columns are positions, every operator and function is
//! a call of a named runtime function, and the KQL text of each operator is
//! kept for comments. No spans: errors were reported before this stage.

use crate::types::ScalarType;
pub use crate::types::{ApplyColumn, ExternalFormat, JoinKind, ScanOutput, WindowKind};

/// One query, ready for code generation.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    /// Where rows come from.
    pub input: Input,
    /// The operators, in order.
    pub stages: Vec<Stage>,
    /// The result columns.
    pub output: Vec<(String, ScalarType)>,
    /// What an input line must contain to produce a result row.
    pub prefilter: Prefilter,
}

/// A condition on the raw text of an input line (see `plan::prefilter`).
#[derive(Clone, Debug, PartialEq)]
pub enum Prefilter {
    /// Every line may produce a row.
    Always,
    /// The line contains this text.
    Needle {
        /// The text.
        text: String,
        /// Compare ASCII letters ignoring case.
        case_insensitive: bool,
    },
    /// Every condition holds.
    All(Vec<Prefilter>),
    /// Some condition holds.
    Any(Vec<Prefilter>),
}

/// Where rows come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// Rows of a table, read from input files.
    Table {
        /// The table name.
        name: String,
        /// All its columns, in order (the reader fills every position).
        columns: Vec<(String, ScalarType)>,
        /// Positions of the columns the query reads: a row that lacks one of
        /// these is reported and rejected.
        used: Vec<usize>,
        /// What the query can observe of each column, in row order
        /// (`plan::access`): the reader builds only that.
        access: Vec<Access>,
        /// Positions of the columns the detector computes rather than
        /// copies from the input line (`sema::Table::computed`): the
        /// prefilter takes no needle from them.
        computed: Vec<usize>,
        /// The position of the column holding the event re-serialized
        /// (`sema::Table::serialized_event`): members of its `parse_json`
        /// give needles.
        serialized_event: Option<usize>,
    },
    /// `range`: the values from `from` to `to` by `step`, one per row.
    Range {
        /// The column.
        column: (String, ScalarType),
        /// First value.
        from: Expr,
        /// Last value.
        to: Expr,
        /// Increment.
        step: Expr,
    },
    /// `externaldata`: rows read from local files when the detector starts.
    External {
        /// The columns.
        columns: Vec<(String, ScalarType)>,
        /// The files, in order.
        files: Vec<String>,
        /// How records are laid out.
        format: ExternalFormat,
        /// Drop each file's first record.
        skip_first: bool,
    },
    /// Rows written in the query (`print`, `datatable`).
    Rows {
        /// The columns.
        columns: Vec<(String, ScalarType)>,
        /// The values, one expression per column (constant: no row context).
        rows: Vec<Vec<Expr>>,
    },
}

/// What a query can observe of one input column: a trie of member paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Never read.
    Unread,
    /// Read as a whole value (or below a path, all of what is there).
    Whole,
    /// Read only through constant member chains: these keys, each with what
    /// is read below it (sorted, so generated code is stable).
    Members(std::collections::BTreeMap<String, Access>),
}

/// One operator.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// The operator as written in KQL.
    pub kql: String,
    /// The column names of its input rows (to name bindings in generated code).
    pub input_names: Vec<String>,
    /// The column names of its output rows (`extend` items may read columns
    /// that earlier items of the same operator added).
    pub output_names: Vec<String>,
    /// What it does.
    pub op: Op,
}

/// What an operator does to the stream of rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Keep rows for which the expression is `true`.
    Filter(Expr),
    /// Set positions in order (replace, or append when the position is the
    /// row's length); later values see earlier ones.
    Extend(Vec<(usize, Expr)>),
    /// Replace the row by these values.
    Project(Vec<Expr>),
    /// Replace the row by these of its columns, in this order.
    Select(Vec<usize>),
    /// One row per element of the expanded values (in parallel, padded with
    /// nulls), each value stored at its position.
    MvExpand {
        /// Position and expanded expression.
        items: Vec<(usize, Expr)>,
        /// At most this many rows per input row.
        limit: Option<u64>,
        /// Where to store each element's index (`with_itemindex`).
        item_index: Option<usize>,
        /// Bags expand to `[key, value]` arrays (`kind=array`).
        bag_as_array: bool,
        /// Per item, the conversion of each element (`to typeof(long)` is
        /// `tolong`), or none for dynamic.
        conversions: Vec<Option<FunctionId>>,
    },
    /// `mv-apply`: expand each row into a subtable (`expand`, an
    /// [`Op::MvExpand`]), run `sub` afresh over it, lay out its rows.
    MvApply {
        /// The expansion.
        expand: Box<Op>,
        /// The subquery; its `Input::Rows` has the subtable's columns and no
        /// rows (they are pushed in).
        sub: Box<Pipeline>,
        /// Where each output column comes from.
        layout: Vec<ApplyColumn>,
    },
    /// Row functions over the ordered rows, stored at their positions in
    /// order (as `Extend`).
    Window(Vec<(usize, WindowFn)>),
    /// `scan`: match each row against the steps, last to first, keeping
    /// each step's state; output the matches.
    Scan(Box<ScanPlan>),
    /// `make-graph` and the graph operators after it: hold the rows as
    /// edges (and the node tables' rows); at the end build the graph and
    /// emit its nodes, edges or pattern matches (`kql_runtime::graph`).
    Graph(Box<GraphPlan>),
    /// Pass the first N rows.
    Take(u64),
    /// Hold N rows picked at random (reservoir sampling); at the end emit
    /// them in input order.
    Sample(u64),
    /// Count rows; at the end, emit one row with the count.
    Count,
    /// Group by the keys, aggregate each group; at the end emit one row per
    /// group: the keys, then each aggregate's results.
    Summarize {
        /// Grouping expressions.
        keys: Vec<Expr>,
        /// The aggregates.
        aggregates: Vec<Aggregate>,
    },
    /// `make-series`: group by the keys and the bin of the axis, aggregate
    /// each bin; at the end emit one row per group: the keys, an array per
    /// aggregate over the bins, the bins' axis values.
    MakeSeries(Box<MakeSeries>),
    /// Buffer every row; at the end emit them in the order of the keys
    /// (keeping only the first N when `limit` is set: `top`).
    Sort {
        /// The sort keys.
        keys: Vec<SortKey>,
        /// `top N`.
        limit: Option<u64>,
    },
    /// Pass the first row of each distinct combination of these columns,
    /// reduced to them.
    Distinct(Vec<usize>),
    /// Match rows (left) with the rows of another pipeline (right).
    Join {
        /// The flavour.
        kind: JoinKind,
        /// The right side.
        right: Box<Pipeline>,
        /// Key positions in left rows.
        left_keys: Vec<usize>,
        /// Key positions in right rows.
        right_keys: Vec<usize>,
        /// Right positions appended to left rows in inner and outer joins.
        right_columns: Vec<usize>,
        /// `evaluate ipv4_lookup`: keys match when the right key (an IPv4
        /// range) holds the left one (`kind` is `Inner` or `LeftOuter`).
        ipv4_range: bool,
        /// Width of left rows.
        left_width: usize,
        /// Width of right rows.
        right_width: usize,
        /// Which left columns are strings (padded with `""`, not null).
        left_strings: Vec<bool>,
        /// Which of the appended right columns are strings.
        right_strings: Vec<bool>,
    },
    /// `parse`: captures of a regular expression, converted, stored at the
    /// target positions.
    Parse {
        /// The parsed text.
        expr: Expr,
        /// The regular expression.
        regex: String,
        /// Target positions and types.
        targets: Vec<(usize, ScalarType)>,
        /// A capture that does not convert is null (`kind=relaxed`).
        relaxed: bool,
        /// Drop rows that do not match (`parse-where`).
        drop_unmatched: bool,
    },
    /// `top-nested`: hold each row's keys and aggregate arguments; at the
    /// end emit the kept leaves of the hierarchy
    /// (`kql_runtime::nested::TopNested`).
    TopNested(Vec<TopNestedLevel>),
    /// Ignore the input rows; at the end emit these constant rows
    /// (`getschema`).
    ConstantRows(Vec<Vec<Expr>>),
    /// `partition`: hold the rows of each value of the key column; at the
    /// end run `sub` afresh over each partition's rows, in order of first
    /// appearance, and pass its rows on.
    Partition {
        /// The key position.
        key: usize,
        /// The subquery; its `Input::Rows` has the input's columns and no
        /// rows (they are pushed in).
        sub: Box<Pipeline>,
        /// At most this many partitions (more stop the rule with an error).
        limit: Option<usize>,
    },
    /// These rows and the rows of other pipelines, laid out by name: each
    /// output position takes an input column, or a null (`""` for strings)
    /// when the table has no such column.
    Union {
        /// The layout of this pipeline's rows.
        input: Vec<Expr>,
        /// The other pipelines and their layouts.
        legs: Vec<(Pipeline, Vec<Expr>)>,
    },
}

/// `scan`'s steps. Conditions and assignments read a wide row: the record
/// (input columns, then the declared columns at their defaults), then one
/// block as wide as the record per step (that step's values in the state).
#[derive(Clone, Debug, PartialEq)]
pub struct ScanPlan {
    /// The number of input columns.
    pub input_width: usize,
    /// The declared columns' defaults.
    pub defaults: Vec<Expr>,
    /// The steps, first to last.
    pub steps: Vec<ScanStepPlan>,
    /// Append the match number to output rows.
    pub match_id: bool,
}

impl ScanPlan {
    /// The number of columns of a record: the input's and the declared.
    pub fn record_width(&self) -> usize {
        self.input_width + self.defaults.len()
    }

    /// The names of the wide row's columns (`s1.Col` for the steps'
    /// blocks), given the stage's output names.
    pub fn wide_names(&self, output_names: &[String]) -> Vec<String> {
        let record = &output_names[..self.record_width().min(output_names.len())];
        let mut names = record.to_vec();
        for step in &self.steps {
            names.extend(record.iter().map(|c| format!("{}.{c}", step.name)));
        }
        names
    }

    /// Every expression it evaluates.
    pub fn expressions(&self) -> impl Iterator<Item = &Expr> {
        self.defaults.iter().chain(
            self.steps
                .iter()
                .flat_map(|step| std::iter::once(&step.condition).chain(&step.values)),
        )
    }
}

/// The parts of [`Op::Graph`].
#[derive(Clone, Debug, PartialEq)]
pub struct GraphPlan {
    /// The position of each edge's source node id.
    pub source: usize,
    /// The position of each edge's target node id.
    pub target: usize,
    /// The node tables (`with T on ID`).
    pub node_tables: Vec<NodeTablePlan>,
    /// The node properties' names and types (a node without a row of
    /// properties has `""` in a string property, null in others).
    pub node_properties: Vec<(String, ScalarType)>,
    /// `with_node_id=`: the property that holds each node's id.
    pub node_id_property: Option<usize>,
    /// `graph-mark-components`, in order: strong or weak, and the property
    /// that gets each node's component number.
    pub components: Vec<(bool, usize)>,
    /// `partitioned-by`: the partition column of the edges and of each node
    /// table; a graph per value.
    pub partition: Option<(usize, Vec<usize>)>,
    /// What the rows out are.
    pub output: GraphOutput,
}

/// A table of node properties of [`GraphPlan`].
#[derive(Clone, Debug, PartialEq)]
pub struct NodeTablePlan {
    /// Its rows.
    pub pipeline: Pipeline,
    /// The position of the node id in its rows.
    pub id: usize,
    /// The node property each of its columns fills.
    pub properties: Vec<usize>,
}

/// The rows of a [`GraphPlan`].
#[derive(Clone, Debug, PartialEq)]
pub enum GraphOutput {
    /// A row per node: its hash id (when `with_id`), then its properties.
    Nodes {
        /// `with_node_id=`.
        with_id: bool,
    },
    /// A row per edge: the hash ids asked for, then its columns.
    Edges {
        /// `with_source_id=`.
        source_id: bool,
        /// `with_target_id=`.
        target_id: bool,
    },
    /// A row per match of the pattern (`graph-match`), or per shortest path
    /// (`graph-shortest-paths`).
    Match {
        /// The pattern and the match row's layout.
        pattern: crate::types::GraphPattern,
        /// The `where` conjuncts over the match row, each with the binding
        /// event after which it is checked.
        conditions: Vec<(usize, Expr)>,
        /// The graph functions' columns.
        folds: Vec<FoldPlan>,
    },
}

/// `all()`, `any()` or `map()` over a variable length edge's edges (or
/// inner nodes): a column of the match row.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldPlan {
    /// Which function.
    pub kind: crate::types::FoldKind,
    /// The edge variable.
    pub edge: usize,
    /// Over the inner nodes.
    pub inner_nodes: bool,
    /// Its position in the match row.
    pub position: usize,
    /// The condition or value over one element's row (an edge's columns or
    /// a node's properties).
    pub body: Expr,
}

impl GraphPlan {
    /// Every expression it evaluates, conditions then fold bodies.
    pub fn expressions(&self) -> Vec<&Expr> {
        match &self.output {
            GraphOutput::Match {
                conditions, folds, ..
            } => conditions
                .iter()
                .map(|(_, e)| e)
                .chain(folds.iter().map(|f| &f.body))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// One step of `scan`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanStepPlan {
    /// Its name.
    pub name: String,
    /// Which matches it outputs.
    pub output: ScanOutput,
    /// Its condition.
    pub condition: Expr,
    /// The value of each declared column in a match's row.
    pub values: Vec<Expr>,
}

/// A row function and its arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowFn {
    /// Which function.
    pub kind: WindowKind,
    /// Its arguments.
    pub args: Vec<Expr>,
}

/// One aggregate of `summarize`.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    /// The constructor of its state in `kql_runtime::aggregate::Aggregate`.
    pub runtime: String,
    /// A constant parameter of the constructor (size limit, percentile).
    pub parameter: Option<Expr>,
    /// Whether the constructor takes the parameter.
    pub takes_parameter: bool,
    /// The aggregated value (none: `count`).
    pub value: Option<Expr>,
    /// Only rows where this is true count (`countif`, `sumif`, ...).
    pub predicate: Option<Expr>,
    /// The other values each row gives the state: those carried from the
    /// extreme row (`arg_max`), or the weight (`percentilesw`).
    pub carried: Vec<Expr>,
    /// How many output columns it gives.
    pub width: usize,
    /// Whether states over consecutive runs of rows merge into exactly the
    /// state one pass gives (`Aggregate::merge`), so `--threads` can
    /// aggregate each batch on its worker.
    pub mergeable: bool,
}

/// One level of [`Op::TopNested`].
#[derive(Clone, Debug, PartialEq)]
pub struct TopNestedLevel {
    /// How many values to keep (none: all).
    pub limit: Option<u64>,
    /// The grouped value.
    pub key: Expr,
    /// The key of the row for the values not kept (`with others`).
    pub others: Option<Expr>,
    /// The ranking aggregate.
    pub aggregate: Aggregate,
    /// Largest aggregate first.
    pub descending: bool,
    /// What an `others` row of an outer level holds in this level's two
    /// columns: null, or `""` for a string column.
    pub pads: [Const; 2],
}

/// The parts of [`Op::MakeSeries`].
#[derive(Clone, Debug, PartialEq)]
pub struct MakeSeries {
    /// Grouping expressions.
    pub keys: Vec<Expr>,
    /// The aggregates (one column each).
    pub aggregates: Vec<Aggregate>,
    /// Each aggregate's value for bins without rows, of its result type.
    pub defaults: Vec<Expr>,
    /// The binned value.
    pub axis: Expr,
    /// The zero of the axis's type (the origin of `bin`).
    pub zero: Const,
    /// `from` (null when not given), or `range`'s start.
    pub from: Expr,
    /// `to` (null when not given), or `range`'s stop.
    pub to: Expr,
    /// The bin size.
    pub step: Expr,
    /// `in range(START, STOP, STEP)`: `kql_runtime::series::SeriesAxis::in_range`.
    pub in_range: bool,
    /// `kind=nonempty`: no input gives one row of `empty_key` and defaults.
    pub nonempty: bool,
    /// The key values of that row (null, `""` for strings).
    pub empty_key: Vec<Const>,
}

impl MakeSeries {
    /// Every expression it evaluates over input rows or once: keys, the
    /// aggregates' arguments, the axis and its bounds, the defaults.
    pub fn expressions(&self) -> Vec<&Expr> {
        let mut out: Vec<&Expr> = self.keys.iter().collect();
        for a in &self.aggregates {
            out.extend(
                a.value
                    .iter()
                    .chain(&a.predicate)
                    .chain(&a.parameter)
                    .chain(&a.carried),
            );
        }
        out.push(&self.axis);
        out.extend([&self.from, &self.to, &self.step]);
        out.extend(&self.defaults);
        out
    }
}

/// One sort key.
#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    /// The compared value.
    pub expr: Expr,
    /// Largest first.
    pub descending: bool,
    /// Nulls first.
    pub nulls_first: bool,
}

impl Op {
    /// True when the operator keeps state across rows.
    pub fn is_stateful(&self) -> bool {
        matches!(
            self,
            Op::Take(_)
                | Op::Window(_)
                | Op::Scan(_)
                | Op::Graph(_)
                | Op::Sample(_)
                | Op::Count
                | Op::Summarize { .. }
                | Op::MakeSeries(_)
                | Op::Sort { .. }
                | Op::Distinct(_)
                | Op::Join { .. }
                | Op::TopNested(_)
                | Op::ConstantRows(_)
                | Op::Partition { .. }
        )
    }
}

/// A scalar expression over one row.
///
/// Each carries its KQL type: a call, a fold and a sub-query in a field,
/// a column in its position's (the row layout's type, which the checker
/// gave), a constant and a member or index access by their kind (a
/// member or index of a dynamic value is dynamic).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A constant.
    Const(Const),
    /// The value at a position of the row, of this type.
    Column(usize, ScalarType),
    /// A property of a dynamic bag (`a.b`, `a["b"]`).
    Member(Box<Expr>, String),
    /// An index into a dynamic value (`a[0]`, `a[key]`).
    Index(Box<Expr>, Box<Expr>),
    /// A table computed before the input is read (`toscalar(T)`, `x in
    /// (T)`): its first column's values as a dynamic array (`column`), or
    /// the first row's first value.
    Subquery {
        /// Its number in the rule (names its fields in generated code).
        id: usize,
        /// The query; it reads no input table.
        pipeline: Box<Pipeline>,
        /// All of the first column, not only its first value.
        column: bool,
        /// The value's type (dynamic for a column).
        ty: ScalarType,
    },
    /// The scalar constants of a long `in` list (`x in ("a", "b", ...)`),
    /// indexed once as static data rather than compared one by one: an IOC
    /// list of 100,000 entries compiles and runs like one of 10.
    ConstSet(Vec<Const>),
    /// A left fold of binary arithmetic operators: `first`, then each
    /// step's operator applied to the value so far and the step's operand
    /// (`ops::add(ops::sub(a, b), c)`...). A long flat chain such as
    /// `a + b - c + ...`, kept flat so that codegen and the Rust it
    /// writes do not nest once per operator.
    Fold {
        /// The first operand.
        first: Box<Expr>,
        /// Each step: the operator and its right operand.
        steps: Vec<(Arith, Expr)>,
        /// The result's type.
        ty: ScalarType,
    },
    /// A call of a builtin operator or function.
    Call {
        /// What is called.
        builtin: Builtin,
        /// The arguments, in order.
        args: Vec<Arg>,
        /// The result's type.
        ty: ScalarType,
    },
}

impl Expr {
    /// The expressions this one evaluates over the same row, in order:
    /// targets and indexes, a fold's operands, a call's value arguments.
    /// Not a sub-query's pipeline (it reads no column of the row) nor a
    /// constant set's items.
    pub fn operands(&self) -> Vec<&Expr> {
        match self {
            Expr::Const(_) | Expr::Column(..) | Expr::Subquery { .. } | Expr::ConstSet(_) => {
                Vec::new()
            }
            Expr::Member(target, _) => vec![target],
            Expr::Index(target, index) => vec![target, index],
            Expr::Fold { first, steps, .. } => std::iter::once(&**first)
                .chain(steps.iter().map(|(_, operand)| operand))
                .collect(),
            Expr::Call { args, .. } => args
                .iter()
                .flat_map(|arg| match arg {
                    Arg::Value(e) | Arg::Set(e) => std::slice::from_ref(e),
                    Arg::Slice(es) => es.as_slice(),
                    Arg::Context => &[],
                })
                .collect(),
        }
    }

    /// The expression's KQL type.
    pub fn ty(&self) -> ScalarType {
        match self {
            Expr::Const(c) => c.ty(),
            Expr::Column(_, ty)
            | Expr::Subquery { ty, .. }
            | Expr::Fold { ty, .. }
            | Expr::Call { ty, .. } => *ty,
            Expr::Member(..) | Expr::Index(..) | Expr::ConstSet(_) => ScalarType::Dynamic,
        }
    }

    /// A call of `builtin` on `args`, of type `ty`.
    pub fn call(builtin: Builtin, args: Vec<Arg>, ty: ScalarType) -> Expr {
        Expr::Call { builtin, args, ty }
    }

    /// `not(expr)`.
    pub fn negated(expr: Expr) -> Expr {
        Expr::call(Builtin::Not, vec![Arg::Value(expr)], ScalarType::Bool)
    }
}

/// What an [`Expr::Call`] calls: an operator of `kql_runtime::ops` or a
/// function of the function table (`kql_runtime::functions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// `==`, `!=`, `=~`, `!~`, `<`, `<=`, `>`, `>=`.
    Compare(Comparison),
    /// `and`.
    And,
    /// `or`.
    Or,
    /// `not()`, and the negation of `!in`, `!contains`, `!between`, ...
    Not,
    /// Unary `-`.
    Neg,
    /// A binary arithmetic operator.
    Arith(Arith),
    /// A string operator (`contains`, `has`, `startswith`, ...); the
    /// negated forms are its [`Builtin::Not`].
    Text {
        /// Which operator.
        op: TextOp,
        /// The `_cs` form (`contains_cs`): compare letters exactly.
        case_sensitive: bool,
    },
    /// `matches regex`.
    MatchesRegex,
    /// `in` / `in~` over a list of values (dynamic arrays flattened).
    InList {
        /// `in~`.
        case_insensitive: bool,
    },
    /// `in` / `in~` over an indexed set ([`Arg::Set`]: a sub-query's first
    /// column or an [`Expr::ConstSet`]).
    InSet {
        /// `in~`.
        case_insensitive: bool,
    },
    /// `has_any`.
    HasAny,
    /// `has_all`.
    HasAll,
    /// `between` (its negation is its [`Builtin::Not`]).
    Between,
    /// A function of the function table.
    Function(FunctionId),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `=~`.
    EqCi,
    /// `!~`.
    NeCi,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// A binary arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Rem,
}

/// A string operator, without its negation and case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextOp {
    /// `contains`.
    Contains,
    /// `has`.
    Has,
    /// `hasprefix`.
    HasPrefix,
    /// `hassuffix`.
    HasSuffix,
    /// `startswith`.
    StartsWith,
    /// `endswith`.
    EndsWith,
}

impl TextOp {
    /// The operator's name in the runtime (`startswith`): its generic
    /// `ops::startswith` and its typed `ops::startswith_text`.
    pub fn name(self) -> &'static str {
        match self {
            TextOp::Contains => "contains",
            TextOp::Has => "has",
            TextOp::HasPrefix => "hasprefix",
            TextOp::HasSuffix => "hassuffix",
            TextOp::StartsWith => "startswith",
            TextOp::EndsWith => "endswith",
        }
    }
}

/// A function of the function table, by the name of its implementation in
/// `kql_runtime::functions` (`tostring`, `extract_all_args`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FunctionId(pub &'static str);

impl FunctionId {
    /// `tostring`.
    pub const TOSTRING: FunctionId = FunctionId("tostring");
    /// `parse_json` (also `todynamic`).
    pub const PARSE_JSON: FunctionId = FunctionId("parse_json");
    /// `ago`.
    pub const AGO: FunctionId = FunctionId("ago");

    /// The conversion to `ty` (`tolong`, ...), none for dynamic.
    pub fn conversion(ty: ScalarType) -> Option<FunctionId> {
        Some(FunctionId(match ty {
            ScalarType::Long => "tolong",
            ScalarType::Int => "toint",
            ScalarType::Real => "toreal",
            ScalarType::Decimal => "todecimal",
            ScalarType::String => "tostring",
            ScalarType::Bool => "tobool",
            ScalarType::DateTime => "todatetime",
            ScalarType::TimeSpan => "totimespan",
            ScalarType::Guid => "toguid",
            ScalarType::Dynamic => return None,
        }))
    }

    /// True for a function whose value differs from call to call with the
    /// same arguments (`rand`, `new_guid`): never computed once for many.
    pub fn is_volatile(self) -> bool {
        matches!(self.0, "rand" | "new_guid")
    }

    /// The runtime function's path under `kql_runtime`
    /// (`functions::tostring`).
    pub fn path(self) -> String {
        format!("functions::{}", self.0)
    }
}

impl Builtin {
    /// The runtime function's path under `kql_runtime` (`ops::eq`,
    /// `functions::tostring`).
    pub fn path(self) -> String {
        let name = match self {
            Builtin::Compare(c) => match c {
                Comparison::Eq => "eq",
                Comparison::Ne => "ne",
                Comparison::EqCi => "eq_ci",
                Comparison::NeCi => "ne_ci",
                Comparison::Lt => "lt",
                Comparison::Le => "le",
                Comparison::Gt => "gt",
                Comparison::Ge => "ge",
            },
            Builtin::And => "and",
            Builtin::Or => "or",
            Builtin::Not => "not",
            Builtin::Neg => "neg",
            Builtin::Arith(a) => return a.path().to_string(),
            Builtin::Text { op, .. } => op.name(),
            Builtin::MatchesRegex => "matches_regex",
            Builtin::InList { .. } => "in_list",
            Builtin::InSet { .. } => "in_set",
            Builtin::HasAny => "has_any",
            Builtin::HasAll => "has_all",
            Builtin::Between => "between",
            Builtin::Function(f) => return f.path(),
        };
        format!("ops::{name}")
    }

    /// The flag the runtime function takes after its arguments: a string
    /// operator's case sensitivity, `in`'s case insensitivity.
    pub fn flag(self) -> Option<bool> {
        match self {
            Builtin::Text { case_sensitive, .. } => Some(case_sensitive),
            Builtin::InList { case_insensitive } | Builtin::InSet { case_insensitive } => {
                Some(case_insensitive)
            }
            _ => None,
        }
    }
}

impl Arith {
    /// The runtime function's path under `kql_runtime` (`ops::add`).
    pub fn path(self) -> &'static str {
        match self {
            Arith::Add => "ops::add",
            Arith::Sub => "ops::sub",
            Arith::Mul => "ops::mul",
            Arith::Div => "ops::div",
            Arith::Rem => "ops::rem",
        }
    }
}

/// An argument of a runtime call.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// A value, passed by reference.
    Value(Expr),
    /// Values passed as one slice (variadic functions, lists).
    Slice(Vec<Expr>),
    /// A sub-query's first column as an indexed set (`x in (T)`): an
    /// [`Expr::Subquery`] with `column`.
    Set(Expr),
    /// The run's context (`now`).
    Context,
}

/// A constant value.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    /// Null.
    Null,
    /// A bool.
    Bool(bool),
    /// An int.
    Int(i32),
    /// A long.
    Long(i64),
    /// A real.
    Real(f64),
    /// A decimal.
    Decimal(kql_literal::decimal::Decimal),
    /// A string.
    String(String),
    /// A datetime in ticks since the Unix epoch.
    DateTime(i64),
    /// A timespan in ticks.
    TimeSpan(i64),
    /// A guid's text.
    Guid(String),
    /// A dynamic array.
    Array(Vec<Const>),
    /// A dynamic bag.
    Bag(Vec<(String, Const)>),
}

impl Const {
    /// The constant's KQL type (a null's is dynamic: the IR keeps no type
    /// for it).
    pub fn ty(&self) -> ScalarType {
        match self {
            Const::Null | Const::Array(_) | Const::Bag(_) => ScalarType::Dynamic,
            Const::Bool(_) => ScalarType::Bool,
            Const::Int(_) => ScalarType::Int,
            Const::Long(_) => ScalarType::Long,
            Const::Real(_) => ScalarType::Real,
            Const::String(_) => ScalarType::String,
            Const::DateTime(_) => ScalarType::DateTime,
            Const::TimeSpan(_) => ScalarType::TimeSpan,
            Const::Guid(_) => ScalarType::Guid,
            Const::Decimal(_) => ScalarType::Decimal,
        }
    }
}
