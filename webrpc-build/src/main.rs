//! `webrpc-build`: the command line of the webrpc schema toolchain.
//!
//! ```text
//! webrpc-build json SCHEMA [--out FILE]   the schema as webrpc-gen -target=json prints it
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The webrpc schema toolchain: read a .ridl (or webrpc JSON) schema, check it, print it.
#[derive(Debug, Parser)]
#[command(name = "webrpc-build", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the schema as JSON, exactly as `webrpc-gen -target=json` does.
    Json {
        /// The schema: a .ridl file, or a webrpc JSON schema (.json).
        schema: PathBuf,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    // Code generators (`rust`) are added here, one subcommand each.
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Json { schema, out } => {
            let schema = webrpc_build::parse_file(&schema).map_err(|e| e.to_string())?;
            write_output(out, &schema.to_json())
        }
    }
}

/// Writes generated text to `out`, or to standard output.
fn write_output(out: Option<PathBuf>, text: &str) -> Result<(), String> {
    match out {
        Some(path) => std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| format!("standard output: {e}"))
        }
    }
}
