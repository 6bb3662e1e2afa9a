//! Logging of the `metadata-server` binary: the access log and the server's own events, to
//! stderr, written off the request path.
//!
//! - Events are formatted on the thread that emits them (one short line) and handed to a
//!   background writer thread ([`tracing_appender::non_blocking`]), so a slow terminal, pipe
//!   or disk never stalls a request. The queue holds up to 128 000 lines; when it is full the
//!   emitting thread waits rather than dropping lines, so the access log stays complete.
//! - ANSI colours only when stderr is a terminal: a file or a pipe gets plain text.
//! - `--log-format json`: one JSON object per line (`timestamp`, `level`, `target`, `fields`).
//! - The level comes from `RUST_LOG` (default `info`, which includes the one-line-per-request
//!   access log).
//!
//! The [`LogGuard`] returned by [`init`] must live as long as the server: dropping it flushes
//! the lines still queued.

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// The format of the log lines on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (coloured only on a terminal).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Keeps the background log writer running; dropping it flushes the queued lines.
#[derive(Debug)]
pub struct LogGuard {
    _worker: tracing_appender::non_blocking::WorkerGuard,
}

/// The filter used when `RUST_LOG` is not set: `info`, the access log included.
pub const DEFAULT_FILTER: &str = "info";

/// Installs the global subscriber: `RUST_LOG` (default [`DEFAULT_FILTER`]), in `format`, to
/// stderr through a non-blocking writer. Call once, at startup.
pub fn init(format: LogFormat) -> LogGuard {
    let (writer, worker) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("metadata-server-log")
        .finish(std::io::stderr());
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
    LogGuard { _worker: worker }
}
