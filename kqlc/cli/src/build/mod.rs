//! Build: generated Rust → a cargo project → a native detector binary.
//!
//! Every generated project depends on the `kql-runtime` crate and the
//! detector host `kql-detector` (inside it, `runtime/detector`) by path and
//! shares one cargo target directory, so the runtime and its dependencies are
//! compiled once per profile and every later rule only compiles and links its
//! own small crate. The project's `Cargo.lock` starts as a copy of kqlc's own,
//! so a detector is built from the dependency versions kqlc was tested with
//! (and without network access once they are in cargo's cache, or with
//! `--offline` and a vendored source).
//!
//! `kqlc build` uses the hardened `release` profile: thin LTO, one codegen
//! unit, symbols stripped, `panic = "abort"` (no code in the runtime or the
//! generated rules catches a panic, so unwinding buys nothing), and path
//! prefixes remapped so that the binary does not depend on where the cargo
//! home, the runtime or the cache are: the same rules, kqlc, rustc and
//! `Cargo.lock` give the same bytes. On x86-64 Linux it links the C runtime
//! statically (`+crt-static`, with an explicit `--target` so build scripts
//! and proc-macros stay dynamic), so the detector needs no shared library.

pub mod detector_main;
pub mod sbom;

use crate::manifest::{Manifest, ManifestRule};
use kqlc::codegen::{self, RuleSource};
use kqlc::plan::ir::Pipeline;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The target a static build is made for: the one where glibc's static
/// libraries make `+crt-static` work.
pub const STATIC_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Which cargo profile a detector is built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Fully optimized (`kqlc build`).
    Release,
    /// Dependencies optimized, the query crate not: compiles in about a
    /// second once the runtime is built (`kqlc run`). Results are identical.
    Quick,
}

impl Profile {
    /// The cargo profile's name.
    pub fn cargo_name(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Quick => "quick",
        }
    }
}

/// How the detector is linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linking {
    /// Fully static for [`STATIC_TARGET`]: runs without any shared library.
    Static,
    /// The host's default (glibc linked dynamically).
    Dynamic,
}

impl Linking {
    /// Static where it works (an x86-64 Linux gnu host), dynamic elsewhere.
    pub fn default_for_host(host: &str) -> Linking {
        if host == STATIC_TARGET {
            Linking::Static
        } else {
            Linking::Dynamic
        }
    }
}

/// How to build a detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildOptions {
    /// The cargo profile.
    pub profile: Profile,
    /// Static or dynamic linking.
    pub linking: Linking,
    /// Pass `--offline` to cargo: use only crates already downloaded or
    /// vendored.
    pub offline: bool,
    /// Turn on kql-detector's `kafka` feature (`--kafka`, `--publish-kafka`):
    /// librdkafka, built from source by its configure script, and OpenSSL, linked
    /// statically from the system's `libssl.a` in a static build.
    pub kafka: bool,
}

impl BuildOptions {
    /// `profile`, dynamically linked, online: what [`Toolchain::build`] does.
    pub fn new(profile: Profile) -> BuildOptions {
        BuildOptions {
            profile,
            linking: Linking::Dynamic,
            offline: false,
            kafka: false,
        }
    }
}

/// A built detector.
#[derive(Clone, Debug)]
pub struct Built {
    /// The binary, in the cache (copy it out; do not modify it).
    pub binary: PathBuf,
    /// The generated cargo project it was built from.
    pub project: PathBuf,
    /// What it holds.
    pub manifest: Manifest,
    /// Whether cargo ran (false when the cached binary was reused).
    pub compiled: bool,
}

/// A rule ready to build.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Its name (the file stem).
    pub name: String,
    /// The KQL text.
    pub kql: String,
    /// The file it came from, for the regenerate line in headers.
    pub path: String,
    /// The planned query.
    pub pipeline: Pipeline,
}

/// Where builds happen.
#[derive(Clone, Debug)]
pub struct Toolchain {
    /// The `kql-runtime` crate's directory.
    pub runtime_dir: PathBuf,
    /// The `Cargo.lock` to start generated projects from, if any.
    pub lockfile: Option<PathBuf>,
    /// Where generated projects, the shared target directory and cached
    /// binaries live.
    pub cache_dir: PathBuf,
    /// The runtime's version, from its `Cargo.toml`.
    pub runtime_version: String,
}

/// Why a build failed.
#[derive(Debug)]
pub enum BuildError {
    /// The runtime crate could not be found.
    RuntimeNotFound(String),
    /// A file could not be written or read.
    Io(PathBuf, std::io::Error),
    /// cargo could not be started.
    CargoNotStarted(std::io::Error),
    /// cargo failed; its diagnostics were already shown on stderr.
    CargoFailed(Option<i32>),
    /// cargo succeeded but named no executable.
    NoArtifact,
    /// `rustc -vV` could not be run or read.
    Rustc(String),
    /// A static build was asked for on a host that cannot make one.
    StaticUnsupported(String),
    /// `cargo metadata` of a generated project failed (for the SBOM).
    Metadata(String),
    /// The generated code compiled with warnings and `KQLC_DENY_WARNINGS`
    /// is set (CI sets it: generated code must be warning-free).
    Warnings(usize),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::RuntimeNotFound(why) => {
                write!(f, "cannot find the kql-runtime crate: {why}")
            }
            BuildError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            BuildError::CargoNotStarted(e) => write!(f, "cannot run cargo: {e}"),
            BuildError::CargoFailed(Some(code)) => {
                write!(f, "cargo failed (exit code {code}); its errors are above")
            }
            BuildError::CargoFailed(None) => write!(f, "cargo was killed by a signal"),
            BuildError::NoArtifact => write!(f, "cargo reported no executable"),
            BuildError::Rustc(why) => write!(f, "cannot ask rustc for its version: {why}"),
            BuildError::StaticUnsupported(host) => write!(
                f,
                "a static build is made for {STATIC_TARGET} only, and this host is {host} (build with --dynamic)"
            ),
            BuildError::Metadata(why) => write!(f, "cargo metadata failed: {why}"),
            BuildError::Warnings(n) => write!(
                f,
                "the generated code compiled with {n} warning{} (KQLC_DENY_WARNINGS is set); they are above",
                if *n == 1 { "" } else { "s" }
            ),
        }
    }
}

impl std::error::Error for BuildError {}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |e| BuildError::Io(path.to_path_buf(), e)
}

impl Toolchain {
    /// Finds the runtime crate and the cache directory.
    ///
    /// The runtime is, in order: `$KQLC_RUNTIME_DIR`; or the `kql-runtime`
    /// package of the workspace kqlc was built in, found with
    /// `cargo metadata`. The cache is `$KQLC_CACHE_DIR`, or `target/kqlc`
    /// inside that workspace, or `~/.cache/kqlc`.
    pub fn discover() -> Result<Toolchain, BuildError> {
        let (manifest, in_env) = match std::env::var_os("KQLC_RUNTIME_DIR") {
            Some(dir) => (PathBuf::from(dir).join("Cargo.toml"), true),
            None => (
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../..")
                    .join("Cargo.toml"),
                false,
            ),
        };
        if !manifest.is_file() {
            return Err(BuildError::RuntimeNotFound(format!(
                "{} does not exist (set KQLC_RUNTIME_DIR to the runtime crate's folder)",
                manifest.display()
            )));
        }
        let metadata = cargo_metadata::MetadataCommand::new()
            .manifest_path(&manifest)
            .no_deps()
            .exec()
            .map_err(|e| {
                BuildError::RuntimeNotFound(format!(
                    "{e} (looked at {}; set KQLC_RUNTIME_DIR to the runtime crate's folder)",
                    manifest.display()
                ))
            })?;
        let package = metadata
            .packages
            .iter()
            .find(|p| p.name.as_str() == "kql-runtime")
            .ok_or_else(|| {
                BuildError::RuntimeNotFound(format!(
                    "no kql-runtime package in the workspace at {}",
                    metadata.workspace_root
                ))
            })?;
        let runtime_dir = package
            .manifest_path
            .parent()
            .map(|p| p.as_std_path().to_path_buf())
            .ok_or_else(|| BuildError::RuntimeNotFound("manifest without a folder".into()))?;
        let runtime_version = package.version.to_string();
        let workspace_root = metadata.workspace_root.into_std_path_buf();
        let cache_dir = match std::env::var_os("KQLC_CACHE_DIR") {
            Some(dir) => PathBuf::from(dir),
            None if !in_env => workspace_root.join("target").join("kqlc"),
            None => std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache").join("kqlc"))
                .unwrap_or_else(|| std::env::temp_dir().join("kqlc")),
        };
        let lockfile = Some(workspace_root.join("Cargo.lock")).filter(|p| p.is_file());
        Ok(Toolchain {
            runtime_dir,
            lockfile,
            cache_dir,
            runtime_version,
        })
    }

    /// A fingerprint of the sources of the runtime and the detector host,
    /// so cached binaries are rebuilt when either changes.
    fn runtime_fingerprint(&self) -> Result<String, BuildError> {
        let mut hasher = Sha256::new();
        let mut files = Vec::new();
        // Both crates a detector links: the runtime and, inside it, the host.
        for dir in [self.runtime_dir.clone(), self.runtime_dir.join("detector")] {
            collect_files(&dir.join("src"), &mut files).map_err(io_error(&dir))?;
            files.push(dir.join("Cargo.toml"));
        }
        files.sort();
        for file in files {
            // Relative names: the key must not depend on the checkout's place.
            let name = file.strip_prefix(&self.runtime_dir).unwrap_or(&file);
            hasher.update(name.to_string_lossy().as_bytes());
            hasher.update(std::fs::read(&file).map_err(io_error(&file))?);
        }
        Ok(hex(&hasher.finalize()))
    }

    /// Builds one binary holding `rules` (dynamically linked, online) and
    /// returns its path in the cache. Identical inputs reuse the cached
    /// binary without running cargo.
    pub fn build(&self, rules: &[Rule], profile: Profile) -> Result<PathBuf, BuildError> {
        self.build_with(rules, &[], &BuildOptions::new(profile))
            .map(|built| built.binary)
    }

    /// Builds one binary holding `rules`, described in its manifest by
    /// `info` (one entry per rule, in order; a rule without one is described
    /// by its name and KQL). Identical inputs reuse the cached binary.
    pub fn build_with(
        &self,
        rules: &[Rule],
        info: &[ManifestRule],
        options: &BuildOptions,
    ) -> Result<Built, BuildError> {
        let rustc = RustcInfo::query()?;
        let (target, cargo_target) = match options.linking {
            Linking::Static if rustc.host != STATIC_TARGET => {
                return Err(BuildError::StaticUnsupported(rustc.host));
            }
            Linking::Static => (STATIC_TARGET.to_string(), Some(STATIC_TARGET)),
            Linking::Dynamic => (rustc.host.clone(), None),
        };
        let manifest = Manifest {
            kqlc_version: codegen::KQLC_VERSION.to_string(),
            runtime_version: self.runtime_version.clone(),
            rustc: rustc.version.clone(),
            target,
            static_linking: options.linking == Linking::Static,
            profile: options.profile.cargo_name().to_string(),
            rules: rules
                .iter()
                .enumerate()
                .map(|(i, rule)| {
                    info.get(i)
                        .cloned()
                        .unwrap_or_else(|| ManifestRule::from_rule(rule))
                })
                .collect(),
        };

        let modules = unique_module_names(rules);
        let mut files: Vec<(String, String)> = rules
            .iter()
            .zip(&modules)
            .map(|(rule, module)| {
                let source = RuleSource {
                    name: &rule.name,
                    kql: &rule.kql,
                    pipeline: &rule.pipeline,
                };
                let regenerate = format!("kqlc emit {} -o {module}.rs", rule.path);
                (
                    format!("src/{module}.rs"),
                    codegen::rule_module(&source, &regenerate),
                )
            })
            .collect();
        files.push((
            "src/main.rs".to_string(),
            detector_main::detector_main(&modules, &manifest),
        ));

        // The key names the package, and the package name is compiled into
        // the binary: it must not depend on where the cache or the runtime
        // are, only on what is built and how.
        let mut hasher = Sha256::new();
        hasher.update(codegen::KQLC_VERSION);
        hasher.update(options.profile.cargo_name());
        hasher.update(&manifest.target);
        hasher.update([u8::from(manifest.static_linking)]);
        if options.kafka {
            hasher.update("kafka");
        }
        hasher.update(&rustc.verbose);
        hasher.update(self.runtime_fingerprint()?);
        for (path, text) in &files {
            hasher.update(path);
            hasher.update(text);
        }
        let key = hex(&hasher.finalize())[..16].to_string();
        let package = format!("kqlc-detector-{key}");
        let cache_dir = std::path::absolute(&self.cache_dir).map_err(io_error(&self.cache_dir))?;
        let project = cache_dir.join("projects").join(&package);
        let cached = cache_dir.join("bin").join(&package);
        if cached.is_file() && project.join("Cargo.toml").is_file() {
            return Ok(Built {
                binary: cached,
                project,
                manifest,
                compiled: false,
            });
        }

        std::fs::create_dir_all(project.join("src")).map_err(io_error(&project))?;
        files.push((
            "Cargo.toml".to_string(),
            self.cargo_manifest(&package, options.kafka),
        ));
        for (path, text) in &files {
            write_if_changed(&project.join(path), text)?;
        }
        if let Some(lockfile) = &self.lockfile {
            let target = project.join("Cargo.lock");
            if !target.exists() {
                std::fs::copy(lockfile, &target).map_err(io_error(&target))?;
            }
        }
        let plan = CargoBuild {
            project: &project,
            profile: options.profile,
            target: cargo_target,
            target_dir: cache_dir.join(match (options.profile, options.linking) {
                // Its flags apply to build scripts too (no --target): keep
                // them away from the static builds' host artifacts.
                (Profile::Release, Linking::Dynamic) => "target-dynamic",
                _ => "target",
            }),
            rustflags: self.rustflags(&cache_dir, options),
            offline: options.offline,
            // openssl-sys links the system's OpenSSL dynamically when it may
            // choose; a static detector needs its static libraries.
            openssl_static: options.kafka && options.linking == Linking::Static,
        };
        let built = plan.run()?;
        let bin_dir = cache_dir.join("bin");
        std::fs::create_dir_all(&bin_dir).map_err(io_error(&bin_dir))?;
        // Copy then rename, so a concurrent reader never sees half a binary.
        let partial = bin_dir.join(format!("{package}.partial-{}", std::process::id()));
        std::fs::copy(&built, &partial).map_err(io_error(&partial))?;
        std::fs::rename(&partial, &cached).map_err(io_error(&cached))?;
        Ok(Built {
            binary: cached,
            project,
            manifest,
            compiled: true,
        })
    }

    /// The rustc flags of a build, if it needs any: for the hardened
    /// profile, path prefixes remapped to fixed names (so the binary does
    /// not depend on where things are), and `+crt-static` when static.
    /// Quick builds of `kqlc run` and `kqlc test` need neither.
    fn rustflags(&self, cache_dir: &Path, options: &BuildOptions) -> Vec<String> {
        let mut flags = Vec::new();
        if options.profile == Profile::Release {
            let cargo_home = std::env::var_os("CARGO_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
            let runtime = std::path::absolute(&self.runtime_dir).ok();
            // When several prefixes match, rustc applies the last one: most
            // specific last (the cache may be inside the cargo home).
            let mut remaps: Vec<(PathBuf, &str)> = Vec::new();
            remaps.extend(cargo_home.map(|p| (p, "/cargo")));
            remaps.extend(runtime.map(|p| (p, "/kql-runtime")));
            remaps.push((cache_dir.to_path_buf(), "/kqlc-cache"));
            for (from, to) in remaps {
                let mut forms = vec![from.clone()];
                if let Ok(canonical) = from.canonicalize() {
                    if canonical != from {
                        forms.push(canonical);
                    }
                }
                for form in forms {
                    flags.push(format!("--remap-path-prefix={}={to}", form.display()));
                }
            }
        }
        if options.linking == Linking::Static {
            flags.push("-Ctarget-feature=+crt-static".to_string());
        }
        flags
    }

    /// The generated project's `Cargo.toml` (with kql-detector's `kafka`
    /// feature when `kafka`).
    fn cargo_manifest(&self, package: &str, kafka: bool) -> String {
        let runtime = self
            .runtime_dir
            .to_string_lossy()
            .replace('\\', "\\\\")
            .replace('"', "\\\"");
        format!(
            r#"# Generated by kqlc {version}: a detector built from KQL rules.
[package]
name = "{package}"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
kql-runtime = {{ path = "{runtime}", default-features = false }}
# `live`: --follow, --listen, --nats and signal handling (tokio, hyper,
# rustls, async-nats); `kafka` (kqlc build --kafka): librdkafka.
kql-detector = {{ path = "{runtime}/detector", default-features = false, features = [{features}] }}

# Not part of any enclosing workspace.
[workspace]

# `kqlc build`: hardened and reproducible. Nothing catches a panic, so
# aborting loses nothing; one codegen unit makes the output independent of
# scheduling. Thin LTO, not fat: with fat LTO the statically linked
# detector ran 7x slower (4.0 s vs 0.55 s on 1 GB, docs/PERFORMANCE.md).
[profile.release]
opt-level = 3
lto = "thin"
codegen-units = 1
panic = "abort"
strip = "symbols"
debug = false
incremental = false

# `kqlc run` and `kqlc test`: the runtime optimized, the query's own crate
# compiled fast.
[profile.quick]
inherits = "dev"
debug = false
opt-level = 0
incremental = false

[profile.quick.package."*"]
opt-level = 3
"#,
            version = codegen::KQLC_VERSION,
            features = if kafka {
                r#""live", "kafka""#
            } else {
                r#""live""#
            },
        )
    }
}

/// One `cargo build` of a generated project.
struct CargoBuild<'a> {
    project: &'a Path,
    profile: Profile,
    /// `--target`, when cross-compiling is how the flags are kept off build
    /// scripts and proc-macros.
    target: Option<&'a str>,
    target_dir: PathBuf,
    /// Set as `CARGO_ENCODED_RUSTFLAGS` when not empty.
    rustflags: Vec<String>,
    offline: bool,
    /// Set `OPENSSL_STATIC=1` (librdkafka's OpenSSL in a static build).
    openssl_static: bool,
}

impl CargoBuild<'_> {
    /// Runs cargo; returns the executable it built.
    fn run(&self) -> Result<PathBuf, BuildError> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .arg("build")
            .arg("--quiet")
            .arg("--profile")
            .arg(self.profile.cargo_name())
            .arg("--message-format=json-render-diagnostics")
            .arg("--manifest-path")
            .arg(self.project.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env("SOURCE_DATE_EPOCH", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(target) = self.target {
            command.arg("--target").arg(target);
        }
        if self.offline {
            command.arg("--offline");
        }
        if self.openssl_static {
            command.env("OPENSSL_STATIC", "1");
        }
        if !self.rustflags.is_empty() {
            command
                .env("CARGO_ENCODED_RUSTFLAGS", self.rustflags.join("\u{1f}"))
                .env_remove("RUSTFLAGS");
        }
        let mut child = command.spawn().map_err(BuildError::CargoNotStarted)?;
        let mut executable = None;
        let mut warnings = 0usize;
        if let Some(stdout) = child.stdout.take() {
            for message in cargo_metadata::Message::parse_stream(BufReader::new(stdout)) {
                match message {
                    Ok(cargo_metadata::Message::CompilerArtifact(artifact)) => {
                        if let Some(path) = artifact.executable {
                            executable = Some(path.into_std_path_buf());
                        }
                    }
                    Ok(cargo_metadata::Message::CompilerMessage(message)) => {
                        let generated = message.package_id.repr.contains("kqlc-detector");
                        if generated
                            && message.message.level
                                == cargo_metadata::diagnostic::DiagnosticLevel::Warning
                        {
                            warnings += 1;
                        }
                        if let Some(rendered) = message.message.rendered {
                            eprint!("{rendered}");
                        }
                    }
                    _ => {}
                }
            }
        }
        let status = child.wait().map_err(BuildError::CargoNotStarted)?;
        if !status.success() {
            return Err(BuildError::CargoFailed(status.code()));
        }
        if warnings > 0 && std::env::var_os("KQLC_DENY_WARNINGS").is_some() {
            return Err(BuildError::Warnings(warnings));
        }
        executable.ok_or(BuildError::NoArtifact)
    }
}

/// What `rustc -vV` says.
#[derive(Clone, Debug)]
struct RustcInfo {
    /// The first line, e.g. `rustc 1.95.0 (59807616e 2026-04-14)`.
    version: String,
    /// The host triple.
    host: String,
    /// The whole output, for cache keys.
    verbose: String,
}

impl RustcInfo {
    /// Asks `$RUSTC` (or `rustc`), as cargo would.
    fn query() -> Result<RustcInfo, BuildError> {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let output = Command::new(&rustc)
            .arg("-vV")
            .output()
            .map_err(|e| BuildError::Rustc(format!("{}: {e}", rustc.to_string_lossy())))?;
        if !output.status.success() {
            return Err(BuildError::Rustc(
                String::from_utf8_lossy(&output.stderr).trim().to_string(),
            ));
        }
        let verbose = String::from_utf8_lossy(&output.stdout).into_owned();
        let version = verbose.lines().next().unwrap_or_default().to_string();
        let host = verbose
            .lines()
            .find_map(|l| l.strip_prefix("host: "))
            .map(str::to_string)
            .ok_or_else(|| BuildError::Rustc("no 'host:' line in rustc -vV".into()))?;
        Ok(RustcInfo {
            version,
            host,
            verbose,
        })
    }
}

/// The host triple (`rustc -vV`), to choose the default linking.
pub fn host_triple() -> Result<String, BuildError> {
    RustcInfo::query().map(|info| info.host)
}

impl ManifestRule {
    /// The description of a rule that came without metadata: its name as
    /// id and name, the hash of its KQL.
    pub fn from_rule(rule: &Rule) -> ManifestRule {
        ManifestRule {
            id: rule.name.clone(),
            name: rule.name.clone(),
            severity: None,
            tactics: Vec::new(),
            techniques: Vec::new(),
            file: Path::new(&rule.path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256: hex(&Sha256::digest(rule.kql.as_bytes())),
            source: rule.kql.clone(),
            description: String::new(),
            // A `.kql` rule's `// @frequency`... header still schedules it.
            schedule: crate::rules::parse_kql_header(
                Path::new(&rule.path),
                &rule.kql,
                &mut Vec::new(),
            )
            .map(|meta| meta.schedule)
            .unwrap_or_default()
            .resolve(&rule.pipeline)
            .0,
            partition_key: Vec::new(),
        }
    }
}

/// Module names for `rules`, made unique (`a-b` and `a_b` both map to
/// `a_b`; the second becomes `a_b_2`).
fn unique_module_names(rules: &[Rule]) -> Vec<String> {
    let mut modules: Vec<String> = Vec::with_capacity(rules.len());
    for rule in rules {
        let base = codegen::module_name(&rule.name);
        let mut name = base.clone();
        let mut n = 2;
        while modules.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        modules.push(name);
    }
    modules
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), BuildError> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    std::fs::write(path, text).map_err(io_error(path))
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
