//! The server's data directory: private to its owner (0700, files 0600) and used by one
//! server at a time (an exclusive lock on `stepwise.lock`, held while the server runs).

use anyhow::Context;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The lock on a data directory; dropping it (or the process ending) releases it.
pub struct DataDir {
    pub db: PathBuf,
    _lock: File,
}

/// Create (0700) or open `dir`, take its lock, and make sure the database file exists
/// readable by its owner only (SQLite gives its `-wal` and `-shm` files the same mode).
pub fn open(dir: &Path) -> anyhow::Result<DataDir> {
    create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    let lock_path = dir.join("stepwise.lock");
    let lock =
        private_file(&lock_path).with_context(|| format!("opening {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another stepwise server is using the data directory {} (it holds {}); stop it or pass another --data-dir",
            dir.display(),
            lock_path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("locking {}", lock_path.display()))
        }
    }
    let db = dir.join("stepwise.db");
    private_file(&db).with_context(|| format!("opening {}", db.display()))?;
    Ok(DataDir { db, _lock: lock })
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if dir.is_dir() {
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                dir = %dir.display(),
                mode = format!("{:o}", mode & 0o777),
                "the data directory is readable by other users; `chmod 700` it to keep inputs, outputs and task tokens private"
            );
        }
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Open (creating if need be) a file only its owner can read and write; an existing
/// file is narrowed to that.
#[cfg(unix)]
pub fn private_file(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    let mode = f.metadata()?.permissions().mode();
    if mode & 0o077 != 0 {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        // The WAL and shared-memory files SQLite already made keep their mode otherwise.
        for ext in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(ext);
            let side = PathBuf::from(side);
            if side.exists() {
                std::fs::set_permissions(&side, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(f)
}

#[cfg(not(unix))]
pub fn private_file(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}
