//! `webrpc-build`: the command line of the webrpc schema toolchain.
//!
//! ```text
//! webrpc-build json SCHEMA [--out FILE]   the schema as webrpc-gen -target=json prints it
//! webrpc-build rust SCHEMA [--out FILE] [--client] [--server] [--service NAME]...
//!                  [--ignore @ANNOTATION]... [--crate-path PATH] [--error-type NAME] [--omit-none]
//!                                          the Rust code of the schema
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
    /// Print the Rust code of the schema: types, errors, and per service a trait, a client,
    /// a mount function and a method table.
    Rust {
        /// The schema: a .ridl file, or a webrpc JSON schema (.json).
        schema: PathBuf,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Generate the client side (without --server: only the client side).
        #[arg(long)]
        client: bool,
        /// Generate the server side (without --client: only the server side).
        #[arg(long)]
        server: bool,
        /// Generate only this service (repeatable; default: every service).
        #[arg(long = "service", value_name = "NAME")]
        services: Vec<String>,
        /// Leave out methods carrying this annotation, such as @deprecated (repeatable).
        #[arg(long = "ignore", value_name = "@ANNOTATION")]
        ignore: Vec<String>,
        /// The path the generated code reaches webrpc-core by.
        #[arg(long, value_name = "PATH", default_value = "::webrpc_core")]
        crate_path: String,
        /// The name of the error catalogue enum (default: <SchemaName>Error).
        #[arg(long, value_name = "NAME")]
        error_type: Option<String>,
        /// Leave unset optional fields out of the JSON instead of writing null as Go does.
        #[arg(long)]
        omit_none: bool,
    },
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
        Command::Rust {
            schema: path,
            out,
            client,
            server,
            services,
            ignore,
            crate_path,
            error_type,
            omit_none,
        } => {
            let schema = webrpc_build::parse_file(&path).map_err(|e| e.to_string())?;
            let mut options = webrpc_build::rust::Options::new().crate_path(crate_path);
            if let Some(name) = path.file_name() {
                options = options.source(name.to_string_lossy());
            }
            match (client, server) {
                (true, false) => options = options.client_only(),
                (false, true) => options = options.server_only(),
                _ => {}
            }
            for service in services {
                options = options.service(service);
            }
            for annotation in ignore {
                options = options.ignore(annotation);
            }
            if let Some(name) = error_type {
                options = options.error_type(name);
            }
            if omit_none {
                options = options.omit_none();
            }
            let code =
                webrpc_build::rust::generate(&schema, &options).map_err(|e| e.to_string())?;
            write_output(out, &code)
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
