//! A CycloneDX 1.5 SBOM of a detector: every crate compiled into it (or
//! only used to compile it), from `cargo metadata` of its generated project
//! and the checksums in its `Cargo.lock`.
//!
//! Crates linked into the binary have scope `required`; proc-macros, build
//! dependencies and what only they pull in have scope `excluded` (compiled,
//! not shipped). The document has no timestamp and a serial number derived
//! from its content, so the same build gives the same SBOM.

use super::{hex, BuildError, Built};
use cargo_metadata::{DependencyKind, Metadata, Package, PackageId};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// The CycloneDX JSON of `built`, pretty-printed with a final newline.
/// `offline` passes `--offline` to `cargo metadata`.
pub fn cyclonedx(built: &Built, offline: bool) -> Result<String, BuildError> {
    let manifest_path = built.project.join("Cargo.toml");
    let mut command = cargo_metadata::MetadataCommand::new();
    command.manifest_path(&manifest_path);
    let mut options = vec![
        "--filter-platform".to_string(),
        built.manifest.target.clone(),
    ];
    if offline {
        options.push("--offline".to_string());
    }
    command.other_options(options);
    let metadata = command
        .exec()
        .map_err(|e| BuildError::Metadata(format!("{}: {e}", manifest_path.display())))?;
    let lock_path = built.project.join("Cargo.lock");
    let lock =
        std::fs::read_to_string(&lock_path).map_err(|e| BuildError::Io(lock_path.clone(), e))?;
    let document = document(
        &metadata,
        &lock_checksums(&lock),
        &built.manifest.kqlc_version,
    )?;
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    Ok(text)
}

/// Builds the document from resolved metadata and `(name, version) →
/// checksum`.
fn document(
    metadata: &Metadata,
    checksums: &BTreeMap<(String, String), String>,
    kqlc_version: &str,
) -> Result<Value, BuildError> {
    let resolve = metadata
        .resolve
        .as_ref()
        .ok_or_else(|| BuildError::Metadata("no dependency resolution".into()))?;
    let root = resolve
        .root
        .clone()
        .ok_or_else(|| BuildError::Metadata("no root package".into()))?;
    let packages: BTreeMap<&PackageId, &Package> =
        metadata.packages.iter().map(|p| (&p.id, p)).collect();
    let nodes: BTreeMap<&PackageId, &cargo_metadata::Node> =
        resolve.nodes.iter().map(|n| (&n.id, n)).collect();
    let is_proc_macro = |id: &PackageId| {
        packages
            .get(id)
            .is_some_and(|p| p.targets.iter().any(|t| t.is_proc_macro()))
    };

    // Linked in: reachable from the root by normal edges, not through a
    // proc-macro. Everything reachable at all is compiled.
    let linked = reachable(&root, &nodes, &|kind, to| {
        kind == DependencyKind::Normal && !is_proc_macro(to)
    });
    let compiled = reachable(&root, &nodes, &|kind, _| {
        kind != DependencyKind::Development
    });

    let bom_ref = |id: &PackageId| -> String {
        match packages.get(id) {
            Some(p) => format!("pkg:cargo/{}@{}", p.name, p.version),
            None => id.repr.clone(),
        }
    };
    let mut components = Vec::new();
    for id in compiled.iter().filter(|id| **id != &root) {
        let Some(package) = packages.get(*id) else {
            continue;
        };
        let name = package.name.to_string();
        let version = package.version.to_string();
        let mut component = json!({
            "type": "library",
            "bom-ref": bom_ref(id),
            "name": name,
            "version": version,
            "scope": if linked.contains(id) { "required" } else { "excluded" },
        });
        if let Some(description) = &package.description {
            component["description"] = json!(description.trim());
        }
        if let Some(license) = &package.license {
            component["licenses"] = json!([{ "expression": license }]);
        }
        if package.source.as_ref().is_some_and(|s| s.is_crates_io()) {
            component["purl"] = json!(format!("pkg:cargo/{name}@{version}"));
        }
        if let Some(checksum) = checksums.get(&(name, version)) {
            component["hashes"] = json!([{ "alg": "SHA-256", "content": checksum }]);
        }
        components.push(component);
    }
    let dependencies: Vec<Value> = compiled
        .iter()
        .filter_map(|id| nodes.get(*id))
        .map(|node| {
            let depends_on: BTreeSet<String> = node
                .deps
                .iter()
                .filter(|d| {
                    d.dep_kinds
                        .iter()
                        .any(|k| k.kind != DependencyKind::Development)
                })
                .map(|d| bom_ref(&d.pkg))
                .collect();
            json!({ "ref": bom_ref(&node.id), "dependsOn": depends_on })
        })
        .collect();
    let root_package = packages.get(&root);
    let subject = json!({
        "type": "application",
        "bom-ref": bom_ref(&root),
        "name": root_package.map(|p| p.name.to_string()).unwrap_or_default(),
        "version": root_package.map(|p| p.version.to_string()).unwrap_or_default(),
        "description": "KQL detector generated by kqlc",
    });
    let mut document = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "tools": { "components": [{
                "type": "application",
                "name": "kqlc",
                "version": kqlc_version,
            }]},
            "component": subject,
        },
        "components": components,
        "dependencies": dependencies,
    });
    let digest = Sha256::digest(document.to_string().as_bytes());
    document["serialNumber"] = json!(format!("urn:uuid:{}", uuid_from_digest(&digest)));
    Ok(document)
}

/// The packages reachable from `root` along edges `follow` accepts (by
/// dependency kind and target package), `root` included.
fn reachable<'a>(
    root: &'a PackageId,
    nodes: &BTreeMap<&'a PackageId, &'a cargo_metadata::Node>,
    follow: &dyn Fn(DependencyKind, &PackageId) -> bool,
) -> BTreeSet<&'a PackageId> {
    let mut seen = BTreeSet::from([root]);
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        let Some(node) = nodes.get(id) else { continue };
        for dep in &node.deps {
            let followed = dep.dep_kinds.iter().any(|k| follow(k.kind, &dep.pkg));
            if followed && seen.insert(&dep.pkg) {
                stack.push(&dep.pkg);
            }
        }
    }
    seen
}

/// `(name, version) → checksum` from a `Cargo.lock`: registry packages
/// carry the SHA-256 of their `.crate` file there.
fn lock_checksums(lock: &str) -> BTreeMap<(String, String), String> {
    let mut checksums = BTreeMap::new();
    let (mut name, mut version, mut checksum) = (None, None, None);
    let quoted = |line: &str, key: &str| -> Option<String> {
        let rest = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
        Some(rest.trim().trim_matches('"').to_string())
    };
    for line in lock.lines().chain(std::iter::once("[[package]]")) {
        let line = line.trim();
        if line == "[[package]]" {
            if let (Some(n), Some(v), Some(c)) = (name.take(), version.take(), checksum.take()) {
                checksums.insert((n, v), c);
            }
            (name, version, checksum) = (None, None, None);
        } else if let Some(value) = quoted(line, "name") {
            name = Some(value);
        } else if let Some(value) = quoted(line, "version") {
            version = Some(value);
        } else if let Some(value) = quoted(line, "checksum") {
            checksum = Some(value);
        }
    }
    checksums
}

/// A version-4-shaped UUID made of a digest (deterministic, not random).
fn uuid_from_digest(digest: &[u8]) -> String {
    let mut bytes = [0u8; 16];
    for (b, d) in bytes.iter_mut().zip(digest) {
        *b = *d;
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_checksums_pair_names_versions_and_checksums() {
        let lock = "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+x\"\nchecksum = \"abc\"\n\n[[package]]\nname = \"local\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\nchecksum = \"def\"\ndependencies = [\n \"a\",\n]\n";
        let sums = lock_checksums(lock);
        assert_eq!(sums.len(), 2);
        assert_eq!(sums[&("a".into(), "1.0.0".into())], "abc");
        assert_eq!(sums[&("b".into(), "2.0.0".into())], "def");
    }

    #[test]
    fn serial_numbers_are_uuid_shaped() {
        let uuid = uuid_from_digest(&Sha256::digest(b"x"));
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
    }
}
