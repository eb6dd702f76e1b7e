//! Reading and writing files that may come from someone else's pull
//! request.
//!
//! Reading ([`read_regular`]) refuses what is not a regular file (a FIFO,
//! a socket, a device such as `/dev/zero`) and what is larger than a limit,
//! before reading a byte: the metadata is checked before opening, the file
//! is opened without blocking (a FIFO swapped in meanwhile cannot stall the
//! run) and checked again once open, and at most `limit` bytes are read.
//!
//! Writing ([`replace_file`]) never goes through a link: the new content is
//! written to a fresh temporary file created exclusively (`O_EXCL`, so a
//! planted link cannot redirect it) in the destination's directory, given
//! the original's permissions, and renamed over the destination. A
//! destination that is a symbolic link is refused (the link is neither
//! followed nor replaced by a regular file), as is one with several hard
//! links (replacing it would silently separate it from its other names), and
//! one whose content is no longer what was read (an edit made meanwhile is
//! kept).

use std::fmt;
use std::fs::{File, Metadata};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Rule files larger than this are not read unless `max-file-size` or
/// `--max-file-size` says otherwise (the largest rules of the public
/// corpora are under 100 KB).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 4 * 1024 * 1024;

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// Not a regular file: what it is instead.
    NotRegular(&'static str),
    /// Larger than the limit (both in bytes).
    TooLarge {
        size: u64,
        limit: u64,
    },
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            ReadError::TooLarge { size, limit } => write!(
                f,
                "it is {}, larger than the {} limit (max-file-size)",
                human_size(*size),
                human_size(*limit)
            ),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl ReadError {
    /// What to do about it.
    pub fn help(&self) -> Option<String> {
        match self {
            ReadError::NotRegular(_) => {
                Some("rule files are regular files; exclude it with `--exclude`".into())
            }
            ReadError::TooLarge { .. } => Some(
                "raise `max-file-size` in rulelint.toml or pass `--max-file-size`, or exclude the file with `--exclude`"
                    .into(),
            ),
            ReadError::Io(_) => None,
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Why a file was not written.
#[derive(Debug)]
pub enum WriteError {
    /// The destination is a symbolic link (to this target).
    Link(PathBuf),
    /// The destination has this many hard links.
    HardLinks(u64),
    /// The destination is not a regular file: what it is instead.
    NotRegular(&'static str),
    /// The destination's content is no longer what was read.
    Changed,
    Io(io::Error),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Link(target) => write!(
                f,
                "it is a symbolic link to `{}`; links are not rewritten (name the file it points to)",
                target.display()
            ),
            WriteError::HardLinks(n) => write!(
                f,
                "it has {n} hard links; rewriting it would separate it from the others, so it is left as it is"
            ),
            WriteError::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            WriteError::Changed => write!(
                f,
                "it changed since rulelint read it; left as it is (run again)"
            ),
            WriteError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// `1.5 MB`-style size (binary multiples).
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} bytes")
    } else if v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// What a file that is not a regular file is, in words.
fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    if t.is_symlink() {
        return "a symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    "a special file"
}

fn check_regular(meta: &Metadata, limit: u64) -> Result<(), ReadError> {
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind(meta)));
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    Ok(())
}

#[cfg(unix)]
fn open_for_reading(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_for_reading(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// Read a rule file: a regular file of at most `limit` bytes
/// ([`DEFAULT_MAX_FILE_SIZE`] when `None`).
pub fn read_rule(path: &Path, limit: Option<u64>) -> Result<Vec<u8>, ReadError> {
    read_regular(path, limit.unwrap_or(DEFAULT_MAX_FILE_SIZE))
}

/// Read a regular file of at most `limit` bytes (links are followed).
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    check_regular(&std::fs::metadata(path)?, limit)?;
    let file = open_for_reading(path)?;
    let meta = file.metadata()?;
    check_regular(&meta, limit)?;
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    let size = buf.len() as u64;
    if size > limit {
        return Err(ReadError::TooLarge { size, limit });
    }
    Ok(buf)
}

#[cfg(unix)]
fn link_count(meta: &Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.nlink()
}

#[cfg(not(unix))]
fn link_count(_: &Metadata) -> u64 {
    1
}

/// Replace the content of `path` with `data`, atomically.
///
/// `expected` is the content read earlier: the file is left alone when it
/// no longer has it. With `None` the file may be absent (it is created with
/// the usual permissions) or hold anything.
pub fn replace_file(path: &Path, expected: Option<&[u8]>, data: &[u8]) -> Result<(), WriteError> {
    let permissions = match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(path).unwrap_or_default();
                return Err(WriteError::Link(target));
            }
            if !meta.is_file() {
                return Err(WriteError::NotRegular(kind(&meta)));
            }
            let links = link_count(&meta);
            if links > 1 {
                return Err(WriteError::HardLinks(links));
            }
            if let Some(expected) = expected {
                let limit = expected.len() as u64;
                match read_regular(path, limit) {
                    Ok(now) if now == expected => {}
                    Ok(_) | Err(ReadError::TooLarge { .. }) => return Err(WriteError::Changed),
                    Err(ReadError::NotRegular(k)) => return Err(WriteError::NotRegular(k)),
                    Err(ReadError::Io(e)) => return Err(WriteError::Io(e)),
                }
            }
            Some(meta.permissions())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if expected.is_some() {
                return Err(WriteError::Changed);
            }
            None
        }
        Err(e) => return Err(WriteError::Io(e)),
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".rulelint-").suffix(".tmp");
    #[cfg(unix)]
    if permissions.is_none() {
        // A new file: the usual mode, less the umask.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    if let Some(p) = permissions {
        tmp.as_file().set_permissions(p)?;
    }
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    // A link planted at the destination since it was checked is replaced,
    // never followed: rename works on the name.
    tmp.persist(path).map_err(|e| WriteError::Io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_words() {
        assert_eq!(human_size(12), "12 bytes");
        assert_eq!(human_size(4 * 1024 * 1024), "4 MB");
        assert_eq!(human_size(1536), "1.5 KB");
    }

    #[test]
    fn too_large_files_are_refused_and_small_ones_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yml");
        std::fs::write(&p, "x".repeat(100)).unwrap();
        assert_eq!(read_regular(&p, 100).unwrap().len(), 100);
        let e = read_regular(&p, 99).unwrap_err();
        assert!(
            matches!(
                e,
                ReadError::TooLarge {
                    size: 100,
                    limit: 99
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("100 bytes"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_directories_are_not_read() {
        let e = read_regular(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(
            e.to_string(),
            "it is a character device, not a regular file"
        );
        let dir = tempfile::tempdir().unwrap();
        let e = read_regular(dir.path(), 1 << 20).unwrap_err();
        assert!(matches!(e, ReadError::NotRegular("a directory")), "{e}");
    }

    #[test]
    fn replacing_keeps_the_mode_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yml");
        std::fs::write(&p, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        replace_file(&p, Some(b"old"), b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o640);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.yml")]);
    }

    #[test]
    fn a_file_changed_since_it_was_read_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yml");
        std::fs::write(&p, "edited meanwhile").unwrap();
        let e = replace_file(&p, Some(b"what was read"), b"fixed").unwrap_err();
        assert!(matches!(e, WriteError::Changed), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "edited meanwhile");
        std::fs::remove_file(&p).unwrap();
        let e = replace_file(&p, Some(b"what was read"), b"fixed").unwrap_err();
        assert!(matches!(e, WriteError::Changed), "{e}");
        assert!(!p.exists());
    }

    #[test]
    fn a_new_file_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("baseline.json");
        replace_file(&p, None, b"{}").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_ne!(
                mode & 0o044,
                0,
                "readable by others like any new file: {mode:o}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_at_the_destination_are_neither_followed_nor_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "precious").unwrap();
        let p = dir.path().join("rule.yml");
        std::os::unix::fs::symlink(&outside, &p).unwrap();
        let e = replace_file(&p, None, b"x").unwrap_err();
        assert!(matches!(e, WriteError::Link(_)), "{e}");
        assert!(e.to_string().contains("outside.txt"), "{e}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
        assert!(std::fs::symlink_metadata(&p)
            .unwrap()
            .file_type()
            .is_symlink());

        let hard = dir.path().join("hard.yml");
        std::fs::hard_link(&outside, &hard).unwrap();
        let e = replace_file(&hard, Some(b"precious"), b"x").unwrap_err();
        assert!(matches!(e, WriteError::HardLinks(2)), "{e}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    }
}
