//! One error type for every kernel. Each variant names the argument that was wrong so the
//! binding can surface it as a typed JavaScript error.
use thiserror::Error;

/// Errors returned by the kernels. No kernel panics on bad input.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// An argument is malformed: wrong length, non-finite values, out-of-range ids, ...
    #[error("{argument}: {message}")]
    InvalidArgument {
        /// The name of the offending argument as the caller spelled it (e.g. `queries`).
        argument: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A result does not fit the output format (e.g. more than 2^32 - 1 edges).
    #[error("{0}")]
    Capacity(String),
    /// A file could not be read or written (the message names the file and the operation).
    #[error("{0}")]
    Io(String),
    /// The caller asked the work to stop.
    #[error("cancelled")]
    Cancelled,
}

/// Shorthand result type.
pub type Result<T> = std::result::Result<T, CoreError>;

/// Build an [`CoreError::InvalidArgument`].
pub fn invalid(argument: &'static str, message: impl Into<String>) -> CoreError {
    CoreError::InvalidArgument {
        argument,
        message: message.into(),
    }
}

/// Build a [`CoreError::Io`] naming the file and what was being done to it.
pub fn io_error(path: &std::path::Path, what: &str, e: std::io::Error) -> CoreError {
    CoreError::Io(format!("{}: cannot {what}: {e}", path.display()))
}
