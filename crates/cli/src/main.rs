//! `stepwise`: the command-line entry point (serve, run, validate, conformance, bench).
//!
//! This crate is glue: it reads files, parses arguments with clap, drives the pure
//! core (`stepwise-interp`) with a real or virtual clock and prints results. It is the
//! only crate that uses `anyhow`.

mod alloc;
mod bench;
mod bench_console;
mod bench_http;
mod bench_server;
mod bench_tasks;
mod conformance;
mod conformance_remote;
#[cfg(unix)]
mod crash_marker;
mod data_dir;
mod engine;
mod progress;
mod run;
mod run_engine;
mod serve;
mod task_config;
mod validate;

use clap::{Parser, Subcommand};

#[global_allocator]
static GLOBAL: alloc::Counted = alloc::Counted;
use std::path::Path;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "stepwise",
    version,
    about = "Run AWS Step Functions state machines (Amazon States Language) on your own machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the AWS Step Functions API (default port 8083), durable in SQLite.
    Serve(serve::ServeArgs),
    /// Run a state machine to its end in this process and print its output.
    Run(run::RunArgs),
    /// Check definitions; print every problem as FILE: /pointer: CODE: message.
    Validate(validate::ValidateArgs),
    /// Run a folder of recorded conformance cases and print the pass table.
    Conformance(conformance::ConformanceArgs),
    /// Benchmark the in-process engine (or, with --server, `stepwise serve`) on the workloads,
    /// side by side with aws-local-stepfunctions (with --server: moto's server); with
    /// --tasks, Task states calling functions and HTTP endpoints through `serve --config`;
    /// with --console, the console's pages over 100,000 executions.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => serve::main(a),
        Command::Run(a) => run::main(a),
        Command::Validate(a) => validate::main(a),
        Command::Conformance(a) => conformance::main(a),
        Command::Bench(a) => bench::main(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stepwise: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A path as given, or the path of a `file://PATH` (as the AWS CLI writes files).
pub(crate) fn file_url_path(path: &Path) -> &Path {
    path.to_str()
        .and_then(|s| s.strip_prefix("file://"))
        .map_or(path, Path::new)
}

/// Read a file (also as `file://PATH`), or stdin for `-`.
pub(crate) fn read_input(path: &Path) -> anyhow::Result<String> {
    use anyhow::Context;
    let path = file_url_path(path);
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).context("reading stdin")?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}
