//! The schema's error catalogue.

webrpc_core::error_catalogue! {
    /// The errors of the `sequence-metadata` schema, besides webrpc's built-ins
    /// ([`BuiltinError`](webrpc_core::BuiltinError)).
    ///
    /// Errors travel as [`WebrpcError`](webrpc_core::WebrpcError); match them with
    /// `err.kind::<MetadataError>()` or `err.is(MetadataError::NotFound)`. Matching is by code,
    /// as in Sequence's own clients.
    ///
    /// **Codes are not unique across Sequence's services.** Its separate auth layer, which
    /// answers before the Metadata service does, reuses some codes with other names: 1005
    /// `Aborted`, 1007 `RateLimited` (429), 1008 `ProjectNotFound` (401), 1009
    /// `SecretKeyCorsDisallowed` (403), 1010 `InvalidScope` (403). So a code lookup can name
    /// the wrong error: the [`WebrpcError`](webrpc_core::WebrpcError) a client returns keeps
    /// the raw `error`, `code`, `msg`, `cause` and `status` it received, and
    /// [`name`](webrpc_core::WebrpcError::name) is what the server actually said.
    ///
    /// ```
    /// use sequence_metadata::MetadataError;
    ///
    /// let err = MetadataError::NotFound.with_cause("collection 999999");
    /// assert_eq!((err.name(), err.code(), err.msg(), err.status()), ("NotFound", 3000, "Resource not found", 400));
    /// assert_eq!(err.kind::<MetadataError>(), Some(MetadataError::NotFound));
    /// ```
    pub enum MetadataError {
        /// Missing or invalid credentials.
        Unauthorized = (1000, "Unauthorized access", 401),
        /// The credentials do not allow this call.
        PermissionDenied = (1001, "Permission denied", 403),
        /// The session has expired.
        SessionExpired = (1002, "Session expired", 403),
        /// No such method.
        MethodNotFound = (1003, "Method not found", 404),
        /// The request conflicts with the target resource's state.
        RequestConflict = (1004, "Conflict with target resource", 409),
        /// The request failed. The published OpenAPI document lists it under 5XX, but
        /// Sequence's clients (and this catalogue) use HTTP 400.
        Fail = (1005, "Request Failed", 400),
        /// The caller's region is blocked.
        Geoblocked = (1006, "Geoblocked region", 451),
        /// A background task failed.
        TaskFailed = (1007, "Task failed", 400),
        /// The method is deprecated.
        Deprecated = (1008, "RPC method is deprecated", 400),
        /// The request took too long.
        Timeout = (2000, "Request timed out", 408),
        /// An argument has an invalid value.
        InvalidArgument = (2001, "Invalid argument", 400),
        /// A required argument is missing.
        RequiredArgument = (2002, "Required argument missing", 400),
        /// A query failed.
        QueryFailed = (2003, "Query failed", 400),
        /// The data does not validate.
        ValidationFailed = (2004, "Validation failed", 400),
        /// Too many requests.
        RateLimited = (2005, "Rate limited", 429),
        /// No such resource (collection, token, asset, contract).
        NotFound = (3000, "Resource not found", 400),
        /// No such project.
        ProjectNotFound = (3002, "Project not found", 400),
        /// No such chain.
        ChainNotFound = (3003, "Chain not found", 400),
        /// The token directory is disabled.
        TokenDirectoryDisabled = (4001, "Token Directory is disabled", 400),
    }
}
