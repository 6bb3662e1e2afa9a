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
//!   access log). Without `RUST_LOG`, the webrpc router's per-call span is left out: its
//!   fields (service, method) repeat the access line's path, and recording it for every call
//!   cost as much as the access line itself (callgrind). The router's own events (a call that
//!   failed, with its error) are still written. `RUST_LOG=info` logs with the span.
//! - Lines are batched: the writer thread writes what is queued with one `write` and then
//!   flushes, rather than one system call per line.
//!
//! The [`LogGuard`] returned by [`init`] must live as long as the server: dropping it flushes
//! the lines still queued.

use std::io::{BufWriter, IsTerminal};

use clap::ValueEnum;
use tracing::Metadata;
use tracing_subscriber::filter::{filter_fn, FilterFn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
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

/// The target of the webrpc router's per-call span.
const ROUTER_TARGET: &str = "webrpc_server::router";

/// Lets everything through, or (`skip_router_spans`, without `RUST_LOG`) everything but the
/// router's spans.
fn span_filter(skip_router_spans: bool) -> FilterFn<impl Fn(&Metadata<'_>) -> bool> {
    filter_fn(move |metadata| {
        !(skip_router_spans && metadata.is_span() && metadata.target() == ROUTER_TARGET)
    })
}

/// Installs the global subscriber: `RUST_LOG` (default [`DEFAULT_FILTER`], see the module
/// docs), in `format`, to stderr through a non-blocking writer. Call once, at startup.
pub fn init(format: LogFormat) -> LogGuard {
    let (writer, worker) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("metadata-server-log")
        .finish(BufWriter::new(std::io::stderr()));
    let (filter, spans) = match EnvFilter::try_from_default_env() {
        Ok(filter) => (filter, span_filter(false)),
        Err(_) => (EnvFilter::new(DEFAULT_FILTER), span_filter(true)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .finish()
            .with(spans)
            .init(),
        LogFormat::Json => builder.json().with_ansi(false).finish().with(spans).init(),
    }
    LogGuard { _worker: worker }
}
