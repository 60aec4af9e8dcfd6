//! Build: generated Rust → a cargo project → a native detector binary.
//!
//! Every generated project depends on the `kql-runtime` crate by path and
//! shares one cargo target directory, so the runtime and its dependencies are
//! compiled once per profile and every later rule only compiles and links its
//! own small crate. The project's `Cargo.lock` starts as a copy of kqlc's own,
//! so a detector is built from the dependency versions kqlc was tested with
//! (and without network access once they are in cargo's cache).

use crate::codegen::{self, RuleSource};
use crate::plan::ir::Pipeline;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    fn cargo_name(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Quick => "quick",
        }
    }
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
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let (runtime_dir, workspace_root) = match std::env::var_os("KQLC_RUNTIME_DIR") {
            Some(dir) => (PathBuf::from(dir), None),
            None => {
                let manifest = workspace.join("Cargo.toml");
                let metadata = cargo_metadata::MetadataCommand::new()
                    .manifest_path(&manifest)
                    .no_deps()
                    .exec()
                    .map_err(|e| {
                        BuildError::RuntimeNotFound(format!(
                            "{e} (looked in the workspace at {}; set KQLC_RUNTIME_DIR to the runtime crate's folder)",
                            workspace.display()
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
                let dir = package
                    .manifest_path
                    .parent()
                    .map(|p| p.as_std_path().to_path_buf())
                    .ok_or_else(|| {
                        BuildError::RuntimeNotFound("manifest without a folder".into())
                    })?;
                (dir, Some(metadata.workspace_root.into_std_path_buf()))
            }
        };
        if !runtime_dir.join("Cargo.toml").is_file() {
            return Err(BuildError::RuntimeNotFound(format!(
                "{} has no Cargo.toml",
                runtime_dir.display()
            )));
        }
        let cache_dir = match std::env::var_os("KQLC_CACHE_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => match &workspace_root {
                Some(root) => root.join("target").join("kqlc"),
                None => std::env::var_os("HOME")
                    .map(|h| PathBuf::from(h).join(".cache").join("kqlc"))
                    .unwrap_or_else(|| std::env::temp_dir().join("kqlc")),
            },
        };
        let lockfile = workspace_root
            .map(|root| root.join("Cargo.lock"))
            .filter(|p| p.is_file());
        Ok(Toolchain {
            runtime_dir,
            lockfile,
            cache_dir,
        })
    }

    /// A fingerprint of the runtime's sources, so cached binaries are rebuilt
    /// when the runtime changes.
    fn runtime_fingerprint(&self) -> Result<String, BuildError> {
        let mut hasher = Sha256::new();
        let mut files = Vec::new();
        collect_files(&self.runtime_dir.join("src"), &mut files)
            .map_err(io_error(&self.runtime_dir))?;
        files.push(self.runtime_dir.join("Cargo.toml"));
        files.sort();
        for file in files {
            hasher.update(file.to_string_lossy().as_bytes());
            hasher.update(std::fs::read(&file).map_err(io_error(&file))?);
        }
        Ok(hex(&hasher.finalize()))
    }

    /// Builds one binary holding `rules` and returns its path in the cache.
    /// Identical inputs reuse the cached binary without running cargo.
    pub fn build(&self, rules: &[Rule], profile: Profile) -> Result<PathBuf, BuildError> {
        let modules: Vec<String> = rules
            .iter()
            .map(|r| codegen::module_name(&r.name))
            .collect();
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
        files.push(("src/main.rs".to_string(), codegen::detector_main(&modules)));

        let mut hasher = Sha256::new();
        hasher.update(codegen::KQLC_VERSION);
        hasher.update(profile.cargo_name());
        hasher.update(self.runtime_fingerprint()?);
        for (path, text) in &files {
            hasher.update(path);
            hasher.update(text);
        }
        let key = hex(&hasher.finalize())[..16].to_string();
        let package = format!("kqlc-detector-{key}");
        let cached = self.cache_dir.join("bin").join(&package);
        if cached.is_file() {
            return Ok(cached);
        }

        let project = self.cache_dir.join("projects").join(&package);
        std::fs::create_dir_all(project.join("src")).map_err(io_error(&project))?;
        files.push(("Cargo.toml".to_string(), self.manifest(&package)));
        for (path, text) in &files {
            write_if_changed(&project.join(path), text)?;
        }
        if let Some(lockfile) = &self.lockfile {
            let target = project.join("Cargo.lock");
            if !target.exists() {
                std::fs::copy(lockfile, &target).map_err(io_error(&target))?;
            }
        }
        let built = self.cargo_build(&project, profile)?;
        let bin_dir = self.cache_dir.join("bin");
        std::fs::create_dir_all(&bin_dir).map_err(io_error(&bin_dir))?;
        // Copy then rename, so a concurrent reader never sees half a binary.
        let partial = bin_dir.join(format!("{package}.partial-{}", std::process::id()));
        std::fs::copy(&built, &partial).map_err(io_error(&partial))?;
        std::fs::rename(&partial, &cached).map_err(io_error(&cached))?;
        Ok(cached)
    }

    fn manifest(&self, package: &str) -> String {
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

# Not part of any enclosing workspace.
[workspace]

[profile.release]
opt-level = 3
codegen-units = 4

# `kqlc run`: the runtime optimized, the query's own crate compiled fast.
[profile.quick]
inherits = "dev"
debug = false
opt-level = 0
incremental = false

[profile.quick.package."*"]
opt-level = 3
"#,
            version = codegen::KQLC_VERSION,
        )
    }

    fn cargo_build(&self, project: &Path, profile: Profile) -> Result<PathBuf, BuildError> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut child = Command::new(cargo)
            .arg("build")
            .arg("--quiet")
            .arg("--profile")
            .arg(profile.cargo_name())
            .arg("--message-format=json-render-diagnostics")
            .arg("--manifest-path")
            .arg(project.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", self.cache_dir.join("target"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(BuildError::CargoNotStarted)?;
        let mut executable = None;
        if let Some(stdout) = child.stdout.take() {
            for message in cargo_metadata::Message::parse_stream(BufReader::new(stdout)) {
                match message {
                    Ok(cargo_metadata::Message::CompilerArtifact(artifact)) => {
                        if let Some(path) = artifact.executable {
                            executable = Some(path.into_std_path_buf());
                        }
                    }
                    Ok(cargo_metadata::Message::CompilerMessage(message)) => {
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
        executable.ok_or(BuildError::NoArtifact)
    }
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
