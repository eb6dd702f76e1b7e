//! Putting a tuning pack on disk, all or nothing: the files are written to
//! a fresh temporary folder beside the output folder (created exclusively,
//! so nothing planted there is followed), which then replaces the output
//! folder by renaming. An output folder that is a symbolic link or a file
//! is refused, and so is an existing folder that `tune` did not write (it
//! has no marker file), so that a mistyped `--out` never replaces a folder
//! of the user's.

use super::Pack;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The marker file at the top of every pack.
pub const MARKER: &str = ".rulelint-tune";

/// The marker's text: what the pack holds.
pub fn marker_text(pack: &Pack) -> String {
    let mut s = String::from(
        "# Written by `rulelint tune`; rerun it to update this folder (it is replaced as a whole).\n",
    );
    for p in pack.keys().filter(|p| *p != MARKER) {
        s.push_str(p);
        s.push('\n');
    }
    s
}

fn shown(p: &Path) -> String {
    crate::source::slashed(p)
}

/// Why `out` cannot receive a pack, if it cannot.
fn check_destination(out: &Path) -> Result<bool, String> {
    match std::fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => Err(format!(
            "--out {} is a symbolic link; links are not followed: name the folder itself",
            shown(out)
        )),
        Ok(m) if !m.is_dir() => Err(format!("--out {} is a file, not a folder", shown(out))),
        Ok(_) => {
            let empty = std::fs::read_dir(out)
                .map_err(|e| format!("cannot read --out {}: {e}", shown(out)))?
                .next()
                .is_none();
            let marked = std::fs::symlink_metadata(out.join(MARKER)).is_ok_and(|m| m.is_file());
            if empty || marked {
                Ok(true)
            } else {
                Err(format!(
                    "--out {} already holds files that `rulelint tune` did not write (no {MARKER} file); name a new or empty folder",
                    shown(out)
                ))
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!(
            "cannot write --out {}: {e}; nothing was written",
            shown(out)
        )),
    }
}

fn parent_of(out: &Path) -> PathBuf {
    out.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Write `pack` as the folder `out`, replacing a previous pack.
pub fn write_pack(out: &Path, pack: &Pack) -> Result<(), String> {
    let exists = check_destination(out)?;
    let parent = parent_of(out);
    let not_writable = |e: std::io::Error| {
        format!(
            "cannot write --out {}: {e}; nothing was written",
            shown(out)
        )
    };
    let tmp = tempfile::Builder::new()
        .prefix(".rulelint-tune-")
        .tempdir_in(&parent)
        .map_err(not_writable)?;
    for (rel, text) in pack {
        let path = tmp.path().join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(not_writable)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(not_writable)?;
        f.write_all(text.as_bytes()).map_err(not_writable)?;
        f.sync_all().map_err(not_writable)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(not_writable)?;
    }
    let staged = tmp.keep();
    if !exists {
        return std::fs::rename(&staged, out).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            not_writable(e)
        });
    }
    // Move the old pack aside (onto an empty folder, which rename may
    // replace), put the new one in place, then delete the old one.
    let aside = tempfile::Builder::new()
        .prefix(".rulelint-tune-old-")
        .tempdir_in(&parent)
        .map_err(not_writable)?
        .keep();
    if let Err(e) = std::fs::rename(out, &aside) {
        let _ = std::fs::remove_dir_all(&staged);
        let _ = std::fs::remove_dir(&aside);
        return Err(not_writable(e));
    }
    if let Err(e) = std::fs::rename(&staged, out) {
        let _ = std::fs::rename(&aside, out);
        let _ = std::fs::remove_dir_all(&staged);
        return Err(not_writable(e));
    }
    let _ = std::fs::remove_dir_all(&aside);
    Ok(())
}

/// Every regular file under `dir`, by slash-separated relative path
/// (links are listed, never followed).
fn files_under(dir: &Path, rel: &str, out: &mut Vec<(String, Option<Vec<u8>>)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        match std::fs::symlink_metadata(e.path()) {
            Ok(m) if m.is_dir() => files_under(&e.path(), &r, out),
            Ok(m) if m.is_file() => out.push((
                r,
                crate::fsio::read_regular(&e.path(), 64 * 1024 * 1024).ok(),
            )),
            _ => out.push((r, None)),
        }
    }
}

/// What differs between `pack` and the folder `out`: one line per file
/// (`missing`, `changed`, `not in the pack`); empty when it is up to date.
pub fn stale(out: &Path, pack: &Pack) -> Result<Vec<String>, String> {
    match std::fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(format!(
                "--out {} is a symbolic link; links are not followed: name the folder itself",
                shown(out)
            ))
        }
        Ok(m) if !m.is_dir() => {
            return Err(format!("--out {} is a file, not a folder", shown(out)))
        }
        _ => {}
    }
    let mut found = Vec::new();
    files_under(out, "", &mut found);
    let mut diffs = Vec::new();
    for (rel, text) in pack {
        match found.iter().find(|(r, _)| r == rel) {
            None => diffs.push(format!("missing {rel}")),
            Some((_, Some(bytes))) if bytes == text.as_bytes() => {}
            Some(_) => diffs.push(format!("changed {rel}")),
        }
    }
    for (rel, _) in &found {
        if !pack.contains_key(rel) {
            diffs.push(format!("not in the pack {rel}"));
        }
    }
    Ok(diffs)
}
