//! Out-of-core mining: corpora larger than memory.
//!
//! * [`store`]: corpus vectors memory-mapped from `.npy` / `.f32` shards, with their resident
//!   pages handed back under a memory budget.
//! * [`graph`]: the IVF kNN graph built block by block into a directory, resumable after a
//!   kill, symmetrised into an on-disk CSR.
//! * [`propagate`]: the seeds' edges by one streaming pass, and GBLE propagation over the
//!   on-disk graph.
//! * [`synth`]: a planted corpus with a ground-truth column, for tests and benchmarks.
//! * [`progress`]: progress and cancellation shared with the caller's thread.
mod files;
pub mod graph;
pub mod progress;
pub mod propagate;
pub mod store;
pub mod synth;

pub use graph::{build_disk_graph, page_budget, DiskGraph, DiskGraphOptions, DiskGraphStats};
pub use progress::Progress;
pub use propagate::{propagate_disk, seed_degrees, seed_top_k};
pub use store::VectorStore;
pub use synth::{write_planted_corpus, PlantedFiles, PlantedOptions};
