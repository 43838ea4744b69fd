//! Mapping of core errors to JavaScript errors.
//!
//! `InvalidArgument` becomes an `Error` with `code = "InvalidArg"` and a message starting with
//! the argument name (`"queries: ..."`); the TypeScript layer turns that into a typed
//! `InvalidArgumentError`. Everything else is `GenericFailure`.
use napi::{Error, Status};
use synapse_core::CoreError;

pub fn to_napi(e: CoreError) -> Error {
    let status = match e {
        CoreError::InvalidArgument { .. } => Status::InvalidArg,
        CoreError::Capacity(_) | CoreError::Io(_) => Status::GenericFailure,
        CoreError::Cancelled => Status::Cancelled,
    };
    Error::new(status, e.to_string())
}

pub fn invalid(argument: &str, message: impl std::fmt::Display) -> Error {
    Error::new(Status::InvalidArg, format!("{argument}: {message}"))
}

/// Convert a JS number to a count, rejecting negatives and fractions.
pub fn count(argument: &str, v: f64) -> napi::Result<usize> {
    if !v.is_finite() || v < 0.0 || v.fract() != 0.0 || v > u32::MAX as f64 {
        return Err(invalid(
            argument,
            format!("must be a non-negative integer, got {v}"),
        ));
    }
    Ok(v as usize)
}
