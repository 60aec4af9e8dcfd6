//! Table schemas: the built-in `CloudAuditEvents` and user schema files.

use crate::types::ScalarType;
use serde::Deserialize;
use std::path::Path;

/// A column: name and type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The column name (case-sensitive, as in KQL).
    pub name: String,
    /// Its type.
    pub ty: ScalarType,
}

impl Column {
    /// A column.
    pub fn new(name: impl Into<String>, ty: ScalarType) -> Column {
        Column {
            name: name.into(),
            ty,
        }
    }
}

/// A table: name and columns in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The table name.
    pub name: String,
    /// Its columns in order.
    pub columns: Vec<Column>,
}

/// The tables a query may read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    /// The tables, each name once.
    pub tables: Vec<Table>,
}

/// The columns of `CloudAuditEvents` as Microsoft documents them
/// (advanced-hunting-cloudauditevents-table), plus `AzureResourceId`, which
/// the reference queries project although the schema page omits it.
const CLOUD_AUDIT_EVENTS: &[(&str, ScalarType)] = &[
    ("Timestamp", ScalarType::DateTime),
    ("ReportId", ScalarType::String),
    ("DataSource", ScalarType::String),
    ("ActionType", ScalarType::String),
    ("OperationName", ScalarType::String),
    ("ResourceId", ScalarType::String),
    ("AzureResourceId", ScalarType::String),
    ("IPAddress", ScalarType::String),
    ("IsAnonymousProxy", ScalarType::Bool),
    ("CountryCode", ScalarType::String),
    ("City", ScalarType::String),
    ("Isp", ScalarType::String),
    ("UserAgent", ScalarType::String),
    ("RawEventData", ScalarType::Dynamic),
    ("AdditionalFields", ScalarType::Dynamic),
];

impl Default for Schema {
    fn default() -> Schema {
        Schema::builtin()
    }
}

impl Schema {
    /// The built-in schema: `CloudAuditEvents`.
    pub fn builtin() -> Schema {
        Schema {
            tables: vec![Table {
                name: "CloudAuditEvents".to_string(),
                columns: CLOUD_AUDIT_EVENTS
                    .iter()
                    .map(|&(name, ty)| Column::new(name, ty))
                    .collect(),
            }],
        }
    }

    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Adds the tables of `other`, replacing tables of the same name.
    pub fn extend(&mut self, other: Schema) {
        for table in other.tables {
            self.tables.retain(|t| t.name != table.name);
            self.tables.push(table);
        }
    }

    /// Reads a schema file (see [`Schema::parse_json`]).
    pub fn from_file(path: &Path) -> Result<Schema, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read schema file {}: {e}", path.display()))?;
        Schema::parse_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses a schema in JSON:
    ///
    /// ```json
    /// {"tables": [{"name": "Logins", "columns": [
    ///     {"name": "Timestamp", "type": "datetime"},
    ///     {"name": "User", "type": "string"}]}]}
    /// ```
    ///
    /// Types are KQL's names (`string`, `long`, `dynamic`, ...).
    pub fn parse_json(text: &str) -> Result<Schema, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FileSchema {
            tables: Vec<FileTable>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FileTable {
            name: String,
            columns: Vec<FileColumn>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FileColumn {
            name: String,
            #[serde(rename = "type")]
            ty: String,
        }
        let file: FileSchema =
            serde_json::from_str(text).map_err(|e| format!("invalid schema: {e}"))?;
        let mut tables = Vec::new();
        for table in file.tables {
            let mut columns: Vec<Column> = Vec::new();
            for column in table.columns {
                let ty = ScalarType::from_name(&column.ty).ok_or_else(|| {
                    format!(
                        "table '{}', column '{}': unknown type '{}'",
                        table.name, column.name, column.ty
                    )
                })?;
                if columns.iter().any(|c| c.name == column.name) {
                    return Err(format!(
                        "table '{}': column '{}' appears twice",
                        table.name, column.name
                    ));
                }
                columns.push(Column::new(column.name, ty));
            }
            tables.push(Table {
                name: table.name,
                columns,
            });
        }
        Ok(Schema { tables })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_cloud_audit_events_with_azure_resource_id() {
        let schema = Schema::builtin();
        let table = schema.table("CloudAuditEvents").unwrap();
        assert!(table.columns.iter().any(|c| c.name == "AzureResourceId"));
        assert_eq!(
            table.columns[0],
            Column::new("Timestamp", ScalarType::DateTime)
        );
    }

    #[test]
    fn schema_file_rejects_unknown_types_and_duplicates() {
        let ok = Schema::parse_json(
            r#"{"tables":[{"name":"T","columns":[{"name":"a","type":"long"}]}]}"#,
        )
        .unwrap();
        assert_eq!(ok.tables[0].columns[0].ty, ScalarType::Long);
        let bad = Schema::parse_json(
            r#"{"tables":[{"name":"T","columns":[{"name":"a","type":"lng"}]}]}"#,
        );
        assert!(bad.unwrap_err().contains("unknown type 'lng'"));
        let dup = Schema::parse_json(
            r#"{"tables":[{"name":"T","columns":[{"name":"a","type":"long"},{"name":"a","type":"long"}]}]}"#,
        );
        assert!(dup.unwrap_err().contains("appears twice"));
    }
}
