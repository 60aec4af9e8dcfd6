//! The logic behind the `kql!` macro, kept here (not in the proc-macro
//! crate) so it is unit-tested like the rest of the compiler and shares its
//! front end and code generator with `kqlc emit` and `kqlc build`.
//!
//! ```text
//! kql!("CloudAuditEvents | where OperationName == 'create'")
//! kql!(file = "rules/privileged-pod.kql")
//! kql!(schema = "schema.json", "Logins | where User == 'root'")
//! kql!(table Logins(Timestamp: datetime, User: string), "Logins | take 1")
//! ```
//!
//! Paths are relative to the calling crate's `CARGO_MANIFEST_DIR`. The
//! expansion is a block that defines the rule in an inline module and
//! evaluates to its `Rule` value (a `kql_runtime::query::Query`).

use crate::codegen::{self, RuleSource};
use crate::sema::{Column, Schema, Table};
use crate::types::ScalarType;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use std::path::{Path, PathBuf};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token};

/// The parsed arguments of `kql!`.
struct Args {
    query: QuerySource,
    schema_files: Vec<LitStr>,
    tables: Vec<Table>,
}

enum QuerySource {
    Inline(LitStr),
    File(LitStr),
}

/// `Name: type` in an inline table declaration.
struct ColumnDecl {
    name: Ident,
    ty: Ident,
}

impl Parse for ColumnDecl {
    fn parse(input: ParseStream<'_>) -> syn::Result<ColumnDecl> {
        let name = input.call(syn::ext::IdentExt::parse_any)?;
        input.parse::<Token![:]>()?;
        let ty = input.call(syn::ext::IdentExt::parse_any)?;
        Ok(ColumnDecl { name, ty })
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Args> {
        let mut query = None;
        let mut schema_files = Vec::new();
        let mut tables = Vec::new();
        while !input.is_empty() {
            if input.peek(LitStr) {
                let literal: LitStr = input.parse()?;
                if query.is_some() {
                    return Err(syn::Error::new(literal.span(), "kql! takes one query"));
                }
                query = Some(QuerySource::Inline(literal));
            } else {
                let key: Ident = input.parse()?;
                match key.to_string().as_str() {
                    "file" => {
                        input.parse::<Token![=]>()?;
                        let literal: LitStr = input.parse()?;
                        if query.is_some() {
                            return Err(syn::Error::new(literal.span(), "kql! takes one query"));
                        }
                        query = Some(QuerySource::File(literal));
                    }
                    "schema" => {
                        input.parse::<Token![=]>()?;
                        schema_files.push(input.parse()?);
                    }
                    "table" => {
                        let name: Ident = input.parse()?;
                        let content;
                        syn::parenthesized!(content in input);
                        let decls: Punctuated<ColumnDecl, Token![,]> =
                            content.parse_terminated(ColumnDecl::parse, Token![,])?;
                        let mut columns = Vec::new();
                        for decl in decls {
                            let ty = ScalarType::from_name(&decl.ty.to_string()).ok_or_else(|| {
                                syn::Error::new(
                                    decl.ty.span(),
                                    format!("unknown KQL type '{}' (string, long, int, real, bool, datetime, timespan, guid, dynamic)", decl.ty),
                                )
                            })?;
                            columns.push(Column::new(decl.name.to_string(), ty));
                        }
                        tables.push(Table::new(name.to_string(), columns));
                    }
                    other => {
                        return Err(syn::Error::new(
                            key.span(),
                            format!("unknown kql! option '{other}': expected a query string, `file = \"...\"`, `schema = \"...\"` or `table Name(col: type, ...)`"),
                        ))
                    }
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        let query = query.ok_or_else(|| {
            syn::Error::new(
                Span::call_site(),
                "kql! needs a query: kql!(\"CloudAuditEvents | take 10\")",
            )
        })?;
        Ok(Args {
            query,
            schema_files,
            tables,
        })
    }
}

/// Expands `kql!(...)`. `manifest_dir` is the calling crate's folder (for
/// `file =` and `schema =`). Errors become `compile_error!` at the caller.
pub fn expand_kql(input: TokenStream, manifest_dir: &Path) -> Result<TokenStream, syn::Error> {
    let args: Args = syn::parse2(input)?;
    let mut schema = Schema::builtin();
    let mut tracked: Vec<PathBuf> = Vec::new();
    for file in &args.schema_files {
        let path = manifest_dir.join(file.value());
        let extra = Schema::from_file(&path).map_err(|e| syn::Error::new(file.span(), e))?;
        schema.extend(extra);
        tracked.push(path);
    }
    schema.extend(Schema::of_tables(args.tables));
    let (text, name, literal, origin) = match &args.query {
        QuerySource::Inline(literal) => (
            literal.value(),
            "kql".to_string(),
            literal,
            "query".to_string(),
        ),
        QuerySource::File(literal) => {
            let path = manifest_dir.join(literal.value());
            let text = std::fs::read_to_string(&path).map_err(|e| {
                syn::Error::new(
                    literal.span(),
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            let name = path
                .file_stem()
                .map_or_else(|| "kql".to_string(), |s| s.to_string_lossy().into_owned());
            tracked.push(path);
            (text, name, literal, literal.value())
        }
    };
    let pipeline = crate::compile(&text, &schema).map_err(|diagnostics| {
        let rendered: Vec<String> = diagnostics
            .iter()
            .map(|d| d.render(&origin, &text, false))
            .collect();
        syn::Error::new(
            literal.span(),
            format!("invalid KQL\n{}", rendered.join("\n")),
        )
    })?;
    let items = codegen::rule_tokens(&RuleSource {
        name: &name,
        kql: &text,
        pipeline: &pipeline,
    });
    // Make cargo rebuild the caller when a query or schema file changes.
    let tracked = tracked.iter().map(|p| {
        let p = p.to_string_lossy().into_owned();
        quote! { const _: &str = include_str!(#p); }
    });
    Ok(quote! {
        {
            #(#tracked)*
            #[doc(hidden)]
            mod __kql_rule {
                #items
            }
            __kql_rule::Rule::default()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(input: TokenStream) -> Result<String, String> {
        expand_kql(input, Path::new(env!("CARGO_MANIFEST_DIR")))
            .map(|t| t.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn inline_query_expands_to_a_block_returning_the_rule() {
        let code = expand(quote!(
            "CloudAuditEvents | where OperationName == \"create\""
        ))
        .unwrap();
        assert!(code.contains("mod __kql_rule"), "{code}");
        assert!(code.contains("__kql_rule :: Rule :: default ()"), "{code}");
    }

    #[test]
    fn file_queries_are_read_relative_to_the_manifest_and_tracked() {
        let code = expand(quote!(file = "../examples/rules/privileged-pod.kql")).unwrap();
        assert!(code.contains("include_str !"), "{code}");
        assert!(code.contains("\"privileged-pod\""), "{code}");
    }

    #[test]
    fn inline_tables_declare_columns() {
        let code =
            expand(quote!(table Logins(User: string, Count: long), "Logins | where Count > 3"))
                .unwrap();
        assert!(code.contains("\"Logins\""), "{code}");
        let error = expand(quote!(table Logins(User: strin), "Logins")).unwrap_err();
        assert!(error.contains("unknown KQL type 'strin'"), "{error}");
    }

    #[test]
    fn kql_errors_are_rendered_with_their_location() {
        let error = expand(quote!("CloudAuditEvents | where Foo == 1")).unwrap_err();
        assert!(
            error.contains("error[KQL0101]: unknown column 'Foo'"),
            "{error}"
        );
        assert!(error.contains("--> query:1:26"), "{error}");
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        assert!(expand(quote!()).unwrap_err().contains("needs a query"));
        assert!(expand(quote!(colour = "red", "T"))
            .unwrap_err()
            .contains("unknown kql! option"));
        assert!(expand(quote!("a", "b")).unwrap_err().contains("one query"));
        assert!(expand(quote!(file = "no/such.kql"))
            .unwrap_err()
            .contains("cannot read"));
    }
}
