//! The local Sequence Metadata server (work in progress).
