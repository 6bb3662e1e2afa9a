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
use sequence_metadata::{Asset, Collection, ContractCollection, Timestamp, TokenMetadata};

use super::store::{
    caller_gone, fill_page, stored_token, AssetRow, CollectionRow, CollectionScope, ContractRow,
    PageRequest, Paged, ReadTx, Store, StoreError, StoreResult, Table, TokenRow, WriteTx,
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
    // 2: the content hash of an asset's uploaded bytes, its own column (never read from the
    // user-settable `url`). Assets uploaded before have none and must be uploaded again.
    r#"
    ALTER TABLE assets ADD COLUMN content TEXT;
    CREATE INDEX assets_content ON assets (content) WHERE deleted_at IS NULL AND content IS NOT NULL;
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

/// A collection's metadata as stored (a collection always has some).
fn metadata_json(row: &CollectionRow) -> StoreResult<String> {
    match &row.metadata {
        Some(metadata) => to_json(metadata),
        None => to_json(&sequence_metadata::CollectionMetadata::default()),
    }
}

fn table_name(table: Table) -> &'static str {
    match table {
        Table::Collections => "collections",
        Table::Tokens => "tokens",
        Table::Contracts => "contract_collections",
        Table::Assets => "assets",
    }
}

/// A collection row as read; decoded outside rusqlite's row callback so JSON and timestamp
/// errors surface as store errors.
struct SqlCollection {
    id: i64,
    project_id: i64,
    metadata: String,
    private: bool,
    reveal_key: String,
    created_at: String,
    updated_at: String,
}

impl SqlCollection {
    const COLUMNS: &'static str =
        "id, project_id, metadata, private, reveal_key, created_at, updated_at";

    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(SqlCollection {
            id: row.get(0)?,
            project_id: row.get(1)?,
            metadata: row.get(2)?,
            private: row.get(3)?,
            reveal_key: row.get(4)?,
            created_at: row.get(5)?,
            updated_at: row.get(6)?,
        })
    }

    /// The stored size of the row, as it counts against a page's byte budget.
    fn bytes(&self) -> (u64, usize) {
        (
            from_sql(self.id),
            self.metadata.len() + self.reveal_key.len() + 128,
        )
    }

    fn decode(self) -> StoreResult<CollectionRow> {
        Ok(Collection {
            id: from_sql(self.id),
            project_id: from_sql(self.project_id),
            metadata: Some(serde_json::from_str(&self.metadata).map_err(json_error)?),
            private: self.private,
            reveal_key: self.reveal_key,
            created_at: parse_timestamp(&self.created_at)?,
            updated_at: parse_timestamp(&self.updated_at)?,
            ..Collection::default()
        })
    }
}

/// A token row as read.
struct SqlToken {
    seq: i64,
    collection_id: i64,
    token_id: String,
    metadata: String,
    private: bool,
    updated_at: String,
}

impl SqlToken {
    const COLUMNS: &'static str = "id, collection_id, token_id, metadata, private, updated_at";

    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(SqlToken {
            seq: row.get(0)?,
            collection_id: row.get(1)?,
            token_id: row.get(2)?,
            metadata: row.get(3)?,
            private: row.get(4)?,
            updated_at: row.get(5)?,
        })
    }

    fn bytes(&self) -> (u64, usize) {
        (
            from_sql(self.seq),
            self.metadata.len() + self.token_id.len() + 64,
        )
    }

    fn decode(self) -> StoreResult<TokenRow> {
        let token: TokenMetadata = serde_json::from_str(&self.metadata).map_err(json_error)?;
        Ok(TokenRow {
            seq: from_sql(self.seq),
            collection_id: from_sql(self.collection_id),
            token: stored_token(token, &self.token_id, parse_timestamp(&self.updated_at)?),
            private: self.private,
            deleted_at: None,
        })
    }
}

struct SqlAsset {
    id: i64,
    project_id: i64,
    collection_id: i64,
    token_id: Option<String>,
    data: String,
    updated_at: String,
    content: Option<String>,
}

impl SqlAsset {
    const COLUMNS: &'static str =
        "id, project_id, collection_id, token_id, data, updated_at, content";

    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(SqlAsset {
            id: row.get(0)?,
            project_id: row.get(1)?,
            collection_id: row.get(2)?,
            token_id: row.get(3)?,
            data: row.get(4)?,
            updated_at: row.get(5)?,
            content: row.get(6)?,
        })
    }

    fn decode(self) -> StoreResult<AssetRow> {
        let mut asset: Asset = serde_json::from_str(&self.data).map_err(json_error)?;
        asset.id = from_sql(self.id);
        asset.collection_id = from_sql(self.collection_id);
        asset.token_id = self.token_id;
        asset.updated_at = parse_timestamp(&self.updated_at)?;
        Ok(AssetRow {
            project_id: from_sql(self.project_id),
            asset,
            content: self.content,
            deleted_at: None,
        })
    }
}

struct SqlContract {
    link: ContractCollection,
    project_id: i64,
    created_at: String,
    updated_at: String,
}

impl SqlContract {
    const COLUMNS: &'static str =
        "id, chain_id, contract_address, collection_id, project_id, created_at, updated_at";

    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(SqlContract {
            link: ContractCollection {
                id: from_sql(row.get(0)?),
                chain_id: from_sql(row.get(1)?),
                contract_address: row.get(2)?,
                collection_id: from_sql(row.get(3)?),
            },
            project_id: row.get(4)?,
            created_at: row.get(5)?,
            updated_at: row.get(6)?,
        })
    }

    fn decode(self) -> StoreResult<ContractRow> {
        Ok(ContractRow {
            project_id: from_sql(self.project_id),
            link: self.link,
            created_at: parse_timestamp(&self.created_at)?,
            updated_at: parse_timestamp(&self.updated_at)?,
            deleted_at: None,
        })
    }
}

/// One row (or none) of `sql` with `params`, decoded.
fn one<R, T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    read: fn(&Row<'_>) -> rusqlite::Result<R>,
    decode: fn(R) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row(params, read).optional())
        .map_err(internal)?
        .map(decode)
        .transpose()
}

/// Every row of `sql` with `params`, decoded.
fn all<R, T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    read: fn(&Row<'_>) -> rusqlite::Result<R>,
    decode: fn(R) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| {
            stmt.query_map(params, read)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(internal)?
        .into_iter()
        .map(decode)
        .collect()
}

fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> StoreResult<()> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params))
        .map_err(internal)?;
    Ok(())
}

/// The rows of a read snapshot or a write transaction (a `Transaction` derefs to a
/// `Connection`).
struct SqlTx<'a> {
    conn: &'a Connection,
}

impl ReadTx for SqlTx<'_> {
    fn collection(&self, id: u64) -> StoreResult<Option<CollectionRow>> {
        one(
            self.conn,
            &format!(
                "SELECT {} FROM collections WHERE id = ?1 AND deleted_at IS NULL",
                SqlCollection::COLUMNS
            ),
            params![to_sql(id)],
            SqlCollection::read,
            SqlCollection::decode,
        )
    }

    fn collection_scope(&self, id: u64) -> StoreResult<Option<CollectionScope>> {
        self.conn
            .prepare_cached(
                "SELECT project_id, private FROM collections WHERE id = ?1 AND deleted_at IS NULL",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![to_sql(id)], |row| {
                    Ok(CollectionScope {
                        project_id: from_sql(row.get(0)?),
                        private: row.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(internal)
    }

    fn collections(&self, project: u64, page: PageRequest) -> StoreResult<Paged<CollectionRow>> {
        let (limit, offset, after) = limit_offset_after(page);
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {} FROM collections \
                 WHERE project_id = ?1 AND deleted_at IS NULL AND id > ?4 \
                 ORDER BY id LIMIT ?2 OFFSET ?3",
                SqlCollection::COLUMNS
            ))
            .map_err(internal)?;
        // Rows are read one at a time and the page stops at its byte budget.
        let rows = stmt
            .query_map(
                params![to_sql(project), limit, offset, after],
                SqlCollection::read,
            )
            .map_err(internal)?
            .map(|row| row.map_err(internal));
        fill_page(rows, page, SqlCollection::bytes, SqlCollection::decode)
    }

    fn token_count(&self, collection_id: u64) -> StoreResult<u64> {
        self.conn
            .prepare_cached(
                "SELECT COUNT(*) FROM tokens WHERE collection_id = ?1 AND deleted_at IS NULL",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![to_sql(collection_id)], |row| row.get::<_, i64>(0))
            })
            .map(from_sql)
            .map_err(internal)
    }

    fn token(&self, collection_id: u64, token_id: &str) -> StoreResult<Option<TokenRow>> {
        one(
            self.conn,
            &format!(
                "SELECT {} FROM tokens \
                 WHERE collection_id = ?1 AND token_id = ?2 AND deleted_at IS NULL",
                SqlToken::COLUMNS
            ),
            params![to_sql(collection_id), token_id],
            SqlToken::read,
            SqlToken::decode,
        )
    }

    fn tokens(&self, collection_id: u64, page: PageRequest) -> StoreResult<Paged<TokenRow>> {
        let (limit, offset, after) = limit_offset_after(page);
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {} FROM tokens \
                 WHERE collection_id = ?1 AND deleted_at IS NULL AND id > ?4 \
                 ORDER BY id LIMIT ?2 OFFSET ?3",
                SqlToken::COLUMNS
            ))
            .map_err(internal)?;
        let rows = stmt
            .query_map(
                params![to_sql(collection_id), limit, offset, after],
                SqlToken::read,
            )
            .map_err(internal)?
            .map(|row| row.map_err(internal));
        fill_page(rows, page, SqlToken::bytes, SqlToken::decode)
    }

    fn contract(&self, id: u64) -> StoreResult<Option<ContractRow>> {
        one(
            self.conn,
            &format!(
                "SELECT {} FROM contract_collections WHERE id = ?1 AND deleted_at IS NULL",
                SqlContract::COLUMNS
            ),
            params![to_sql(id)],
            SqlContract::read,
            SqlContract::decode,
        )
    }

    fn contract_by_key(
        &self,
        project: u64,
        chain_id: u64,
        address: &str,
    ) -> StoreResult<Option<ContractRow>> {
        one(
            self.conn,
            &format!(
                "SELECT {} FROM contract_collections WHERE project_id = ?1 AND chain_id = ?2 \
                 AND contract_address = ?3 AND deleted_at IS NULL",
                SqlContract::COLUMNS
            ),
            params![to_sql(project), to_sql(chain_id), address],
            SqlContract::read,
            SqlContract::decode,
        )
    }

    fn contracts(
        &self,
        project: u64,
        collection_id: Option<u64>,
        page: PageRequest,
    ) -> StoreResult<Vec<ContractRow>> {
        let (limit, offset, after) = limit_offset_after(page);
        all(
            self.conn,
            &format!(
                "SELECT {} FROM contract_collections \
                 WHERE project_id = ?1 AND deleted_at IS NULL \
                   AND (?2 IS NULL OR collection_id = ?2) AND id > ?5 \
                 ORDER BY id LIMIT ?3 OFFSET ?4",
                SqlContract::COLUMNS
            ),
            params![
                to_sql(project),
                collection_id.map(to_sql),
                limit,
                offset,
                after
            ],
            SqlContract::read,
            SqlContract::decode,
        )
    }

    fn asset(&self, id: u64) -> StoreResult<Option<AssetRow>> {
        one(
            self.conn,
            &format!(
                "SELECT {} FROM assets WHERE id = ?1 AND deleted_at IS NULL",
                SqlAsset::COLUMNS
            ),
            params![to_sql(id)],
            SqlAsset::read,
            SqlAsset::decode,
        )
    }

    fn token_assets(&self, collection_id: u64, token_id: &str) -> StoreResult<Vec<AssetRow>> {
        all(
            self.conn,
            &format!(
                "SELECT {} FROM assets \
                 WHERE collection_id = ?1 AND token_id = ?2 AND deleted_at IS NULL ORDER BY id",
                SqlAsset::COLUMNS
            ),
            params![to_sql(collection_id), token_id],
            SqlAsset::read,
            SqlAsset::decode,
        )
    }

    fn content_in_use(&self, content: &str) -> StoreResult<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM assets WHERE content = ?1 AND deleted_at IS NULL)",
            )
            .and_then(|mut stmt| stmt.query_row([content], |row| row.get(0)))
            .map_err(internal)
    }

    fn last_id(&self, table: Table) -> StoreResult<u64> {
        let last: Option<i64> = self
            .conn
            .prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([table_name(table)], |row| row.get(0))
                    .optional()
            })
            .map_err(internal)?;
        Ok(last.map_or(0, from_sql))
    }
}

impl WriteTx for SqlTx<'_> {
    fn next_id(&mut self, table: Table) -> StoreResult<u64> {
        // `sqlite_sequence` is AUTOINCREMENT's own counter: bumping it here hands out the id
        // and keeps it from ever coming back (SQLite keeps it at least the largest id
        // inserted); it rolls back with the transaction.
        let name = table_name(table);
        let last = self.last_id(table)?;
        if last == 0 {
            exec(
                self.conn,
                "DELETE FROM sqlite_sequence WHERE name = ?1",
                [name],
            )?;
            exec(
                self.conn,
                "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, 1)",
                [name],
            )?;
        } else {
            exec(
                self.conn,
                "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = ?1",
                [name],
            )?;
        }
        Ok(last + 1)
    }

    fn insert_collection(&mut self, row: &CollectionRow) -> StoreResult<()> {
        exec(
            self.conn,
            "INSERT INTO collections \
             (id, project_id, metadata, private, reveal_key, created_at, updated_at, deleted_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                to_sql(row.id),
                to_sql(row.project_id),
                metadata_json(row)?,
                row.private,
                row.reveal_key,
                row.created_at.to_string(),
                row.updated_at.to_string(),
                row.deleted_at.map(|t| t.to_string())
            ],
        )
    }

    fn update_collection(&mut self, row: &CollectionRow) -> StoreResult<()> {
        exec(
            self.conn,
            "UPDATE collections SET project_id = ?2, metadata = ?3, private = ?4, \
             reveal_key = ?5, created_at = ?6, updated_at = ?7, deleted_at = ?8 WHERE id = ?1",
            params![
                to_sql(row.id),
                to_sql(row.project_id),
                metadata_json(row)?,
                row.private,
                row.reveal_key,
                row.created_at.to_string(),
                row.updated_at.to_string(),
                row.deleted_at.map(|t| t.to_string())
            ],
        )
    }

    fn insert_token(&mut self, row: &TokenRow) -> StoreResult<()> {
        exec(
            self.conn,
            "INSERT INTO tokens \
             (id, collection_id, token_id, metadata, private, updated_at, deleted_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                to_sql(row.seq),
                to_sql(row.collection_id),
                row.token.token_id,
                to_json(&row.token)?,
                row.private,
                row.token.updated_at.to_string(),
                row.deleted_at.map(|t| t.to_string())
            ],
        )
    }

    fn update_token(&mut self, row: &TokenRow) -> StoreResult<()> {
        exec(
            self.conn,
            "UPDATE tokens SET collection_id = ?2, token_id = ?3, metadata = ?4, private = ?5, \
             updated_at = ?6, deleted_at = ?7 WHERE id = ?1",
            params![
                to_sql(row.seq),
                to_sql(row.collection_id),
                row.token.token_id,
                to_json(&row.token)?,
                row.private,
                row.token.updated_at.to_string(),
                row.deleted_at.map(|t| t.to_string())
            ],
        )
    }

    fn update_tokens_of(
        &mut self,
        collection_id: u64,
        change: &mut dyn FnMut(&mut TokenRow) -> bool,
    ) -> StoreResult<()> {
        let rows = all(
            self.conn,
            &format!(
                "SELECT {} FROM tokens WHERE collection_id = ?1 AND deleted_at IS NULL ORDER BY id",
                SqlToken::COLUMNS
            ),
            params![to_sql(collection_id)],
            SqlToken::read,
            SqlToken::decode,
        )?;
        for mut row in rows {
            if change(&mut row) {
                self.update_token(&row)?;
            }
        }
        Ok(())
    }

    fn insert_contract(&mut self, row: &ContractRow) -> StoreResult<()> {
        exec(
            self.conn,
            "INSERT INTO contract_collections (id, project_id, chain_id, contract_address, \
             collection_id, created_at, updated_at, deleted_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                to_sql(row.link.id),
                to_sql(row.project_id),
                to_sql(row.link.chain_id),
                row.link.contract_address,
                to_sql(row.link.collection_id),
                row.created_at.to_string(),
                row.updated_at.to_string(),
                row.deleted_at.map(|t| t.to_string())
            ],
        )
    }

    fn update_contract(&mut self, row: &ContractRow) -> StoreResult<()> {
        exec(
            self.conn,
            "UPDATE contract_collections SET project_id = ?2, chain_id = ?3, \
             contract_address = ?4, collection_id = ?5, created_at = ?6, updated_at = ?7, \
             deleted_at = ?8 WHERE id = ?1",
            params![
                to_sql(row.link.id),
                to_sql(row.project_id),
                to_sql(row.link.chain_id),
                row.link.contract_address,
                to_sql(row.link.collection_id),
                row.created_at.to_string(),
                row.updated_at.to_string(),
                row.deleted_at.map(|t| t.to_string())
            ],
        )
    }

    fn update_contracts_of(
        &mut self,
        collection_id: u64,
        change: &mut dyn FnMut(&mut ContractRow) -> bool,
    ) -> StoreResult<()> {
        let rows = all(
            self.conn,
            &format!(
                "SELECT {} FROM contract_collections \
                 WHERE collection_id = ?1 AND deleted_at IS NULL ORDER BY id",
                SqlContract::COLUMNS
            ),
            params![to_sql(collection_id)],
            SqlContract::read,
            SqlContract::decode,
        )?;
        for mut row in rows {
            if change(&mut row) {
                self.update_contract(&row)?;
            }
        }
        Ok(())
    }

    fn insert_asset(&mut self, row: &AssetRow) -> StoreResult<()> {
        exec(
            self.conn,
            "INSERT INTO assets \
             (id, project_id, collection_id, token_id, data, updated_at, deleted_at, content) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                to_sql(row.asset.id),
                to_sql(row.project_id),
                to_sql(row.asset.collection_id),
                row.asset.token_id,
                to_json(&row.asset)?,
                row.asset.updated_at.to_string(),
                row.deleted_at.map(|t| t.to_string()),
                row.content
            ],
        )
    }

    fn update_asset(&mut self, row: &AssetRow) -> StoreResult<()> {
        exec(
            self.conn,
            "UPDATE assets SET project_id = ?2, collection_id = ?3, token_id = ?4, data = ?5, \
             updated_at = ?6, deleted_at = ?7, content = ?8 WHERE id = ?1",
            params![
                to_sql(row.asset.id),
                to_sql(row.project_id),
                to_sql(row.asset.collection_id),
                row.asset.token_id,
                to_json(&row.asset)?,
                row.asset.updated_at.to_string(),
                row.deleted_at.map(|t| t.to_string()),
                row.content
            ],
        )
    }

    fn update_assets_of(
        &mut self,
        collection_id: u64,
        token_id: Option<&str>,
        change: &mut dyn FnMut(&mut AssetRow) -> bool,
    ) -> StoreResult<()> {
        let rows = all(
            self.conn,
            &format!(
                "SELECT {} FROM assets WHERE collection_id = ?1 \
                 AND (?2 IS NULL OR token_id = ?2) AND deleted_at IS NULL ORDER BY id",
                SqlAsset::COLUMNS
            ),
            params![to_sql(collection_id), token_id],
            SqlAsset::read,
            SqlAsset::decode,
        )?;
        for mut row in rows {
            if change(&mut row) {
                self.update_asset(&row)?;
            }
        }
        Ok(())
    }
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
    fn read_conn<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
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
    fn write_conn<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.lock_writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(internal)?;
        // Checked once the write lock is held (in process and in SQLite): the wait for it
        // is where a burst of calls queues up.
        if caller_gone() {
            return Err(StoreError::Cancelled);
        }
        let out = f(&tx)?;
        tx.commit().map_err(internal)?;
        Ok(out)
    }

    /// A server setting.
    pub fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        self.read_conn(|conn| {
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
        self.write_conn(|conn| {
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

    fn read<T>(&self, f: impl FnOnce(&dyn ReadTx) -> StoreResult<T>) -> StoreResult<T> {
        self.read_conn(|conn| f(&SqlTx { conn }))
    }

    fn write<T>(&self, f: impl FnOnce(&mut dyn WriteTx) -> StoreResult<T>) -> StoreResult<T> {
        self.write_conn(|conn| f(&mut SqlTx { conn }))
    }
}
