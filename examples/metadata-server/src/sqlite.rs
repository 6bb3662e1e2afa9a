//! [`SqliteStore`]: the [`Store`] in a SQLite database file, the server's default.
//!
//! **Durability.** The database runs in WAL mode with `synchronous=FULL`: every write is
//! one transaction, committed (and the WAL fsynced) before the call is answered, so an
//! answered write survives a restart, `kill -9` and a power cut. The schema is created on
//! first open and migrated forward with `PRAGMA user_version`.
//!
//! **Concurrency.** One writer connection behind a mutex: writes run one at a time, each a
//! `BEGIN IMMEDIATE` transaction that reads, checks and writes, so parallel updates and
//! publishes cannot lose one another. Reads use a small pool of read-only connections and
//! run beside the writer (WAL readers see the last committed state). All of it blocks, so
//! the service calls the store on tokio's blocking pool ([`Store::BLOCKING`]).
//!
//! **Layout.** Collections, tokens, contract links and assets each have a table with a
//! `deleted_at` column (soft deletion); unique keys (a token id within a collection, a
//! contract within a project) are partial unique indexes over live rows. Metadata objects
//! are kept as JSON text. `settings` holds server settings such as the generated JWT secret.
//!
//! SQLite's own error texts (which may name tables or files) stay in
//! [`StoreError::Internal`], which the service logs and never sends.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};
use sequence_metadata::{
    Asset, Collection, CollectionMetadata, ContractCollection, Timestamp, TokenMetadata,
};

use super::store::{
    asset_token_key, encoded_len, fill_page, next_timestamp, stored_token, ContractUpdate,
    PageFill, PageRequest, Paged, Store, StoreError, StoreResult,
};

/// The schema, one migration per `user_version` step. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r#"
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE collections (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id  INTEGER NOT NULL,
        metadata    TEXT NOT NULL,
        private     INTEGER NOT NULL,
        reveal_key  TEXT NOT NULL DEFAULT '',
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        deleted_at  TEXT
    );
    CREATE INDEX collections_live ON collections (project_id, id) WHERE deleted_at IS NULL;
    CREATE TABLE tokens (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        collection_id  INTEGER NOT NULL REFERENCES collections (id),
        token_id       TEXT NOT NULL,
        metadata       TEXT NOT NULL,
        private        INTEGER NOT NULL,
        updated_at     TEXT NOT NULL,
        deleted_at     TEXT
    );
    CREATE UNIQUE INDEX tokens_unique ON tokens (collection_id, token_id) WHERE deleted_at IS NULL;
    CREATE INDEX tokens_live ON tokens (collection_id, id) WHERE deleted_at IS NULL;
    CREATE TABLE contract_collections (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id        INTEGER NOT NULL,
        chain_id          INTEGER NOT NULL,
        contract_address  TEXT NOT NULL,
        collection_id     INTEGER NOT NULL REFERENCES collections (id),
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL,
        deleted_at        TEXT
    );
    CREATE UNIQUE INDEX contract_collections_unique
        ON contract_collections (project_id, chain_id, contract_address) WHERE deleted_at IS NULL;
    CREATE INDEX contract_collections_live
        ON contract_collections (project_id, collection_id, id) WHERE deleted_at IS NULL;
    CREATE TABLE assets (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id     INTEGER NOT NULL,
        collection_id  INTEGER NOT NULL REFERENCES collections (id),
        token_id       TEXT,
        data           TEXT NOT NULL,
        updated_at     TEXT NOT NULL,
        deleted_at     TEXT
    );
    CREATE INDEX assets_live ON assets (collection_id, token_id) WHERE deleted_at IS NULL;
    "#,
];

/// Idle read connections kept for reuse.
const MAX_IDLE_READERS: usize = 8;

/// How long a connection waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The settings key of the generated JWT secret.
pub const JWT_SECRET_SETTING: &str = "jwt_secret";

/// The [`Store`] in a SQLite file. See the module docs.
pub struct SqliteStore {
    path: PathBuf,
    // Readers are declared (so dropped) first: the writer, closing last, checkpoints the
    // WAL into the database file and removes it.
    readers: Mutex<Vec<Connection>>,
    writer: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn internal(err: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(code, _) = &err {
        if code.code == rusqlite::ErrorCode::ConstraintViolation {
            // The service checks unique keys first, in the same transaction; this only
            // catches what those checks would have missed.
            return StoreError::Conflict(format!("unique constraint violated: {err}"));
        }
    }
    StoreError::Internal(err.to_string())
}

fn json_error(err: serde_json::Error) -> StoreError {
    StoreError::Internal(format!("stored JSON: {err}"))
}

/// `u64` ids and chain ids are stored in SQLite's `i64`, bit for bit.
fn to_sql(value: u64) -> i64 {
    value as i64
}

fn from_sql(value: i64) -> u64 {
    value as u64
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(json_error)
}

fn parse_timestamp(text: &str) -> StoreResult<Timestamp> {
    Timestamp::parse(text)
        .map_err(|err| StoreError::Internal(format!("stored timestamp {text:?}: {err}")))
}

/// `LIMIT`, `OFFSET` and the id to start after (0: from the first row; ids start at 1) of a
/// page's query. One row more than the page is read, to know whether more follow.
fn limit_offset_after(page: PageRequest) -> (i64, i64, i64) {
    (
        i64::from(page.page_size) + 1,
        i64::try_from(page.offset()).unwrap_or(i64::MAX),
        page.after
            .map_or(0, |id| i64::try_from(id).unwrap_or(i64::MAX)),
    )
}

/// The stored size of a collection row, as it counts against a page's byte budget.
fn collection_row_bytes(row: &CollectionRow) -> (u64, usize) {
    (
        from_sql(row.id),
        row.metadata.len() + row.reveal_key.len() + 128,
    )
}

const COLLECTION_COLUMNS: &str = "c.id, c.project_id, c.metadata, c.private, c.reveal_key, \
     c.created_at, c.updated_at, \
     (SELECT COUNT(*) FROM tokens t WHERE t.collection_id = c.id AND t.deleted_at IS NULL)";

/// A collection row as read; decoded outside rusqlite's row callback so JSON and timestamp
/// errors surface as store errors.
struct CollectionRow {
    id: i64,
    project_id: i64,
    metadata: String,
    private: bool,
    reveal_key: String,
    created_at: String,
    updated_at: String,
    token_count: i64,
}

impl CollectionRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(CollectionRow {
            id: row.get(0)?,
            project_id: row.get(1)?,
            metadata: row.get(2)?,
            private: row.get(3)?,
            reveal_key: row.get(4)?,
            created_at: row.get(5)?,
            updated_at: row.get(6)?,
            token_count: row.get(7)?,
        })
    }

    fn decode(self) -> StoreResult<Collection> {
        Ok(Collection {
            id: from_sql(self.id),
            project_id: from_sql(self.project_id),
            metadata: Some(serde_json::from_str(&self.metadata).map_err(json_error)?),
            private: self.private,
            reveal_key: self.reveal_key,
            token_count: Some(from_sql(self.token_count)),
            created_at: parse_timestamp(&self.created_at)?,
            updated_at: parse_timestamp(&self.updated_at)?,
            ..Collection::default()
        })
    }
}

/// A token row as read: internal id, token JSON, private flag, updated_at.
struct TokenRow {
    seq: i64,
    token_id: String,
    metadata: String,
    private: bool,
    updated_at: String,
}

impl TokenRow {
    const COLUMNS: &'static str = "id, token_id, metadata, private, updated_at";

    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(TokenRow {
            seq: row.get(0)?,
            token_id: row.get(1)?,
            metadata: row.get(2)?,
            private: row.get(3)?,
            updated_at: row.get(4)?,
        })
    }

    fn decode(&self) -> StoreResult<TokenMetadata> {
        let token: TokenMetadata = serde_json::from_str(&self.metadata).map_err(json_error)?;
        Ok(stored_token(
            token,
            &self.token_id,
            parse_timestamp(&self.updated_at)?,
        ))
    }
}

struct AssetRow {
    id: i64,
    collection_id: i64,
    token_id: Option<String>,
    data: String,
    updated_at: String,
}

impl AssetRow {
    const COLUMNS: &'static str = "id, collection_id, token_id, data, updated_at";

    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(AssetRow {
            id: row.get(0)?,
            collection_id: row.get(1)?,
            token_id: row.get(2)?,
            data: row.get(3)?,
            updated_at: row.get(4)?,
        })
    }

    fn decode(self) -> StoreResult<Asset> {
        let mut asset: Asset = serde_json::from_str(&self.data).map_err(json_error)?;
        asset.id = from_sql(self.id);
        asset.collection_id = from_sql(self.collection_id);
        asset.token_id = self.token_id;
        asset.updated_at = parse_timestamp(&self.updated_at)?;
        Ok(asset)
    }
}

fn link_from_row(row: &Row<'_>) -> rusqlite::Result<ContractCollection> {
    Ok(ContractCollection {
        id: from_sql(row.get(0)?),
        chain_id: from_sql(row.get(1)?),
        contract_address: row.get(2)?,
        collection_id: from_sql(row.get(3)?),
    })
}

const LINK_COLUMNS: &str = "id, chain_id, contract_address, collection_id";

// ---- queries shared by reads and writes (a `Transaction` derefs to a `Connection`) ----

fn find_collection(conn: &Connection, project: u64, id: u64) -> StoreResult<Collection> {
    conn.prepare_cached(&format!(
        "SELECT {COLLECTION_COLUMNS} FROM collections c \
         WHERE c.id = ?1 AND c.project_id = ?2 AND c.deleted_at IS NULL"
    ))
    .and_then(|mut stmt| {
        stmt.query_row(params![to_sql(id), to_sql(project)], CollectionRow::read)
            .optional()
    })
    .map_err(internal)?
    .ok_or_else(|| StoreError::NotFound(format!("collection {id}")))?
    .decode()
}

fn find_token(
    conn: &Connection,
    collection_id: u64,
    token_id: &str,
) -> StoreResult<Option<TokenRow>> {
    conn.prepare_cached(&format!(
        "SELECT {} FROM tokens WHERE collection_id = ?1 AND token_id = ?2 AND deleted_at IS NULL",
        TokenRow::COLUMNS
    ))
    .and_then(|mut stmt| {
        stmt.query_row(params![to_sql(collection_id), token_id], TokenRow::read)
            .optional()
    })
    .map_err(internal)
}

fn token_not_found(collection_id: u64, token_id: &str) -> StoreError {
    StoreError::NotFound(format!("token {token_id} of collection {collection_id}"))
}

fn find_link_by_key(
    conn: &Connection,
    project: u64,
    chain_id: u64,
    address: &str,
) -> StoreResult<Option<ContractCollection>> {
    conn.prepare_cached(&format!(
        "SELECT {LINK_COLUMNS} FROM contract_collections \
         WHERE project_id = ?1 AND chain_id = ?2 AND contract_address = ?3 AND deleted_at IS NULL"
    ))
    .and_then(|mut stmt| {
        stmt.query_row(
            params![to_sql(project), to_sql(chain_id), address],
            link_from_row,
        )
        .optional()
    })
    .map_err(internal)
}

fn link_not_found(chain_id: u64, address: &str) -> StoreError {
    StoreError::NotFound(format!("contract {address} on chain {chain_id}"))
}

fn link_conflict(chain_id: u64, address: &str) -> StoreError {
    StoreError::Conflict(format!(
        "contract {address} on chain {chain_id} is already linked to a collection"
    ))
}

fn find_asset(conn: &Connection, project: u64, id: u64) -> StoreResult<Asset> {
    conn.prepare_cached(&format!(
        "SELECT {} FROM assets WHERE id = ?1 AND project_id = ?2 AND deleted_at IS NULL",
        AssetRow::COLUMNS
    ))
    .and_then(|mut stmt| {
        stmt.query_row(params![to_sql(id), to_sql(project)], AssetRow::read)
            .optional()
    })
    .map_err(internal)?
    .ok_or_else(|| StoreError::NotFound(format!("asset {id}")))?
    .decode()
}

/// Checks an asset's collection (and token) exist, live, in the project.
fn check_asset_target(conn: &Connection, project: u64, asset: &Asset) -> StoreResult<()> {
    find_collection(conn, project, asset.collection_id)?;
    if let Some(token_id) = &asset.token_id {
        if find_token(conn, asset.collection_id, token_id.as_str())?.is_none() {
            return Err(token_not_found(asset.collection_id, token_id.as_str()));
        }
    }
    Ok(())
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Exclusive)
        .map_err(internal)?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(internal)?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::Internal(format!(
            "the database has schema version {version}, newer than this server's {known}"
        )));
    }
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql).map_err(internal)?;
        tx.pragma_update(None, "user_version", step as i64 + 1)
            .map_err(internal)?;
    }
    tx.commit().map_err(internal)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, in WAL mode with
    /// `synchronous=FULL`, and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        let path = path.as_ref().to_path_buf();
        let mut writer = Connection::open(&path).map_err(internal)?;
        writer.busy_timeout(BUSY_TIMEOUT).map_err(internal)?;
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(internal)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Internal(format!(
                "could not switch the database to WAL mode (got {mode})"
            )));
        }
        writer
            .pragma_update(None, "synchronous", "FULL")
            .map_err(internal)?;
        writer
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(internal)?;
        migrate(&mut writer)?;
        Ok(SqliteStore {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// Opens an existing database read-only (SQLite's `SQLITE_OPEN_READ_ONLY`), to serve a
    /// snapshot or a database this process must not change. Reads work as usual; every write
    /// fails with SQLite's "attempt to write a readonly database", which reaches clients as
    /// the generic store failure (`WebrpcInternalError`, 500) and the server log in full.
    ///
    /// The schema must be this server's version: a read-only database cannot be migrated.
    pub fn open_read_only(path: impl AsRef<Path>) -> StoreResult<Self> {
        let path = path.as_ref().to_path_buf();
        let writer = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(internal)?;
        writer.busy_timeout(BUSY_TIMEOUT).map_err(internal)?;
        let version: i64 = writer
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(internal)?;
        let known = MIGRATIONS.len() as i64;
        if version != known {
            return Err(StoreError::Internal(format!(
                "a read-only database must have schema version {known}, found {version}"
            )));
        }
        Ok(SqliteStore {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open_reader(&self) -> StoreResult<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(internal)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(internal)?;
        Ok(conn)
    }

    fn lock_writer(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-write dropped its transaction, which rolled back: the connection is
        // fine to reuse.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in one read transaction (a consistent snapshot) on a pooled connection.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => self.open_reader()?,
        };
        let result = {
            let tx = conn.transaction().map_err(internal)?;
            let out = f(&tx);
            // A read transaction has nothing to commit; ending it releases the snapshot.
            tx.finish().map_err(internal)?;
            out
        };
        let mut idle = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        result
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the writer, committed when `f`
    /// succeeds (and rolled back when it fails).
    ///
    /// A call whose caller went away while this waited for the write lock (an h2 reset, a
    /// handler timeout: see [`webrpc_server::CallHandle`]) writes nothing.
    fn write<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.lock_writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(internal)?;
        // Checked once the write lock is held (in process and in SQLite): the wait for it
        // is where a burst of calls queues up.
        if webrpc_server::CallHandle::current().is_some_and(|call| call.is_cancelled()) {
            return Err(StoreError::Cancelled);
        }
        let out = f(&tx)?;
        tx.commit().map_err(internal)?;
        Ok(out)
    }

    /// A server setting.
    pub fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        self.read(|conn| {
            conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
            .map_err(internal)
        })
    }

    /// The setting `key`, storing `make()` as its value first if it has none. Returns the
    /// value kept (another process may have stored one first).
    pub fn setting_or_insert(
        &self,
        key: &str,
        make: impl FnOnce() -> StoreResult<String>,
    ) -> StoreResult<String> {
        self.write(|conn| {
            let existing: Option<String> = conn
                .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
                    row.get(0)
                })
                .optional()
                .map_err(internal)?;
            match existing {
                Some(value) => Ok(value),
                None => {
                    let value = make()?;
                    conn.execute(
                        "INSERT INTO settings (key, value) VALUES (?1, ?2)",
                        params![key, value],
                    )
                    .map_err(internal)?;
                    Ok(value)
                }
            }
        })
    }
}

impl Store for SqliteStore {
    const BLOCKING: bool = true;

    fn create_collection(
        &self,
        project: u64,
        metadata: CollectionMetadata,
        reveal_key: String,
    ) -> StoreResult<Collection> {
        let metadata = to_json(&metadata)?;
        self.write(|conn| {
            let now = next_timestamp(None).to_string();
            conn.prepare_cached(
                "INSERT INTO collections (project_id, metadata, private, reveal_key, created_at, updated_at) \
                 VALUES (?1, ?2, 1, ?3, ?4, ?4)",
            )
            .and_then(|mut stmt| stmt.execute(params![to_sql(project), metadata, reveal_key, now]))
            .map_err(internal)?;
            find_collection(conn, project, from_sql(conn.last_insert_rowid()))
        })
    }

    fn get_collection(&self, project: u64, id: u64) -> StoreResult<Collection> {
        self.read(|conn| find_collection(conn, project, id))
    }

    fn list_collections(&self, project: u64, page: PageRequest) -> StoreResult<Paged<Collection>> {
        let (limit, offset, after) = limit_offset_after(page);
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {COLLECTION_COLUMNS} FROM collections c \
                     WHERE c.project_id = ?1 AND c.deleted_at IS NULL AND c.id > ?4 \
                     ORDER BY c.id LIMIT ?2 OFFSET ?3"
                ))
                .map_err(internal)?;
            // Rows are read one at a time and the page stops at its byte budget.
            let rows = stmt
                .query_map(
                    params![to_sql(project), limit, offset, after],
                    CollectionRow::read,
                )
                .map_err(internal)?
                .map(|row| row.map_err(internal));
            fill_page(rows, page, collection_row_bytes, CollectionRow::decode)
        })
    }

    fn update_collection(
        &self,
        project: u64,
        id: u64,
        metadata: CollectionMetadata,
        reveal_key: String,
    ) -> StoreResult<Collection> {
        let metadata = to_json(&metadata)?;
        self.write(|conn| {
            let current = find_collection(conn, project, id)?;
            let updated_at = next_timestamp(Some(current.updated_at)).to_string();
            conn.execute(
                "UPDATE collections SET metadata = ?1, reveal_key = ?2, updated_at = ?3 WHERE id = ?4",
                params![metadata, reveal_key, updated_at, to_sql(id)],
            )
            .map_err(internal)?;
            find_collection(conn, project, id)
        })
    }

    fn delete_collection(&self, project: u64, id: u64) -> StoreResult<()> {
        self.write(|conn| {
            find_collection(conn, project, id)?;
            let now = Timestamp::now().to_string();
            let id = to_sql(id);
            for sql in [
                "UPDATE collections SET deleted_at = ?1 WHERE id = ?2",
                "UPDATE tokens SET deleted_at = ?1 WHERE collection_id = ?2 AND deleted_at IS NULL",
                "UPDATE assets SET deleted_at = ?1 WHERE collection_id = ?2 AND deleted_at IS NULL",
                "UPDATE contract_collections SET deleted_at = ?1 WHERE collection_id = ?2 AND deleted_at IS NULL",
            ] {
                conn.execute(sql, params![now, id]).map_err(internal)?;
            }
            Ok(())
        })
    }

    fn set_collection_private(
        &self,
        project: u64,
        id: u64,
        private: bool,
        recursive: bool,
    ) -> StoreResult<Collection> {
        self.write(|conn| {
            let current = find_collection(conn, project, id)?;
            let updated_at = next_timestamp(Some(current.updated_at)).to_string();
            conn.execute(
                "UPDATE collections SET private = ?1, updated_at = ?2 WHERE id = ?3",
                params![private, updated_at, to_sql(id)],
            )
            .map_err(internal)?;
            if recursive {
                let changing: Vec<(i64, String)> = conn
                    .prepare_cached(
                        "SELECT id, updated_at FROM tokens \
                         WHERE collection_id = ?1 AND deleted_at IS NULL AND private <> ?2",
                    )
                    .and_then(|mut stmt| {
                        stmt.query_map(params![to_sql(id), private], |row| {
                            Ok((row.get(0)?, row.get(1)?))
                        })?
                        .collect()
                    })
                    .map_err(internal)?;
                let mut update = conn
                    .prepare_cached("UPDATE tokens SET private = ?1, updated_at = ?2 WHERE id = ?3")
                    .map_err(internal)?;
                for (seq, previous) in changing {
                    let at = next_timestamp(Some(parse_timestamp(&previous)?)).to_string();
                    update
                        .execute(params![private, at, seq])
                        .map_err(internal)?;
                }
            }
            find_collection(conn, project, id)
        })
    }

    fn create_contract_collection(
        &self,
        project: u64,
        chain_id: u64,
        contract_address: String,
        collection_id: u64,
    ) -> StoreResult<ContractCollection> {
        self.write(|conn| {
            find_collection(conn, project, collection_id)?;
            if find_link_by_key(conn, project, chain_id, &contract_address)?.is_some() {
                return Err(link_conflict(chain_id, &contract_address));
            }
            let now = Timestamp::now().to_string();
            conn.execute(
                "INSERT INTO contract_collections \
                 (project_id, chain_id, contract_address, collection_id, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![
                    to_sql(project),
                    to_sql(chain_id),
                    contract_address,
                    to_sql(collection_id),
                    now
                ],
            )
            .map_err(internal)?;
            Ok(ContractCollection {
                id: from_sql(conn.last_insert_rowid()),
                chain_id,
                contract_address,
                collection_id,
            })
        })
    }

    fn get_contract_collection(
        &self,
        project: u64,
        chain_id: u64,
        contract_address: &str,
    ) -> StoreResult<ContractCollection> {
        self.read(|conn| {
            find_link_by_key(conn, project, chain_id, contract_address)?
                .ok_or_else(|| link_not_found(chain_id, contract_address))
        })
    }

    fn list_contract_collections(
        &self,
        project: u64,
        collection_id: Option<u64>,
        page: PageRequest,
    ) -> StoreResult<(Paged<ContractCollection>, Vec<Collection>)> {
        let (limit, offset, after) = limit_offset_after(page);
        self.read(|conn| {
            if let Some(id) = collection_id {
                find_collection(conn, project, id)?;
            }
            // Links are small: read the page's worth, then add collections within the
            // budget, each counted with its first link.
            let candidates = conn
                .prepare_cached(&format!(
                    "SELECT {LINK_COLUMNS} FROM contract_collections \
                     WHERE project_id = ?1 AND deleted_at IS NULL \
                       AND (?2 IS NULL OR collection_id = ?2) AND id > ?5 \
                     ORDER BY id LIMIT ?3 OFFSET ?4"
                ))
                .and_then(|mut stmt| {
                    stmt.query_map(
                        params![
                            to_sql(project),
                            collection_id.map(to_sql),
                            limit,
                            offset,
                            after
                        ],
                        link_from_row,
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(internal)?;
            let mut fill = PageFill::new(page);
            let mut links = Vec::new();
            let mut seen = std::collections::BTreeSet::new();
            let mut collections = Vec::new();
            let mut more = false;
            for link in candidates {
                let collection = if seen.contains(&link.collection_id) {
                    None
                } else {
                    Some(find_collection(conn, project, link.collection_id)?)
                };
                let bytes = encoded_len(&link) + collection.as_ref().map_or(0, encoded_len);
                if !fill.admit(bytes) {
                    more = true;
                    break;
                }
                if let Some(collection) = collection {
                    seen.insert(link.collection_id);
                    collections.push(collection);
                }
                links.push(link);
            }
            let next = if more {
                links.last().map(|l| l.id)
            } else {
                None
            };
            Ok((
                Paged {
                    items: links,
                    more,
                    next,
                },
                collections,
            ))
        })
    }

    fn update_contract_collection(
        &self,
        project: u64,
        update: ContractUpdate,
    ) -> StoreResult<ContractCollection> {
        self.write(|conn| {
            let current = match update.id {
                Some(id) => conn
                    .query_row(
                        &format!(
                            "SELECT {LINK_COLUMNS} FROM contract_collections \
                             WHERE id = ?1 AND project_id = ?2 AND deleted_at IS NULL"
                        ),
                        params![to_sql(id), to_sql(project)],
                        link_from_row,
                    )
                    .optional()
                    .map_err(internal)?
                    .ok_or_else(|| StoreError::NotFound(format!("contract collection {id}")))?,
                None => find_link_by_key(conn, project, update.chain_id, &update.contract_address)?
                    .ok_or_else(|| link_not_found(update.chain_id, &update.contract_address))?,
            };
            find_collection(conn, project, update.collection_id)?;
            if let Some(other) =
                find_link_by_key(conn, project, update.chain_id, &update.contract_address)?
            {
                if other.id != current.id {
                    return Err(link_conflict(update.chain_id, &update.contract_address));
                }
            }
            conn.execute(
                "UPDATE contract_collections \
                 SET chain_id = ?1, contract_address = ?2, collection_id = ?3, updated_at = ?4 \
                 WHERE id = ?5",
                params![
                    to_sql(update.chain_id),
                    update.contract_address,
                    to_sql(update.collection_id),
                    Timestamp::now().to_string(),
                    to_sql(current.id)
                ],
            )
            .map_err(internal)?;
            Ok(ContractCollection {
                id: current.id,
                chain_id: update.chain_id,
                contract_address: update.contract_address,
                collection_id: update.collection_id,
            })
        })
    }

    fn delete_contract_collection(
        &self,
        project: u64,
        chain_id: u64,
        contract_address: &str,
    ) -> StoreResult<()> {
        self.write(|conn| {
            let link = find_link_by_key(conn, project, chain_id, contract_address)?
                .ok_or_else(|| link_not_found(chain_id, contract_address))?;
            conn.execute(
                "UPDATE contract_collections SET deleted_at = ?1 WHERE id = ?2",
                params![Timestamp::now().to_string(), to_sql(link.id)],
            )
            .map_err(internal)?;
            Ok(())
        })
    }

    fn create_token(
        &self,
        project: u64,
        collection_id: u64,
        token: TokenMetadata,
        private: Option<bool>,
    ) -> StoreResult<TokenMetadata> {
        self.write(|conn| {
            let collection = find_collection(conn, project, collection_id)?;
            let token_id = token.token_id.clone();
            if find_token(conn, collection_id, &token_id)?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "token {token_id} already exists in collection {collection_id}"
                )));
            }
            let token = stored_token(token, &token_id, next_timestamp(None));
            conn.prepare_cached(
                "INSERT INTO tokens (collection_id, token_id, metadata, private, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    to_sql(collection_id),
                    token_id,
                    to_json(&token)
                        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?,
                    private.unwrap_or(collection.private),
                    token.updated_at.to_string()
                ])
            })
            .map_err(internal)?;
            Ok(token)
        })
    }

    fn get_token(
        &self,
        project: u64,
        collection_id: u64,
        token_id: &str,
    ) -> StoreResult<(TokenMetadata, Vec<Asset>)> {
        self.read(|conn| {
            find_collection(conn, project, collection_id)?;
            let token = find_token(conn, collection_id, token_id)?
                .ok_or_else(|| token_not_found(collection_id, token_id))?
                .decode()?;
            let assets = conn
                .prepare_cached(&format!(
                    "SELECT {} FROM assets \
                     WHERE collection_id = ?1 AND token_id = ?2 AND deleted_at IS NULL ORDER BY id",
                    AssetRow::COLUMNS
                ))
                .and_then(|mut stmt| {
                    stmt.query_map(params![to_sql(collection_id), token_id], AssetRow::read)?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(internal)?
                .into_iter()
                .map(AssetRow::decode)
                .collect::<StoreResult<Vec<_>>>()?;
            Ok((token, assets))
        })
    }

    fn list_tokens(
        &self,
        project: u64,
        collection_id: u64,
        page: PageRequest,
    ) -> StoreResult<Paged<TokenMetadata>> {
        let (limit, offset, after) = limit_offset_after(page);
        self.read(|conn| {
            find_collection(conn, project, collection_id)?;
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {} FROM tokens \
                     WHERE collection_id = ?1 AND deleted_at IS NULL AND id > ?4 \
                     ORDER BY id LIMIT ?2 OFFSET ?3",
                    TokenRow::COLUMNS
                ))
                .map_err(internal)?;
            let rows = stmt
                .query_map(
                    params![to_sql(collection_id), limit, offset, after],
                    TokenRow::read,
                )
                .map_err(internal)?
                .map(|row| row.map_err(internal));
            fill_page(
                rows,
                page,
                |row| {
                    (
                        from_sql(row.seq),
                        row.metadata.len() + row.token_id.len() + 64,
                    )
                },
                |row| row.decode(),
            )
        })
    }

    fn update_token(
        &self,
        project: u64,
        collection_id: u64,
        token_id: &str,
        token: TokenMetadata,
        private: Option<bool>,
    ) -> StoreResult<TokenMetadata> {
        self.write(|conn| {
            find_collection(conn, project, collection_id)?;
            let current = find_token(conn, collection_id, token_id)?
                .ok_or_else(|| token_not_found(collection_id, token_id))?;
            let previous = parse_timestamp(&current.updated_at)?;
            let token = stored_token(token, token_id, next_timestamp(Some(previous)));
            conn.prepare_cached(
                "UPDATE tokens SET metadata = ?1, private = ?2, updated_at = ?3 WHERE id = ?4",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    to_json(&token)
                        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?,
                    private.unwrap_or(current.private),
                    token.updated_at.to_string(),
                    current.seq
                ])
            })
            .map_err(internal)?;
            Ok(token)
        })
    }

    fn delete_token(&self, project: u64, collection_id: u64, token_id: &str) -> StoreResult<()> {
        self.write(|conn| {
            find_collection(conn, project, collection_id)?;
            let current = find_token(conn, collection_id, token_id)?
                .ok_or_else(|| token_not_found(collection_id, token_id))?;
            let now = Timestamp::now().to_string();
            conn.execute(
                "UPDATE tokens SET deleted_at = ?1 WHERE id = ?2",
                params![now, current.seq],
            )
            .map_err(internal)?;
            conn.execute(
                "UPDATE assets SET deleted_at = ?1 \
                 WHERE collection_id = ?2 AND token_id = ?3 AND deleted_at IS NULL",
                params![now, to_sql(collection_id), token_id],
            )
            .map_err(internal)?;
            Ok(())
        })
    }

    fn create_asset(&self, project: u64, mut asset: Asset) -> StoreResult<Asset> {
        self.write(|conn| {
            check_asset_target(conn, project, &asset)?;
            asset.updated_at = next_timestamp(None);
            conn.prepare_cached(
                "INSERT INTO assets (project_id, collection_id, token_id, data, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    to_sql(project),
                    to_sql(asset.collection_id),
                    asset_token_key(&asset.token_id),
                    to_json(&asset)
                        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?,
                    asset.updated_at.to_string()
                ])
            })
            .map_err(internal)?;
            asset.id = from_sql(conn.last_insert_rowid());
            Ok(asset)
        })
    }

    fn get_asset(&self, project: u64, id: u64) -> StoreResult<Asset> {
        self.read(|conn| find_asset(conn, project, id))
    }

    fn update_asset(&self, project: u64, mut asset: Asset) -> StoreResult<Asset> {
        self.write(|conn| {
            let current = find_asset(conn, project, asset.id)?;
            check_asset_target(conn, project, &asset)?;
            asset.updated_at = next_timestamp(Some(current.updated_at));
            conn.execute(
                "UPDATE assets SET collection_id = ?1, token_id = ?2, data = ?3, updated_at = ?4 \
                 WHERE id = ?5",
                params![
                    to_sql(asset.collection_id),
                    asset_token_key(&asset.token_id),
                    to_json(&asset)?,
                    asset.updated_at.to_string(),
                    to_sql(asset.id)
                ],
            )
            .map_err(internal)?;
            Ok(asset)
        })
    }

    fn delete_asset(&self, project: u64, id: u64) -> StoreResult<()> {
        self.write(|conn| {
            find_asset(conn, project, id)?;
            conn.execute(
                "UPDATE assets SET deleted_at = ?1 WHERE id = ?2",
                params![Timestamp::now().to_string(), to_sql(id)],
            )
            .map_err(internal)?;
            Ok(())
        })
    }

    fn public_collection(
        &self,
        project: u64,
        collection_id: u64,
    ) -> StoreResult<Option<CollectionMetadata>> {
        self.read(|conn| match find_collection(conn, project, collection_id) {
            Ok(collection) if !collection.private => Ok(collection.metadata),
            Ok(_) | Err(StoreError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        })
    }

    fn public_token(
        &self,
        project: u64,
        collection_id: u64,
        token_id: &str,
    ) -> StoreResult<Option<TokenMetadata>> {
        self.read(|conn| {
            match find_collection(conn, project, collection_id) {
                Ok(collection) if !collection.private => {}
                Ok(_) | Err(StoreError::NotFound(_)) => return Ok(None),
                Err(err) => return Err(err),
            }
            match find_token(conn, collection_id, token_id)? {
                Some(row) if !row.private => Ok(Some(row.decode()?)),
                _ => Ok(None),
            }
        })
    }

    fn next_collection_id(&self) -> StoreResult<u64> {
        self.read(|conn| {
            let last: Option<i64> = conn
                .query_row(
                    "SELECT seq FROM sqlite_sequence WHERE name = 'collections'",
                    [],
                    |row| row.get(0),
                )
                .optional()
                .map_err(internal)?;
            Ok(from_sql(last.unwrap_or(0)) + 1)
        })
    }
}
