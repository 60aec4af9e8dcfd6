//! The KQL scalar types: the vocabulary every stage shares.

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
    pub const ALL: [ScalarType; 9] = [
        ScalarType::Bool,
        ScalarType::DateTime,
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
            ScalarType::String => "string",
            ScalarType::DateTime => "datetime",
            ScalarType::TimeSpan => "timespan",
            ScalarType::Guid => "guid",
            ScalarType::Dynamic => "dynamic",
        }
    }

    /// True for `int`, `long` and `real`.
    pub fn is_numeric(self) -> bool {
        matches!(self, ScalarType::Int | ScalarType::Long | ScalarType::Real)
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
