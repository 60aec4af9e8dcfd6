//! Table schemas: the built-in tables (`CloudAuditEvents`, and the Azure
//! Monitor tables of AKS audit logs: `AKSAudit`, `AKSAuditAdmin`,
//! `AzureDiagnostics`) and user schema files.

use crate::types::ScalarType;
use serde::Deserialize;
use std::collections::BTreeMap;
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
    /// Names of the columns whose values a detector computes rather than
    /// copies from the input line (a constant such as `Type`, the event
    /// re-serialized as `log_s`, a lower-cased id): the literal prefilter
    /// takes no needle from them, since their text need not be in the line.
    pub computed: Vec<String>,
}

impl Table {
    /// A table of `columns`. A table named like a built-in table that the
    /// detector derives from the normalized event (`AKSAudit`, ...) keeps
    /// that table's computed columns, so that a `--schema` file replacing
    /// it cannot make the prefilter trust their text.
    pub fn new(name: impl Into<String>, columns: Vec<Column>) -> Table {
        let name = name.into();
        let computed = builtin_computed(&name)
            .iter()
            .filter(|c| columns.iter().any(|column| column.name == **c))
            .map(|c| c.to_string())
            .collect();
        Table {
            name,
            columns,
            computed,
        }
    }

    /// True when the detector computes column `name` (see
    /// [`Table::computed`]).
    pub fn is_computed(&self, name: &str) -> bool {
        self.computed.iter().any(|c| c == name)
    }

    /// The position of the column that holds the whole event re-serialized
    /// as JSON, its top-level keys renamed (`AzureDiagnostics`' `log_s`, as
    /// the detector derives it): computed, but the members of its
    /// `parse_json` are the event's values, copied from the line.
    pub fn serialized_event(&self) -> Option<usize> {
        let name = match self.name.as_str() {
            "AzureDiagnostics" => "log_s",
            _ => return None,
        };
        self.columns
            .iter()
            .position(|c| c.name == name && c.ty == ScalarType::String)
    }
}

/// The tables a query may read, and where the data of `externaldata` URLs
/// and Sentinel watchlists is found on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    /// The tables, each name once.
    pub tables: Vec<Table>,
    /// Local copies of remote `externaldata` files, by URL as the rule
    /// writes it: a detector runs air-gapped, so a rule that names the URL
    /// reads the copy (a schema file's `externaldata`).
    pub external_copies: BTreeMap<String, String>,
    /// The watchlists `_GetWatchlist('ALIAS')` reads, each alias once (a
    /// schema file's `watchlists`).
    pub watchlists: Vec<Watchlist>,
}

/// A Microsoft Sentinel watchlist as a local CSV file: what
/// `_GetWatchlist('ALIAS')` reads. The file has a header line (as the CSV
/// a watchlist is created from); its fields are the declared columns, in
/// order. The rows get one more column, `SearchKey`: the value of the
/// search-key column as a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watchlist {
    /// The alias rules name.
    pub alias: String,
    /// The CSV file, as the detector opens it (relative to its working
    /// directory unless absolute).
    pub file: String,
    /// The columns of the file, in order.
    pub columns: Vec<Column>,
    /// The column whose value is `SearchKey`.
    pub search_key: String,
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

/// The columns of `AKSAudit` and `AKSAuditAdmin` as the Azure Monitor
/// table reference documents them (`azure-monitor-ref/tables/aksaudit.md`),
/// in the order Log Analytics shows them. `docs/input-formats.md` says how
/// each is filled.
const AKS_AUDIT: &[(&str, ScalarType)] = &[
    ("TenantId", ScalarType::String),
    ("TimeGenerated", ScalarType::DateTime),
    ("Level", ScalarType::String),
    ("AuditId", ScalarType::String),
    ("Stage", ScalarType::String),
    ("RequestUri", ScalarType::String),
    ("Verb", ScalarType::String),
    ("User", ScalarType::Dynamic),
    ("SourceIps", ScalarType::Dynamic),
    ("UserAgent", ScalarType::String),
    ("ObjectRef", ScalarType::Dynamic),
    ("ResponseStatus", ScalarType::Dynamic),
    ("RequestObject", ScalarType::Dynamic),
    ("ResponseObject", ScalarType::Dynamic),
    ("RequestReceivedTime", ScalarType::DateTime),
    ("StageReceivedTime", ScalarType::DateTime),
    ("Annotations", ScalarType::Dynamic),
    ("PodName", ScalarType::String),
    ("SourceSystem", ScalarType::String),
    ("Type", ScalarType::String),
    ("_BilledSize", ScalarType::Real),
    ("_IsBillable", ScalarType::String),
    ("_ResourceId", ScalarType::String),
    ("_SubscriptionId", ScalarType::String),
];

/// The columns of `AzureDiagnostics` that AKS's `kube-audit` and
/// `kube-audit-admin` categories fill: the table's common columns
/// (`azure-monitor-ref/tables/azurediagnostics.md`) and the category's own
/// (`log_s`, `pod_s`, `stream_s`, `containerID_s`). The table has some 200
/// more columns of other services; `--schema` adds any a query needs.
const AZURE_DIAGNOSTICS: &[(&str, ScalarType)] = &[
    ("TenantId", ScalarType::String),
    ("TimeGenerated", ScalarType::DateTime),
    ("ResourceId", ScalarType::String),
    ("Category", ScalarType::String),
    ("ResourceGroup", ScalarType::String),
    ("SubscriptionId", ScalarType::String),
    ("ResourceProvider", ScalarType::String),
    ("Resource", ScalarType::String),
    ("ResourceType", ScalarType::String),
    ("OperationName", ScalarType::String),
    ("log_s", ScalarType::String),
    ("pod_s", ScalarType::String),
    ("stream_s", ScalarType::String),
    ("containerID_s", ScalarType::String),
    ("SourceSystem", ScalarType::String),
    ("Type", ScalarType::String),
    ("_ResourceId", ScalarType::String),
];

/// The columns of a built-in derived table that the detector computes
/// (constants, re-serialized or re-cased text); see [`Table::computed`].
fn builtin_computed(table: &str) -> &'static [&'static str] {
    match table {
        "AKSAudit" | "AKSAuditAdmin" => &[
            "TenantId",
            "SourceSystem",
            "Type",
            "_BilledSize",
            "_IsBillable",
            "_ResourceId",
            "_SubscriptionId",
        ],
        "AzureDiagnostics" => &[
            "TenantId",
            "Category",
            "ResourceGroup",
            "SubscriptionId",
            "ResourceProvider",
            "Resource",
            "ResourceType",
            "OperationName",
            "log_s",
            "stream_s",
            "containerID_s",
            "SourceSystem",
            "Type",
            "_ResourceId",
        ],
        _ => &[],
    }
}

/// A table of `columns`.
fn builtin_table(name: &str, columns: &[(&str, ScalarType)]) -> Table {
    Table::new(
        name,
        columns
            .iter()
            .map(|&(name, ty)| Column::new(name, ty))
            .collect(),
    )
}

impl Default for Schema {
    fn default() -> Schema {
        Schema::builtin()
    }
}

impl Schema {
    /// The built-in schema: `CloudAuditEvents`, `AKSAudit`,
    /// `AKSAuditAdmin` and `AzureDiagnostics`.
    pub fn builtin() -> Schema {
        Schema {
            tables: vec![
                builtin_table("CloudAuditEvents", CLOUD_AUDIT_EVENTS),
                builtin_table("AKSAudit", AKS_AUDIT),
                builtin_table("AKSAuditAdmin", AKS_AUDIT),
                builtin_table("AzureDiagnostics", AZURE_DIAGNOSTICS),
            ],
            external_copies: BTreeMap::new(),
            watchlists: Vec::new(),
        }
    }

    /// A schema of these tables only.
    pub fn of_tables(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            external_copies: BTreeMap::new(),
            watchlists: Vec::new(),
        }
    }

    /// The watchlist of this alias.
    pub fn watchlist(&self, alias: &str) -> Option<&Watchlist> {
        self.watchlists.iter().find(|w| w.alias == alias)
    }

    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Adds the tables of `other`, replacing tables of the same name.
    /// Local copies and watchlists of `other` are added the same way.
    pub fn extend(&mut self, other: Schema) {
        for table in other.tables {
            self.tables.retain(|t| t.name != table.name);
            self.tables.push(table);
        }
        self.external_copies.extend(other.external_copies);
        for watchlist in other.watchlists {
            self.watchlists.retain(|w| w.alias != watchlist.alias);
            self.watchlists.push(watchlist);
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
    /// Types are KQL's names (`string`, `long`, `dynamic`, ...). Two more
    /// keys, both optional, say where data the rules name is found on this
    /// machine (docs/schema.md):
    ///
    /// ```json
    /// {"externaldata": {"https://example.com/tor.csv": "lists/tor.csv"},
    ///  "watchlists": [{"alias": "Admins", "file": "lists/admins.csv",
    ///      "searchKey": "Upn", "columns": [{"name": "Upn", "type": "string"}]}]}
    /// ```
    pub fn parse_json(text: &str) -> Result<Schema, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FileSchema {
            #[serde(default)]
            tables: Vec<FileTable>,
            #[serde(default)]
            externaldata: BTreeMap<String, String>,
            #[serde(default)]
            watchlists: Vec<FileWatchlist>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FileWatchlist {
            alias: String,
            file: String,
            #[serde(rename = "searchKey")]
            search_key: String,
            columns: Vec<FileColumn>,
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
            tables.push(Table::new(table.name, columns));
        }
        for (url, file) in &file.externaldata {
            if !url.contains("://") {
                return Err(format!(
                    "externaldata: '{url}' is not a URL (a rule reads a local file by its path)"
                ));
            }
            if file.is_empty() || file.contains("://") {
                return Err(format!(
                    "externaldata: the copy of '{url}' must be a local file path, not '{file}'"
                ));
            }
        }
        let mut watchlists: Vec<Watchlist> = Vec::new();
        for list in file.watchlists {
            let what = format!("watchlist '{}'", list.alias);
            if watchlists.iter().any(|w| w.alias == list.alias) {
                return Err(format!("{what} appears twice"));
            }
            if list.file.is_empty() || list.file.contains("://") {
                return Err(format!(
                    "{what}: its file must be a local path, not '{}'",
                    list.file
                ));
            }
            let mut columns: Vec<Column> = Vec::new();
            for column in list.columns {
                let ty = ScalarType::from_name(&column.ty).ok_or_else(|| {
                    format!(
                        "{what}, column '{}': unknown type '{}'",
                        column.name, column.ty
                    )
                })?;
                if column.name == "SearchKey" {
                    return Err(format!(
                        "{what}: 'SearchKey' is the column _GetWatchlist adds; name the file's column otherwise"
                    ));
                }
                if columns.iter().any(|c| c.name == column.name) {
                    return Err(format!("{what}: column '{}' appears twice", column.name));
                }
                columns.push(Column::new(column.name, ty));
            }
            if !columns.iter().any(|c| c.name == list.search_key) {
                return Err(format!(
                    "{what}: its searchKey '{}' is not one of its columns",
                    list.search_key
                ));
            }
            watchlists.push(Watchlist {
                alias: list.alias,
                file: list.file,
                columns,
                search_key: list.search_key,
            });
        }
        Ok(Schema {
            tables,
            external_copies: file.externaldata,
            watchlists,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_file_names_local_copies_and_watchlists() {
        let schema = Schema::parse_json(
            r#"{"externaldata": {"https://example.com/a.csv": "lists/a.csv"},
                "watchlists": [{"alias": "Admins", "file": "admins.csv", "searchKey": "Upn",
                  "columns": [{"name": "Upn", "type": "string"}, {"name": "Level", "type": "long"}]}]}"#,
        )
        .unwrap();
        assert!(schema.tables.is_empty());
        assert_eq!(
            schema
                .external_copies
                .get("https://example.com/a.csv")
                .map(String::as_str),
            Some("lists/a.csv")
        );
        let admins = schema.watchlist("Admins").unwrap();
        assert_eq!(admins.search_key, "Upn");
        assert_eq!(admins.columns[1], Column::new("Level", ScalarType::Long));
        let mut all = Schema::builtin();
        all.extend(schema);
        assert!(all.watchlist("Admins").is_some() && all.table("AKSAudit").is_some());
    }

    #[test]
    fn a_bad_watchlist_or_copy_is_an_error_that_names_it() {
        let cases = [
            (
                r#"{"watchlists": [{"alias": "W", "file": "w.csv", "searchKey": "X", "columns": [{"name": "Y", "type": "string"}]}]}"#,
                "watchlist 'W': its searchKey 'X' is not one of its columns",
            ),
            (
                r#"{"watchlists": [{"alias": "W", "file": "w.csv", "searchKey": "SearchKey", "columns": [{"name": "SearchKey", "type": "string"}]}]}"#,
                "watchlist 'W': 'SearchKey' is the column _GetWatchlist adds",
            ),
            (
                r#"{"watchlists": [{"alias": "W", "file": "https://x/w.csv", "searchKey": "A", "columns": [{"name": "A", "type": "string"}]}]}"#,
                "watchlist 'W': its file must be a local path",
            ),
            (
                r#"{"externaldata": {"lists/a.csv": "b.csv"}}"#,
                "externaldata: 'lists/a.csv' is not a URL",
            ),
            (
                r#"{"externaldata": {"https://x/a.csv": "https://y/a.csv"}}"#,
                "must be a local file path",
            ),
            (r#"{"watchlist": []}"#, "unknown field `watchlist`"),
        ];
        for (text, want) in cases {
            let error = Schema::parse_json(text).unwrap_err();
            assert!(error.contains(want), "{text}: {error}");
        }
    }

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
    fn builtin_has_the_aks_tables_with_their_computed_columns() {
        let schema = Schema::builtin();
        let audit = schema.table("AKSAudit").unwrap();
        assert_eq!(audit.columns.len(), 24);
        assert!(audit.is_computed("Type") && !audit.is_computed("Verb"));
        assert_eq!(
            audit.columns,
            schema.table("AKSAuditAdmin").unwrap().columns
        );
        let diagnostics = schema.table("AzureDiagnostics").unwrap();
        assert!(diagnostics.is_computed("log_s") && !diagnostics.is_computed("pod_s"));
        // A schema file that replaces a derived table keeps its computed
        // columns (those it still has).
        let file = Schema::parse_json(
            r#"{"tables":[{"name":"AzureDiagnostics","columns":[{"name":"log_s","type":"string"},{"name":"x_s","type":"string"}]}]}"#,
        )
        .unwrap();
        assert_eq!(file.tables[0].computed, ["log_s"]);
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
