//! Which names are one file: so that no output of a detector (`--rejects`,
//! a redirected stdout or stderr) is one of its inputs, whatever the names.
//!
//! `det in.jsonl --rejects in.jsonl` would truncate the input before reading
//! it (the evidence is lost), and `det in.jsonl >> in.jsonl` would read its
//! own rows back without end. Names cannot tell: `./in.jsonl`, a symlink and
//! a hard link all name the same file. The file's identity can: its device
//! and inode numbers (Unix), compared before anything is opened for writing.
//!
//! Only regular files count. Terminals, pipes and devices such as
//! `/dev/null` are shared by input and output on purpose (a terminal is both
//! stdin and stdout), and reading one never sees what is written to another
//! handle of it.
//!
//! Elsewhere than Unix the check is skipped: no identity is known.

#[cfg(unix)]
use std::os::fd::AsFd;
use std::path::Path;

/// The identity of a regular file: equal for every name of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    /// The file `path` names (following symlinks), when it exists and is a
    /// regular file.
    pub fn of_path(path: impl AsRef<Path>) -> Option<FileId> {
        std::fs::metadata(path)
            .ok()
            .and_then(|m| FileId::of_metadata(&m))
    }

    /// The file standard input reads, when it is a regular file
    /// (`det < in.jsonl`).
    pub fn of_stdin() -> Option<FileId> {
        #[cfg(unix)]
        {
            FileId::of_descriptor(std::io::stdin().as_fd())
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    /// The file standard output writes, when it is a regular file
    /// (`det in.jsonl > out.jsonl`).
    pub fn of_stdout() -> Option<FileId> {
        #[cfg(unix)]
        {
            FileId::of_descriptor(std::io::stdout().as_fd())
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    /// The file standard error writes, when it is a regular file.
    pub fn of_stderr() -> Option<FileId> {
        #[cfg(unix)]
        {
            FileId::of_descriptor(std::io::stderr().as_fd())
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    #[cfg(unix)]
    fn of_descriptor(fd: std::os::fd::BorrowedFd<'_>) -> Option<FileId> {
        // A duplicate of the descriptor, to ask `fstat` through `File`; a
        // closed descriptor has no identity.
        let file = std::fs::File::from(fd.try_clone_to_owned().ok()?);
        file.metadata().ok().and_then(|m| FileId::of_metadata(&m))
    }

    /// The file `metadata` describes, when it is a regular file.
    #[cfg(unix)]
    pub fn of_metadata(metadata: &std::fs::Metadata) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        metadata.is_file().then(|| FileId {
            device: metadata.dev(),
            inode: metadata.ino(),
        })
    }

    /// The file `metadata` describes (unknown elsewhere than Unix).
    #[cfg(not(unix))]
    pub fn of_metadata(_: &std::fs::Metadata) -> Option<FileId> {
        None
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn every_name_of_a_file_has_its_identity() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("in.jsonl");
        std::fs::write(&file, "{}\n").unwrap();
        let link = dir.path().join("hard-link.jsonl");
        std::fs::hard_link(&file, &link).unwrap();
        let symlink = dir.path().join("symlink.jsonl");
        std::os::unix::fs::symlink(&file, &symlink).unwrap();
        let dotted = dir.path().join(".").join("in.jsonl");
        let id = FileId::of_path(&file);
        assert!(id.is_some());
        for name in [&link, &symlink, &dotted] {
            assert_eq!(FileId::of_path(name), id, "{}", name.display());
        }
        let other = dir.path().join("other.jsonl");
        std::fs::write(&other, "{}\n").unwrap();
        assert_ne!(FileId::of_path(&other), id);
    }

    #[test]
    fn only_existing_regular_files_have_an_identity() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(FileId::of_path(dir.path().join("absent")), None);
        assert_eq!(FileId::of_path(dir.path()), None);
        assert_eq!(FileId::of_path("/dev/null"), None);
    }
}
