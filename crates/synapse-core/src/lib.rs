//! Numeric kernels of synapse-g (SYNAPSE-G, Tavakkol et al., KDD'25 MLoG-GenAI).
//!
//! Plain Rust with no Node bindings: the `synapse-napi` crate exposes these to TypeScript.
//!
//! * [`matrix`]: borrowed row-major `f32` matrices with validation, and L2 normalisation.
//! * [`similarity`]: blocked GEMM fused with a bounded per-row heap: the bipartite seed →
//!   corpus graph of Algorithm 2 (and nearest-neighbour search) and the exact kNN graph that
//!   Algorithm 3 propagates over.
//! * [`graph`]: compressed sparse rows, validation and symmetrisation.
//! * [`propagate`]: GBLE label propagation (Algorithm 3).
//! * [`select`]: top-K candidate selection with exclusion.
//! * [`scale`]: out-of-core mining: memory-mapped shards, the IVF graph on disk, streaming
//!   GBLE.
//! * [`logistic`]: L2-regularised logistic regression (the LR baseline's classifier).
#![deny(clippy::all)]

pub mod error;
pub mod graph;
pub mod logistic;
pub mod matrix;
pub mod propagate;
pub mod scale;
pub mod select;
pub mod similarity;
mod topk;

pub use error::{CoreError, Result};
pub use graph::Csr;
pub use logistic::{score_logistic, train_logistic, LogisticModel, LogisticOptions};
pub use matrix::{normalize_rows, Matrix, Normalized};
pub use propagate::{propagate, PropagateOptions};
pub use select::top_candidates;
pub use similarity::{bipartite_top_k, knn_graph, KnnOptions, TopKOptions};
