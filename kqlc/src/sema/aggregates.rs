//! The aggregate function table for `summarize`: name → arguments → result
//! type → result column name → runtime state. It exists once; the checker
//! and the planner read it.

use crate::types::ScalarType;

/// The arguments an aggregate takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `count()`.
    None,
    /// `countif(predicate)`.
    Predicate,
    /// `sum(x)`.
    Value,
    /// `make_set(x [, max_size])`.
    ValueLimit,
    /// `sumif(x, predicate)`.
    ValuePredicate,
    /// `tdigest(x [, weight])`: a weight per row may follow the value.
    ValueWeight,
    /// `make_set_if(x, predicate [, max_size])`.
    ValuePredicateLimit,
    /// `percentile(x, p)`, `percentiles(x, p, ...)`: constant percentiles
    /// after the value (and the weight).
    Percentiles {
        /// A weight follows the value (`percentilew`, `percentilesw`).
        weighted: bool,
        /// Several percentiles may be given (`percentiles`).
        many: bool,
        /// The result is one dynamic array (`percentiles_array`), not a
        /// column per percentile; a `dynamic([...])` may list them.
        array: bool,
    },
    /// `arg_max(x, col, ... | *)`.
    Extreme,
}

/// The result type of an aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Result {
    /// Always this type.
    Fixed(ScalarType),
    /// The type of the aggregated value (`min`, `max`, `take_any`).
    ValueType,
    /// `sum`, `percentile`: long for int and long values, else the
    /// value's type.
    Sum,
    /// `avg`: decimal for decimal values (as Microsoft's parser types it),
    /// else real.
    Average,
}

/// One aggregate function.
#[derive(Clone, Copy, Debug)]
pub struct AggregateFunction {
    /// The KQL name.
    pub name: &'static str,
    /// Its arguments.
    pub shape: Shape,
    /// Its result type.
    pub result: Result,
    /// The result column's name prefix: `count` gives `count_`, `dcount(X)`
    /// gives `dcount_X`. Empty: the value's own name (`take_any(X)` is `X`).
    pub prefix: &'static str,
    /// The runtime state's constructor in `kql_runtime::aggregate::Aggregate`.
    pub runtime: &'static str,
}

const fn agg(
    name: &'static str,
    shape: Shape,
    result: Result,
    prefix: &'static str,
    runtime: &'static str,
) -> AggregateFunction {
    AggregateFunction {
        name,
        shape,
        result,
        prefix,
        runtime,
    }
}

use ScalarType as T;

/// Every aggregate kqlc knows, sorted by name.
pub static AGGREGATES: &[AggregateFunction] = &[
    // The deprecated aliases of take_any/take_anyif: the same value, named
    // `any_X` (take-any-aggregation-function.md: "The deprecated version
    // adds `any_` prefix to the columns returned by the `any()`
    // aggregation"); `anyif` likewise gives `anyif_X` (docs/semantics.md).
    agg("any", Shape::Value, Result::ValueType, "any", "take_any"),
    agg(
        "anyif",
        Shape::ValuePredicate,
        Result::ValueType,
        "anyif",
        "take_any",
    ),
    agg(
        "arg_max",
        Shape::Extreme,
        Result::ValueType,
        "max",
        "arg_max",
    ),
    agg(
        "arg_min",
        Shape::Extreme,
        Result::ValueType,
        "min",
        "arg_min",
    ),
    agg("avg", Shape::Value, Result::Average, "avg", "avg"),
    agg(
        "avgif",
        Shape::ValuePredicate,
        Result::Average,
        "avgif",
        "avg",
    ),
    agg(
        "count",
        Shape::None,
        Result::Fixed(T::Long),
        "count",
        "count",
    ),
    agg(
        "countif",
        Shape::Predicate,
        Result::Fixed(T::Long),
        "countif",
        "count",
    ),
    agg(
        "dcount",
        Shape::Value,
        Result::Fixed(T::Long),
        "dcount",
        "dcount",
    ),
    agg(
        "dcountif",
        Shape::ValuePredicate,
        Result::Fixed(T::Long),
        "dcountif",
        "dcount",
    ),
    agg(
        "hll",
        Shape::ValueLimit,
        Result::Fixed(T::Dynamic),
        "hll",
        "hll",
    ),
    agg(
        "hll_if",
        Shape::ValuePredicateLimit,
        Result::Fixed(T::Dynamic),
        "hll_if",
        "hll",
    ),
    agg(
        "hll_merge",
        Shape::Value,
        Result::Fixed(T::Dynamic),
        "hll_merge",
        "hll_merge",
    ),
    agg(
        "make_bag",
        Shape::ValueLimit,
        Result::Fixed(T::Dynamic),
        "bag",
        "make_bag",
    ),
    agg(
        "make_bag_if",
        Shape::ValuePredicateLimit,
        Result::Fixed(T::Dynamic),
        "bag",
        "make_bag",
    ),
    agg(
        "make_list",
        Shape::ValueLimit,
        Result::Fixed(T::Dynamic),
        "list",
        "make_list",
    ),
    agg(
        "make_list_if",
        Shape::ValuePredicateLimit,
        Result::Fixed(T::Dynamic),
        "list",
        "make_list",
    ),
    agg(
        "make_list_with_nulls",
        Shape::Value,
        Result::Fixed(T::Dynamic),
        "list",
        "make_list_with_nulls",
    ),
    agg(
        "make_set",
        Shape::ValueLimit,
        Result::Fixed(T::Dynamic),
        "set",
        "make_set",
    ),
    agg(
        "make_set_if",
        Shape::ValuePredicateLimit,
        Result::Fixed(T::Dynamic),
        "set",
        "make_set",
    ),
    agg("max", Shape::Value, Result::ValueType, "max", "max"),
    agg(
        "maxif",
        Shape::ValuePredicate,
        Result::ValueType,
        "maxif",
        "max",
    ),
    agg(
        "merge_tdigest",
        Shape::Value,
        Result::Fixed(T::Dynamic),
        "merge_tdigest",
        "tdigest_merge",
    ),
    agg("min", Shape::Value, Result::ValueType, "min", "min"),
    agg(
        "minif",
        Shape::ValuePredicate,
        Result::ValueType,
        "minif",
        "min",
    ),
    agg(
        "percentile",
        Shape::Percentiles {
            weighted: false,
            many: false,
            array: false,
        },
        Result::Sum,
        "percentile",
        "percentiles",
    ),
    agg(
        "percentiles",
        Shape::Percentiles {
            weighted: false,
            many: true,
            array: false,
        },
        Result::Sum,
        "percentile",
        "percentiles",
    ),
    agg(
        "percentiles_array",
        Shape::Percentiles {
            weighted: false,
            many: true,
            array: true,
        },
        Result::Fixed(T::Dynamic),
        "percentiles",
        "percentiles_array",
    ),
    agg(
        "percentilesw",
        Shape::Percentiles {
            weighted: true,
            many: true,
            array: false,
        },
        Result::Sum,
        "percentile",
        "percentiles",
    ),
    agg(
        "percentilesw_array",
        Shape::Percentiles {
            weighted: true,
            many: true,
            array: true,
        },
        Result::Fixed(T::Dynamic),
        "percentiles",
        "percentiles_array",
    ),
    agg(
        "percentilew",
        Shape::Percentiles {
            weighted: true,
            many: false,
            array: false,
        },
        Result::Sum,
        "percentile",
        "percentiles",
    ),
    agg(
        "stdev",
        Shape::Value,
        Result::Fixed(T::Real),
        "stdev",
        "stdev",
    ),
    agg(
        "stdevif",
        Shape::ValuePredicate,
        Result::Fixed(T::Real),
        "stdevif",
        "stdev",
    ),
    agg(
        "stdevp",
        Shape::Value,
        Result::Fixed(T::Real),
        "stdevp",
        "stdevp",
    ),
    agg("sum", Shape::Value, Result::Sum, "sum", "sum"),
    agg("sumif", Shape::ValuePredicate, Result::Sum, "sumif", "sum"),
    agg("take_any", Shape::Value, Result::ValueType, "", "take_any"),
    agg(
        "take_anyif",
        Shape::ValuePredicate,
        Result::ValueType,
        "",
        "take_any",
    ),
    agg(
        "tdigest",
        Shape::ValueWeight,
        Result::Fixed(T::Dynamic),
        "tdigest",
        "tdigest",
    ),
    agg(
        "tdigest_merge",
        Shape::Value,
        Result::Fixed(T::Dynamic),
        "tdigest_merge",
        "tdigest_merge",
    ),
    agg(
        "variance",
        Shape::Value,
        Result::Fixed(T::Real),
        "variance",
        "variance",
    ),
    agg(
        "varianceif",
        Shape::ValuePredicate,
        Result::Fixed(T::Real),
        "varianceif",
        "variance",
    ),
    agg(
        "variancep",
        Shape::Value,
        Result::Fixed(T::Real),
        "variancep",
        "variancep",
    ),
    agg(
        "variancepif",
        Shape::ValuePredicate,
        Result::Fixed(T::Real),
        "variancepif",
        "variancep",
    ),
];

/// Aggregates of the KQL reference kqlc does not implement yet.
pub const KNOWN_UNSUPPORTED: &[&str] = &[
    "binary_all_and",
    "binary_all_or",
    "binary_all_xor",
    "buildschema",
    "count_distinct",
    "count_distinctif",
    "dcount_hll",
];

/// The aggregate named `name`.
pub fn lookup(name: &str) -> Option<&'static AggregateFunction> {
    AGGREGATES.iter().find(|a| a.name == name)
}

impl AggregateFunction {
    /// The smallest and largest argument counts (`None`: no upper bound).
    pub fn arity(&self) -> (usize, Option<usize>) {
        match self.shape {
            Shape::None => (0, Some(0)),
            Shape::Predicate | Shape::Value => (1, Some(1)),
            Shape::ValueLimit | Shape::ValueWeight => (1, Some(2)),
            Shape::ValuePredicate => (2, Some(2)),
            Shape::Percentiles { weighted, many, .. } => {
                let min = 2 + usize::from(weighted);
                (min, if many { None } else { Some(min) })
            }
            Shape::ValuePredicateLimit => (2, Some(3)),
            Shape::Extreme => (1, None),
        }
    }

    /// The result type for a value of type `value`.
    pub fn result_type(&self, value: Option<ScalarType>) -> ScalarType {
        match self.result {
            Result::Fixed(ty) => ty,
            Result::ValueType => value.unwrap_or(T::Dynamic),
            Result::Average if value == Some(T::Decimal) => T::Decimal,
            Result::Average => T::Real,
            Result::Sum => match value {
                Some(T::Int | T::Long) => T::Long,
                Some(ty) => ty,
                None => T::Dynamic,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        for pair in AGGREGATES.windows(2) {
            assert!(pair[0].name < pair[1].name);
        }
    }
}
