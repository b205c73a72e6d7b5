//! The peer: moto's server in a venv of its own (PyPI `moto[server]`), installed on
//! demand.

use crate::bench::{clip, last_lines};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// moto in a venv of its own, installed on demand.
pub(super) struct Moto {
    pub(super) dir: PathBuf,
    pub(super) version: String,
}

impl Moto {
    pub(super) fn prepare(peer_dir: &Path) -> Result<Moto, String> {
        let dir = peer_dir.join("moto-venv");
        let python = dir.join("bin").join("python");
        let version = |python: &Path| -> Option<String> {
            let o = Command::new(python)
                .args(["-c", "import moto, flask; print(moto.__version__)"])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .ok()?;
            o.status
                .success()
                .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        if let Some(v) = version(&python) {
            return Ok(Moto { dir, version: v });
        }
        eprintln!(
            "installing moto[server] into {} (python3 -m venv, pip)…",
            dir.display()
        );
        if !python.exists() {
            let o = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&dir)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("python3 not found (`python3`: {e}); install Python 3.9+ to compare with moto"))?;
            if !o.status.success() {
                return Err(format!(
                    "python3 -m venv failed: {}",
                    clip(
                        last_lines(&String::from_utf8_lossy(&o.stderr), 3).trim(),
                        300
                    )
                ));
            }
        }
        let o = Command::new(dir.join("bin").join("pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "moto[server]",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running pip: {e}"))?;
        if !o.status.success() {
            return Err(format!(
                "pip install moto[server] failed: {}",
                clip(
                    last_lines(&String::from_utf8_lossy(&o.stderr), 3).trim(),
                    300
                )
            ));
        }
        version(&python)
            .map(|v| Moto {
                dir: dir.clone(),
                version: v,
            })
            .ok_or_else(|| format!("moto is not importable in {}", dir.display()))
    }
}
