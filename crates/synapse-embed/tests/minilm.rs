//! Agreement with sentence-transformers on all-MiniLM-L6-v2 (reference vectors in
//! `__test__/fixtures/minilm-reference.json`, made by `scripts/make-minilm-reference.py`).
//! Needs the model folder from `scripts/fetch-minilm.sh`; skipped (with a message) without it.
use std::path::PathBuf;
use synapse_embed::SentenceEncoder;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SYNAPSE_MINILM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".cache/models/all-MiniLM-L6-v2"));
    if dir.join("model.safetensors").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: no model folder at {} (run scripts/fetch-minilm.sh)",
            dir.display()
        );
        None
    }
}

struct Reference {
    sentences: Vec<String>,
    vectors: Vec<Vec<f64>>,
}

fn reference() -> Reference {
    let text = std::fs::read_to_string(root().join("__test__/fixtures/minilm-reference.json"))
        .expect("fixture");
    let v: serde_json::Value = serde_json::from_str(&text).expect("fixture json");
    let sentences = v["sentences"]
        .as_array()
        .expect("sentences")
        .iter()
        .map(|s| s.as_str().expect("sentence").to_string())
        .collect();
    let vectors = v["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().expect("number"))
                .collect()
        })
        .collect();
    Reference { sentences, vectors }
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y).sum();
    let na: f64 = a.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|&y| y * y).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn matches_sentence_transformers_reference() {
    let Some(dir) = model_dir() else { return };
    let r = reference();
    let enc = SentenceEncoder::load(&dir, 2).expect("load");
    assert_eq!(enc.dim(), 384);
    assert!(enc.pipeline().normalize);
    for batch in [1, 7, 32] {
        let got = enc.embed(&r.sentences, batch).expect("embed");
        for (i, want) in r.vectors.iter().enumerate() {
            let row = &got[i * 384..(i + 1) * 384];
            let c = cosine(row, want);
            assert!(c >= 0.9999, "batch {batch}, sentence {i}: cosine {c}");
            let norm: f32 = row.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "row {i} norm {norm}");
        }
    }
}

#[test]
fn empty_text_names_the_row() {
    let Some(dir) = model_dir() else { return };
    let enc = SentenceEncoder::load(&dir, 1).expect("load");
    let e = enc
        .embed(&["fine", "  ", "also fine"], 8)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("texts[1]: empty"), "{e}");
}

#[test]
fn long_text_is_truncated_to_max_seq_length() {
    let Some(dir) = model_dir() else { return };
    let enc = SentenceEncoder::load(&dir, 1).expect("load");
    let long = "word ".repeat(2000);
    assert_eq!(enc.tokenize(&long).expect("tokenize").len(), 256);
    let v = enc.embed(&[long.as_str()], 4).expect("embed");
    assert!(v.iter().all(|x| x.is_finite()));
}
