//! Asset files: the bytes uploaded with
//! `PUT /projects/{p}/collections/{c}/assets/{a}/upload`, kept content-addressed in one
//! directory (`<db>.assets/` next to the SQLite database, a temporary directory for the
//! memory store).
//!
//! A file is named by the SHA-256 of its bytes (64 lowercase hex digits). An upload is
//! streamed into a temporary file (`*.part`) in the same directory, counted against the size
//! limit as it arrives, fsynced, then renamed to its final name and the directory fsynced: a
//! crash mid-upload leaves at most a `*.part` file (removed the next time the directory is
//! opened) and never a half-written file under a content name, and the bytes of an earlier
//! upload stay intact.
//!
//! Several instances may share one directory (`--assets-dir` with a shared store). What keeps
//! a file from being removed under an upload of another process are two advisory locks
//! (`flock`): the content lock is an exclusive lock on `<dir>/.lock` besides the in-process
//! mutex, and every `*.part` file is locked by the upload writing it, so the cleanup at open
//! removes only parts no live process holds.

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;

use crate::collections;
use crate::store::{Store, StoreResult};

/// Default largest upload, in bytes: 100 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;

/// Bytes kept in memory from the start of an upload to read an image's header.
const HEADER_BYTES: usize = 64 * 1024;

/// The directory of asset files.
#[derive(Debug)]
pub struct AssetFiles {
    dir: PathBuf,
    /// Held while a file's use may change: from an upload's rename to its database commit,
    /// and while unused files are looked up and removed, so a file is never removed under an
    /// upload that is about to use it.
    content_lock: Mutex<()>,
    /// `<dir>/.lock`: the same lock across processes sharing the directory (`flock`, taken
    /// while `content_lock` is held: the lock belongs to this open file, so threads of one
    /// process would not exclude each other through it alone).
    lock_file: File,
    // Keeps the directory of a memory store alive; removed on drop.
    _temp: Option<tempfile::TempDir>,
}

/// What an upload wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// SHA-256 of the bytes, lowercase hex: the file's name.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// The image's MIME type when the bytes start with a known image header.
    pub image_mime: Option<&'static str>,
    /// The image's width and height in pixels, when known.
    pub dimensions: Option<(u64, u64)>,
}

/// Why an upload was not stored.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// More bytes than the limit.
    #[error("the file is larger than the upload limit of {0} bytes")]
    TooLarge(u64),
    /// The file could not be written.
    #[error("the upload could not be stored: {0}")]
    Io(#[from] std::io::Error),
}

/// The content lock (see [`AssetFiles::lock`]): the in-process mutex and the directory's
/// `flock`, released together on drop.
#[derive(Debug)]
pub struct ContentLock<'a> {
    file: &'a File,
    _guard: MutexGuard<'a, ()>,
}

impl Drop for ContentLock<'_> {
    fn drop(&mut self) {
        // Before the mutex (a field, dropped after this), so that the next thread of this
        // process takes the file lock afresh. Closing the file on exit releases it as well.
        if let Err(err) = self.file.unlock() {
            tracing::warn!(error = %err, "could not release the asset directory lock");
        }
    }
}

impl AssetFiles {
    /// Opens (creating it if needed) `dir`, removing `*.part` files left by an interrupted
    /// upload (those no process still writes: another instance's upload in progress holds a
    /// lock on its part file).
    pub fn open(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "part") && part_is_abandoned(&path)? {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    // Finished (renamed) or dropped by its upload since the listing.
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                    Err(err) => return Err(err),
                }
            }
        }
        Self::new(dir, None)
    }

    fn new(dir: PathBuf, temp: Option<tempfile::TempDir>) -> std::io::Result<Self> {
        let lock_file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(".lock"))?;
        Ok(AssetFiles {
            dir,
            content_lock: Mutex::new(()),
            lock_file,
            _temp: temp,
        })
    }

    /// A fresh temporary directory, removed when the value is dropped (memory store).
    pub fn temporary() -> std::io::Result<Self> {
        let temp = tempfile::Builder::new()
            .prefix("metadata-assets-")
            .tempdir()?;
        Self::new(temp.path().to_path_buf(), Some(temp))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding the content `sha256`, if `sha256` is a content name (64 lowercase
    /// hex digits).
    pub fn path(&self, sha256: &str) -> Option<PathBuf> {
        is_content_name(sha256).then(|| self.dir.join(sha256))
    }

    /// Takes the content lock (see [`remove_unused`](Self::remove_unused)): an upload holds
    /// it from [`Upload::finish`] until the asset row naming the file is committed. It
    /// excludes the other threads of this process and, through an `flock` on `<dir>/.lock`,
    /// other processes using the same directory (blocking: call on the blocking pool). When
    /// the file lock cannot be taken (a file system without `flock`), it is logged and the
    /// in-process lock alone is held.
    pub fn lock(&self) -> ContentLock<'_> {
        // The guarded value is `()`: a panic while it was held leaves nothing to repair.
        let guard = self.content_lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(err) = self.lock_file.lock() {
            tracing::warn!(error = %err, dir = %self.dir.display(), "could not lock the asset directory; other processes sharing it are not excluded");
        }
        ContentLock {
            file: &self.lock_file,
            _guard: guard,
        }
    }

    /// Removes the files of `contents` that no live asset of `store` uses (blocking I/O).
    /// Called after the write that released them committed: a crash in between leaves an
    /// unused file, which [`sweep`](Self::sweep) removes at the next start, never a live
    /// asset without its file.
    pub fn remove_unused<S: Store>(&self, store: &S, contents: &[String]) -> StoreResult<()> {
        let _guard = self.lock();
        self.remove_unused_locked(store, contents)
    }

    /// [`remove_unused`](Self::remove_unused) for a caller already holding
    /// [`lock`](Self::lock).
    pub fn remove_unused_locked<S: Store>(
        &self,
        store: &S,
        contents: &[String],
    ) -> StoreResult<()> {
        for content in contents {
            let Some(path) = self.path(content) else {
                continue;
            };
            if collections::content_in_use(store, content)? {
                continue;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    tracing::warn!(error = %err, file = %path.display(), "could not remove an unused asset file");
                }
            }
        }
        Ok(())
    }

    /// Removes every content file no live asset of `store` uses (at start: files left by a
    /// crash between a delete's commit and the file's removal, or by an upload whose asset
    /// went away). Returns how many it removed.
    pub fn sweep<S: Store>(&self, store: &S) -> StoreResult<usize> {
        let _guard = self.lock();
        let mut unused = Vec::new();
        let entries = std::fs::read_dir(&self.dir).map_err(|e| {
            crate::StoreError::Internal(format!("reading the asset directory: {e}"))
        })?;
        for entry in entries.flatten() {
            if let Ok(name) = entry.file_name().into_string() {
                if is_content_name(&name) && !collections::content_in_use(store, &name)? {
                    unused.push(name);
                }
            }
        }
        self.remove_unused_locked(store, &unused)?;
        Ok(unused.len())
    }

    /// Starts an upload: a `*.part` file in the directory.
    pub fn begin(&self, max_bytes: u64) -> std::io::Result<Upload> {
        let file = tempfile::Builder::new()
            .prefix(".upload-")
            .suffix(".part")
            .tempfile_in(&self.dir)?;
        // Marks the part as in use for another instance opening the directory meanwhile.
        file.as_file().lock()?;
        Ok(Upload {
            file,
            dir: self.dir.clone(),
            digest: ring::digest::Context::new(&ring::digest::SHA256),
            size: 0,
            max_bytes,
            header: Vec::new(),
        })
    }
}

/// Whether no process holds the lock of the part file at `path` (the upload that wrote it
/// ended without finishing: a crash). A part that vanished meanwhile counts as abandoned.
fn part_is_abandoned(path: &Path) -> std::io::Result<bool> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(err) => return Err(err),
    };
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        Err(TryLockError::Error(err)) => Err(err),
    }
}

/// `text` is 64 lowercase hex digits.
pub fn is_content_name(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// An upload in progress; dropped unfinished, its `*.part` file is removed.
pub struct Upload {
    file: tempfile::NamedTempFile,
    dir: PathBuf,
    digest: ring::digest::Context,
    size: u64,
    max_bytes: u64,
    header: Vec<u8>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("file", &self.file.path())
            .field("size", &self.size)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl Upload {
    /// Appends a chunk (blocking I/O: call on the blocking pool).
    pub fn write(&mut self, chunk: &Bytes) -> Result<(), UploadError> {
        self.size += chunk.len() as u64;
        if self.size > self.max_bytes {
            return Err(UploadError::TooLarge(self.max_bytes));
        }
        if self.header.len() < HEADER_BYTES {
            let take = (HEADER_BYTES - self.header.len()).min(chunk.len());
            self.header.extend_from_slice(&chunk[..take]);
        }
        self.digest.update(chunk);
        self.file.write_all(chunk)?;
        Ok(())
    }

    /// Fsyncs the bytes, renames the file to its content name and fsyncs the directory
    /// (blocking I/O).
    pub fn finish(self) -> Result<StoredFile, UploadError> {
        let Upload {
            file,
            dir,
            digest,
            size,
            header,
            ..
        } = self;
        file.as_file().sync_all()?;
        let sha256: String = digest
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let target = dir.join(&sha256);
        file.persist(&target)
            .map_err(|e| UploadError::Io(e.error))?;
        std::fs::File::open(&dir)?.sync_all()?;
        let image_mime = imagesize::image_type(&header).ok().and_then(image_mime);
        let dimensions = image_mime
            .and_then(|_| imagesize::blob_size(&header).ok())
            .map(|size| (size.width as u64, size.height as u64));
        Ok(StoredFile {
            sha256,
            size,
            image_mime,
            dimensions,
        })
    }
}

/// The MIME type of the image formats browsers display.
fn image_mime(kind: imagesize::ImageType) -> Option<&'static str> {
    use imagesize::ImageType;
    Some(match kind {
        ImageType::Png => "image/png",
        ImageType::Jpeg => "image/jpeg",
        ImageType::Gif => "image/gif",
        ImageType::Webp => "image/webp",
        ImageType::Bmp => "image/bmp",
        ImageType::Ico => "image/x-icon",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×2 PNG's signature and IHDR chunk: enough for the header reader.
    const PNG_HEADER: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0, 0x12, 0x16, 0xf1, 0x4d,
    ];

    #[test]
    fn an_upload_is_named_by_its_sha256_and_reads_image_headers() {
        let files = AssetFiles::temporary().unwrap();
        let mut upload = files.begin(1024).unwrap();
        upload.write(&Bytes::from_static(PNG_HEADER)).unwrap();
        let stored = upload.finish().unwrap();
        let expected: String = ring::digest::digest(&ring::digest::SHA256, PNG_HEADER)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(stored.sha256, expected);
        assert_eq!(stored.size, PNG_HEADER.len() as u64);
        assert_eq!(stored.image_mime, Some("image/png"));
        assert_eq!(stored.dimensions, Some((3, 2)));
        let path = files.path(&stored.sha256).unwrap();
        assert_eq!(std::fs::read(path).unwrap(), PNG_HEADER);
    }

    #[test]
    fn an_upload_over_the_limit_fails_and_leaves_no_file() {
        let files = AssetFiles::temporary().unwrap();
        let mut upload = files.begin(4).unwrap();
        upload.write(&Bytes::from_static(b"abc")).unwrap();
        let err = upload.write(&Bytes::from_static(b"de")).unwrap_err();
        assert!(matches!(err, UploadError::TooLarge(4)), "{err}");
        drop(upload);
        assert!(names(files.dir()).is_empty());
    }

    /// The files of `dir` but the lock file, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name != ".lock")
            .collect();
        names.sort();
        names
    }

    #[test]
    fn opening_removes_part_files_and_keeps_content_files() {
        let files = AssetFiles::temporary().unwrap();
        std::fs::write(files.dir().join(".upload-x.part"), b"half").unwrap();
        std::fs::write(files.dir().join("a".repeat(64)), b"whole").unwrap();
        let reopened = AssetFiles::open(files.dir()).unwrap();
        assert_eq!(names(reopened.dir()), ["a".repeat(64)]);
    }

    #[test]
    fn opening_keeps_the_part_of_an_upload_another_instance_is_writing() {
        let first = AssetFiles::temporary().unwrap();
        let mut upload = first.begin(1024).unwrap();
        upload.write(&Bytes::from_static(b"in progress")).unwrap();
        std::fs::write(first.dir().join(".upload-crashed.part"), b"half").unwrap();
        // A second instance starting on the same directory meanwhile.
        let second = AssetFiles::open(first.dir()).unwrap();
        let left = names(second.dir());
        assert_eq!(
            left.len(),
            1,
            "only the live upload's part is left: {left:?}"
        );
        assert!(left[0].ends_with(".part") && left[0] != ".upload-crashed.part");
        let stored = upload.finish().unwrap();
        assert_eq!(
            std::fs::read(second.path(&stored.sha256).unwrap()).unwrap(),
            b"in progress"
        );
    }

    #[test]
    fn the_content_lock_excludes_other_instances_on_the_same_directory() {
        let first = AssetFiles::temporary().unwrap();
        let second = AssetFiles::open(first.dir()).unwrap();
        // What another process's `lock()` would do: its own open file of `.lock`.
        let other = File::open(first.dir().join(".lock")).unwrap();
        {
            let _held = second.lock();
            assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        }
        other.try_lock().expect("free once the guard is dropped");
        other.unlock().unwrap();
        // And the lock is taken again by the next holder of this process.
        let _again = first.lock();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
    }

    #[test]
    fn content_names_are_64_lowercase_hex_digits() {
        assert!(is_content_name(&"0f".repeat(32)));
        for bad in ["", "../etc/passwd", &"0F".repeat(32), &"0".repeat(63)] {
            assert!(!is_content_name(bad), "{bad}");
        }
    }
}
