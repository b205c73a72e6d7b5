//! `stepwise validate FILE…`

use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ValidateArgs {
    /// Definition files (JSON).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print one JSON document with every diagnostic instead of text lines.
    #[arg(long)]
    json: bool,
}

pub fn main(a: ValidateArgs) -> anyhow::Result<ExitCode> {
    let mut all_ok = true;
    let mut report = Vec::new();
    for f in &a.files {
        let mut hint = None;
        let diags = match std::fs::read_to_string(crate::file_url_path(f)) {
            Ok(text) => match stepwise_asl::parse(&text) {
                Ok(_) => Vec::new(),
                Err(d) => {
                    hint = crate::engine::path_hint(&text, &d);
                    d
                }
            },
            Err(e) => vec![stepwise_asl::Diagnostic::new("", "IO_ERROR", e.to_string())],
        };
        all_ok &= diags.is_empty();
        if a.json {
            report.push(json!({
                "file": f.display().to_string(),
                "valid": diags.is_empty(),
                "diagnostics": diags.iter().map(|d| json!({"pointer": d.pointer, "code": d.code, "message": d.message})).collect::<Vec<_>>(),
            }));
        } else {
            for d in &diags {
                println!("{}: {}", f.display(), d);
            }
            if let Some(h) = hint {
                println!("{}: {h}", f.display());
            }
        }
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"files": report}))?
        );
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
