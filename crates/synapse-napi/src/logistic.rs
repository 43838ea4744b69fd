//! Logistic regression (the LR baseline's classifier).
use crate::error::{count, to_napi};
use crate::task::Job;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use synapse_core::{score_logistic, train_logistic, LogisticModel, LogisticOptions, Matrix};

/// Options of `trainLogisticNative`.
#[napi(object)]
pub struct LogisticNativeOptions {
    /// L2 penalty on the weights.
    pub l2: f64,
    /// Gradient steps.
    pub iterations: f64,
    /// Weight classes inversely to their frequency. @default true
    pub balanced: Option<bool>,
    /// Warm start: initial weights (length `dim`) ...
    pub init_weights: Option<Float64Array>,
    /// ... and bias.
    pub init_bias: Option<f64>,
}

/// A trained logistic model.
#[napi(object)]
pub struct LogisticNativeModel {
    pub weights: Float64Array,
    pub bias: f64,
}

/// Train on rows `rows` of the row-major matrix `x` (`dim` columns) with labels `y` (one byte
/// per row, non-zero = positive). Runs off the main thread.
#[napi(ts_return_type = "Promise<LogisticNativeModel>")]
pub fn train_logistic_native(
    x: Float32Array,
    dim: f64,
    rows: Uint32Array,
    y: Uint8Array,
    options: LogisticNativeOptions,
) -> Result<AsyncTask<impl Task>> {
    let dim = count("dim", dim)?;
    let opts = LogisticOptions {
        l2: options.l2,
        iterations: count("iterations", options.iterations)?,
        balanced: options.balanced.unwrap_or(true),
    };
    let init = options.init_weights.map(|w| LogisticModel {
        weights: w.to_vec(),
        bias: options.init_bias.unwrap_or(0.0),
    });
    Ok(Job::new(move || {
        let m = Matrix::new("x", &x, dim).map_err(to_napi)?;
        train_logistic(&m, &rows, &y, init.as_ref(), &opts)
            .map(|r| LogisticNativeModel {
                weights: Float64Array::new(r.weights),
                bias: r.bias,
            })
            .map_err(to_napi)
    }))
}

/// `P(positive)` of rows `rows` of `x` (every row when omitted). Runs off the main thread.
#[napi(ts_return_type = "Promise<Float32Array>")]
pub fn score_logistic_native(
    weights: Float64Array,
    bias: f64,
    x: Float32Array,
    dim: f64,
    rows: Option<Uint32Array>,
) -> Result<AsyncTask<impl Task>> {
    let dim = count("dim", dim)?;
    let model = LogisticModel {
        weights: weights.to_vec(),
        bias,
    };
    Ok(Job::new(move || {
        let m = Matrix::new("x", &x, dim).map_err(to_napi)?;
        score_logistic(&model, &m, rows.as_deref())
            .map(Float32Array::new)
            .map_err(to_napi)
    }))
}
