//! Logging of the `metadata-server` binary: the access log and the server's own events, to
//! stderr, written off the request path.
//!
//! - Events are formatted on the thread that emits them (one short line) and appended to a
//!   shared buffer that a background writer thread ([`BatchWriter`]) writes out, so a slow
//!   terminal, pipe or disk never stalls a request. The buffer holds up to 16 MiB; when it is
//!   full the emitting thread waits rather than dropping lines, so the access log stays
//!   complete.
//! - ANSI colours only when stderr is a terminal: a file or a pipe gets plain text.
//! - `--log-format json`: one JSON object per line (`timestamp`, `level`, `target`, `fields`).
//! - The level comes from `RUST_LOG` (default `info`, which includes the one-line-per-request
//!   access log). Without `RUST_LOG`, the webrpc router's per-call span is left out: its
//!   fields (service, method) repeat the access line's path, and recording it for every call
//!   cost as much as the access line itself (callgrind). The router's own events (a call that
//!   failed, with its error) are still written. `RUST_LOG=info` logs with the span.
//! - Lines are batched: woken by the first line after a quiet spell, the writer thread
//!   lingers [`LINGER`] for more, then writes them all with one `write`. Under load that is
//!   one wake-up and one system call per 10 ms rather than per line; an idle server's writer
//!   sleeps until there is a line.
//! - Plain-text lines outside any span are formatted by [`PlainText`], which writes the same
//!   line as tracing-subscriber's default format with direct writes instead of one
//!   `format_args!` per part (a third of the cost of an access line). The access line itself,
//!   in plain text without colours, skips the subscriber: [`access_line`] formats the same
//!   bytes and queues them to the writer.
//!
//! The [`LogGuard`] returned by [`init`] must live as long as the server: dropping it flushes
//! the lines still queued.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use clap::ValueEnum;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::{filter_fn, FilterFn};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
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

/// Keeps the background log writer running; dropping it writes the queued lines and stops
/// the writer thread.
#[derive(Debug)]
pub struct LogGuard {
    writer: BatchWriter,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.writer.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How long the writer thread waits for more lines after the first one of a batch.
pub const LINGER: Duration = Duration::from_millis(10);

/// Queued bytes past which the writer stops lingering and writes at once.
const HIGH_WATER: usize = 256 * 1024;

/// Queued bytes at which emitting threads wait for the writer (never lossy).
const CAPACITY: usize = 16 * 1024 * 1024;

/// A [`MakeWriter`](tracing_subscriber::fmt::MakeWriter) whose lines a background thread
/// writes in batches (see the module docs).
///
/// Why not `tracing_appender::non_blocking`: it sends each line as its own `Vec` through a
/// channel, and its worker wakes and writes for every line that finds the channel empty,
/// which under load is most of them (an allocation, a free on another thread and a futex
/// wake per request, measured with callgrind).
#[derive(Debug, Clone)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// The writer thread waits on it: for a first line, or for the end of its linger.
    wake: Condvar,
    /// Emitting threads wait on it while the queue is full.
    room: Condvar,
}

#[derive(Debug, Default)]
struct Queue {
    bytes: Vec<u8>,
    /// The writer thread waits for a first line (a line must wake it).
    idle: bool,
    closed: bool,
}

impl BatchWriter {
    /// A writer whose lines a new thread named `name` writes to `out`.
    pub fn spawn<W: Write + Send + 'static>(
        name: &str,
        out: W,
    ) -> std::io::Result<(BatchWriter, std::thread::JoinHandle<()>)> {
        let writer = BatchWriter {
            shared: Arc::default(),
        };
        let shared = Arc::clone(&writer.shared);
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || shared.run(out))?;
        Ok((writer, thread))
    }

    /// Queues `line`, waiting while the queue is full.
    fn push(&self, line: &[u8]) {
        let shared = &*self.shared;
        let mut queue = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        while queue.bytes.len() >= CAPACITY && !queue.closed {
            queue = shared.room.wait(queue).unwrap_or_else(|e| e.into_inner());
        }
        if queue.closed {
            // No writer thread any more (or never): straight to stderr.
            drop(queue);
            let _ = std::io::stderr().write_all(line);
            return;
        }
        let before = queue.bytes.len();
        queue.bytes.extend_from_slice(line);
        let wake =
            (queue.idle && before == 0) || (before < HIGH_WATER && queue.bytes.len() >= HIGH_WATER);
        drop(queue);
        if wake {
            shared.wake.notify_one();
        }
    }

    /// Stops the writer thread once it has written what is queued; lines pushed after that
    /// are written to stderr at once.
    fn close(&self) {
        let mut queue = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.closed = true;
        drop(queue);
        self.shared.wake.notify_one();
        self.shared.room.notify_all();
    }
}

impl Shared {
    /// The writer thread.
    fn run(&self, mut out: impl Write) {
        let mut batch = Vec::new();
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            while queue.bytes.is_empty() && !queue.closed {
                queue.idle = true;
                queue = self.wake.wait(queue).unwrap_or_else(|e| e.into_inner());
                queue.idle = false;
            }
            if queue.bytes.is_empty() {
                return; // closed, and everything is written
            }
            if !queue.closed && queue.bytes.len() < HIGH_WATER {
                queue = self
                    .wake
                    .wait_timeout(queue, LINGER)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            std::mem::swap(&mut queue.bytes, &mut batch);
            drop(queue);
            self.room.notify_all();
            // Nowhere to report a failed write to: the line is dropped, the server goes on.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            // Keep a big batch's memory only up to the high-water mark.
            batch.clear();
            batch.shrink_to(HIGH_WATER);
            queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Write for &BatchWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.push(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchWriter {
    type Writer = &'a BatchWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
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
    let (writer, thread) = match BatchWriter::spawn("metadata-server-log", std::io::stderr()) {
        Ok((writer, thread)) => (writer, Some(thread)),
        Err(err) => {
            eprintln!("metadata-server: cannot start the log writer thread ({err}): logging to stderr directly");
            let writer = BatchWriter {
                shared: Arc::default(),
            };
            writer.close();
            (writer, None)
        }
    };
    let (filter, spans) = match EnvFilter::try_from_default_env() {
        Ok(filter) => (filter, span_filter(false)),
        Err(_) => (EnvFilter::new(DEFAULT_FILTER), span_filter(true)),
    };
    let log_writer = writer.clone();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let ansi = std::io::stderr().is_terminal();
    if format == LogFormat::Text && !ansi {
        // The access line's own path (see `access_line`); a second `init` keeps the first.
        let _ = ACCESS_WRITER.set(log_writer.clone());
    }
    match format {
        LogFormat::Text => builder
            .with_ansi(ansi)
            .event_format(PlainText::default())
            .finish()
            .with(spans)
            .init(),
        LogFormat::Json => builder.json().with_ansi(false).finish().with(spans).init(),
    }
    LogGuard {
        writer: log_writer,
        thread,
    }
}

/// The text format: tracing-subscriber's default (`Full`) line, written directly when the
/// event is outside any span and colours are off (the access log to a file or a pipe), by
/// the default formatter otherwise.
///
/// `2026-12-01T23:43:24.311896Z  INFO metadata_server::app: request method=POST …`
#[derive(Debug, Default)]
pub struct PlainText {
    fallback: format::Format,
}

impl<S, N> FormatEvent<S, N> for PlainText
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        if writer.has_ansi_escapes() || ctx.event_scope().is_some() {
            return self.fallback.format_event(ctx, writer, event);
        }
        write_utc_now(&mut writer)?;
        let metadata = event.metadata();
        writer.write_str(match *metadata.level() {
            Level::TRACE => "TRACE ",
            Level::DEBUG => "DEBUG ",
            Level::INFO => " INFO ",
            Level::WARN => " WARN ",
            Level::ERROR => "ERROR ",
        })?;
        writer.write_str(metadata.target())?;
        writer.write_str(": ")?;
        let mut fields = FieldWriter {
            writer: &mut writer,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

/// Where [`access_line`] writes directly: set by [`init`] for plain text without colours.
static ACCESS_WRITER: std::sync::OnceLock<BatchWriter> = std::sync::OnceLock::new();

/// The target of the access line: that of the [`MetadataApp`](crate::app::MetadataApp), which
/// writes it (so `RUST_LOG=metadata_server::app=warn` turns it off).
pub const ACCESS_TARGET: &str = "metadata_server::app";

/// Writes the access line of one request, `request method=… path=… status=… elapsed_us=…`,
/// at `info` under [`ACCESS_TARGET`]; the caller has checked that this level is enabled.
///
/// With plain text and no colours (the log of a server under load, to a file or a pipe), the
/// line is formatted here, byte for byte as [`PlainText`] formats the event, and queued to
/// the writer without going through the subscriber: the event's dispatch, field visits and
/// `fmt::Write` calls were a twentieth of the server's time per call. Otherwise it is a
/// `tracing` event.
pub fn access_line(method: &http::Method, path: &str, status: u16, elapsed_us: u64) {
    let Some(writer) = ACCESS_WRITER.get() else {
        tracing::info!(
            target: ACCESS_TARGET,
            method = %method,
            path = %LogPath(path),
            status,
            elapsed_us,
            "request"
        );
        return;
    };
    // One buffer per thread, reused line after line (as tracing-subscriber's formatter does).
    thread_local! {
        static LINE: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    LINE.with_borrow_mut(|line| {
        line.clear();
        let now = std::time::SystemTime::now();
        let _ = write_access_line(line, now, method, path, status, elapsed_us);
        writer.push(line.as_bytes());
    });
}

/// The access line at `time`, as [`PlainText`] writes the event of [`access_line`].
fn write_access_line(
    line: &mut String,
    time: std::time::SystemTime,
    method: &http::Method,
    path: &str,
    status: u16,
    elapsed_us: u64,
) -> fmt::Result {
    let mut writer = Writer::new(line);
    write_time(&mut writer, time)?;
    writer.write_str(" INFO ")?;
    writer.write_str(ACCESS_TARGET)?;
    writer.write_str(": request method=")?;
    writer.write_str(method.as_str())?;
    writer.write_str(" path=")?;
    write!(writer, "{}", LogPath(path))?;
    writer.write_str(" status=")?;
    write_u64(&mut writer, u64::from(status))?;
    writer.write_str(" elapsed_us=")?;
    write_u64(&mut writer, elapsed_us)?;
    writer.write_char('\n')
}

/// A request path in the access log: written as is when it is ASCII (a parsed URI path has no
/// spaces or ASCII control characters), else escaped like a `Debug` string, so a path with
/// C1 control characters in UTF-8 cannot reach a terminal raw. Writing as is skips the
/// per-character escaping that was a tenth of the server's work per request.
struct LogPath<'a>(&'a str);

impl fmt::Display for LogPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii() {
            f.write_str(self.0)
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

/// Writes the fields of an event as the default format does: the message first, then
/// `name=value` separated by spaces, strings quoted and escaped (`Debug`).
struct FieldWriter<'a, 'w> {
    writer: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl FieldWriter<'_, '_> {
    /// Writes the separator and `name=` (nothing for the message).
    fn name(&mut self, field: &Field) -> fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.writer.write_char(' ')?;
        }
        if field.name() != "message" {
            self.writer.write_str(field.name())?;
            self.writer.write_char('=')?;
        }
        Ok(())
    }

    fn write(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self.name(field).and_then(|()| value(self.writer));
        }
    }
}

/// `value` in decimal.
fn write_u64(writer: &mut Writer<'_>, mut value: u64) -> fmt::Result {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    writer.write_str(std::str::from_utf8(&digits[at..]).unwrap_or_default())
}

impl Visit for FieldWriter<'_, '_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.write(field, |w| write_u64(w, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.write(field, |w| {
            if value < 0 {
                w.write_char('-')?;
            }
            write_u64(w, value.unsigned_abs())
        });
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.write(field, |w| w.write_str(if value { "true" } else { "false" }));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.write(field, |w| w.write_str(value));
        } else {
            self.write(field, |w| write!(w, "{value:?}"));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.write(field, |w| write!(w, "{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.write(field, |w| write!(w, "{value:?}"));
    }
}

/// Writes the current UTC time as `YYYY-MM-DDTHH:MM:SS.ffffffZ` and a space.
fn write_utc_now(writer: &mut Writer<'_>) -> fmt::Result {
    write_time(writer, std::time::SystemTime::now())
}

/// Writes `time` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` and a space.
fn write_time(writer: &mut Writer<'_>, time: std::time::SystemTime) -> fmt::Result {
    let since_epoch = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    write_utc(writer, since_epoch.as_secs(), since_epoch.subsec_micros())
}

/// Writes `seconds` since the epoch plus `micros` as `YYYY-MM-DDTHH:MM:SS.ffffffZ ` (years
/// 1970 to 9999).
fn write_utc(writer: &mut Writer<'_>, seconds: u64, micros: u32) -> fmt::Result {
    // Civil date from days since the epoch (Howard Hinnant's `civil_from_days`).
    let days = (seconds / 86_400) as i64;
    let second_of_day = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);

    let mut text = *b"0000-00-00T00:00:00.000000Z ";
    let mut put = |at: usize, width: usize, mut value: u64| {
        for i in (at..at + width).rev() {
            text[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year.clamp(0, 9999) as u64);
    put(5, 2, month as u64);
    put(8, 2, day as u64);
    put(11, 2, second_of_day / 3600);
    put(14, 2, second_of_day / 60 % 60);
    put(17, 2, second_of_day % 60);
    put(20, 6, u64::from(micros));
    // Only ASCII was written.
    writer.write_str(std::str::from_utf8(&text).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// Logs the same events through `format` and through the default format.
    fn both(emit: impl Fn()) -> (String, String) {
        let ours = Buffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(Level::TRACE)
            .with_writer(ours.clone())
            .event_format(PlainText::default())
            .finish();
        tracing::subscriber::with_default(subscriber, &emit);
        let theirs = Buffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(Level::TRACE)
            .with_writer(theirs.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, &emit);
        (ours.text(), theirs.text())
    }

    /// The lines without their timestamps (the text up to the first space).
    fn untimed(text: &str) -> Vec<String> {
        text.lines()
            .map(|line| line.split_once(' ').expect("a timestamp").1.to_owned())
            .collect()
    }

    #[test]
    fn plain_text_lines_match_the_default_format() {
        let (ours, theirs) = both(|| {
            let path = "/rpc/Collections/GetCollection";
            tracing::info!(method = %"POST", path, status = 200u16, elapsed_us = 42u64, "request");
            tracing::warn!(
                delta = -7i64,
                ok = true,
                text = "quote \" and \n",
                "odd {}",
                1
            );
            tracing::error!(error = &std::io::Error::other("disk full") as &dyn std::error::Error);
            tracing::debug!(value = ?Some(3), "debug");
            tracing::trace!("trace");
            let span = tracing::info_span!("webrpc", service = "Collections");
            span.in_scope(|| tracing::info!(elapsed_us = 1u64, "inside a span"));
        });
        assert_eq!(untimed(&ours), untimed(&theirs));
        assert_eq!(ours.lines().count(), 6);
        assert!(
            ours.lines()
                .last()
                .unwrap()
                .contains("webrpc{service=\"Collections\"}:"),
            "events in a span use the default format: {ours}"
        );
    }

    /// An output that records each write, optionally slowly.
    #[derive(Clone, Default)]
    struct Recorder {
        writes: Arc<Mutex<Vec<Vec<u8>>>>,
        delay: Duration,
    }

    impl Write for Recorder {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            std::thread::sleep(self.delay);
            self.writes
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .push(bytes.to_vec());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_batch_writer_writes_every_line_in_order_in_few_writes() {
        let out = Recorder::default();
        let (writer, thread) = BatchWriter::spawn("test-log", out.clone()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..5000 {
                        (&writer)
                            .write_all(format!("thread {t} line {i}\n").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        writer.close();
        thread.join().unwrap();
        let writes = out.writes.lock().unwrap();
        let text = String::from_utf8(writes.concat()).unwrap();
        assert_eq!(text.lines().count(), 20_000, "no line lost");
        for t in 0..4 {
            let mine: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            let expected: Vec<String> = (0..5000).map(|i| format!("thread {t} line {i}")).collect();
            assert_eq!(mine, expected, "thread {t}'s lines whole and in order");
        }
        assert!(
            writes.len() < 2000,
            "20 000 lines in {} writes: batched",
            writes.len()
        );
    }

    #[test]
    fn a_full_queue_makes_the_emitter_wait_instead_of_dropping_lines() {
        // A writer that takes 50 ms per write, and lines that fill the queue many times.
        let out = Recorder {
            delay: Duration::from_millis(50),
            ..Recorder::default()
        };
        let (writer, thread) = BatchWriter::spawn("test-log", out.clone()).unwrap();
        let line = vec![b'x'; 64 * 1024];
        let lines = 3 * CAPACITY / line.len();
        for _ in 0..lines {
            (&writer).write_all(&line).unwrap();
            let queued = writer.shared.queue.lock().unwrap().bytes.len();
            assert!(queued <= CAPACITY + line.len(), "queue bounded: {queued}");
        }
        writer.close();
        thread.join().unwrap();
        let written: usize = out.writes.lock().unwrap().iter().map(Vec::len).sum();
        assert_eq!(written, lines * line.len());
    }

    #[test]
    fn a_first_line_after_a_quiet_spell_is_written_within_the_linger() {
        let out = Recorder::default();
        let (writer, thread) = BatchWriter::spawn("test-log", out.clone()).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        (&writer).write_all(b"one line\n").unwrap();
        // Bounded wait: the line is due after LINGER; give it up to 5 s on a loaded machine.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while out.writes.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(out.writes.lock().unwrap().concat(), b"one line\n");
        writer.close();
        thread.join().unwrap();
    }

    #[test]
    fn the_direct_access_line_is_the_events_line() {
        let (_, theirs) = both(|| {
            for (path, status) in [
                ("/rpc/Collections/GetCollection", 200u16),
                ("/projects/1/\u{9b}31m", 404),
            ] {
                tracing::info!(
                    target: ACCESS_TARGET,
                    method = %http::Method::POST,
                    path = %LogPath(path),
                    status,
                    elapsed_us = 42u64,
                    "request"
                );
            }
        });
        let mut ours = String::new();
        for (path, status) in [
            ("/rpc/Collections/GetCollection", 200u16),
            ("/projects/1/\u{9b}31m", 404),
        ] {
            write_access_line(
                &mut ours,
                std::time::SystemTime::now(),
                &http::Method::POST,
                path,
                status,
                42,
            )
            .unwrap();
        }
        assert_eq!(untimed(&ours), untimed(&theirs));
        assert_eq!(
            untimed(&ours)[0],
            " INFO metadata_server::app: request method=POST path=/rpc/Collections/GetCollection status=200 elapsed_us=42"
        );
        let mut line = String::new();
        let time = std::time::UNIX_EPOCH + Duration::new(1_796_168_273, 311_896_000);
        write_access_line(&mut line, time, &http::Method::GET, "/health", 200, 7).unwrap();
        assert_eq!(
            line,
            "2026-12-01T23:37:53.311896Z  INFO metadata_server::app: request method=GET path=/health status=200 elapsed_us=7\n"
        );
    }

    #[test]
    fn log_path_is_raw_when_ascii_and_escaped_otherwise() {
        assert_eq!(
            LogPath("/rpc/Collections/GetCollection").to_string(),
            "/rpc/Collections/GetCollection"
        );
        assert_eq!(
            LogPath("/projects/1/\u{9b}31m").to_string(),
            "\"/projects/1/\\u{9b}31m\""
        );
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        let line = |seconds: u64, micros: u32| {
            let mut text = String::new();
            write_utc(&mut Writer::new(&mut text), seconds, micros).unwrap();
            text
        };
        assert_eq!(line(0, 0), "1970-01-01T00:00:00.000000Z ");
        assert_eq!(line(951_782_400, 7), "2000-02-29T00:00:00.000007Z ");
        assert_eq!(line(1_796_168_273, 311_896), "2026-12-01T23:37:53.311896Z ");
        assert_eq!(
            line(253_402_300_799, 999_999),
            "9999-12-31T23:59:59.999999Z "
        );
        // The default timer agrees on the current time's layout.
        let mut now = String::new();
        write_utc_now(&mut Writer::new(&mut now)).unwrap();
        assert_eq!(now.len(), "1970-01-01T00:00:00.000000Z ".len());
    }
}
