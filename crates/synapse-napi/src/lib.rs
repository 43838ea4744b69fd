//! Node-API binding of `synapse-core`. Thin by design: argument conversion, error mapping and
//! off-main-thread scheduling only; every algorithm lives in the core crate.
//!
//! Panic policy: heavy calls run as `AsyncTask`s on the libuv pool and catch panics inside
//! `compute`; synchronous exports use `catch_unwind`. No panic crosses the FFI boundary.
#![deny(clippy::all)]

mod embed;
mod error;
mod graph;
mod logistic;
mod matrix;
mod scale;
mod task;
