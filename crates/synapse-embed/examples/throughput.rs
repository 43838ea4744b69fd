//! Quick throughput check: `cargo run --release -p synapse-embed --example throughput -- <model dir> <tsv> [n] [batch] [threads]`.
use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dir = a.get(1).expect("model dir");
    let tsv = a.get(2).expect("tsv with a sentence column");
    let n: usize = a.get(3).map_or(2000, |s| s.parse().expect("n"));
    let batch: usize = a.get(4).map_or(32, |s| s.parse().expect("batch"));
    let threads: usize = a.get(5).map_or(0, |s| s.parse().expect("threads"));
    let text = std::fs::read_to_string(tsv).expect("read tsv");
    let texts: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .take(n)
        .collect();
    let t0 = Instant::now();
    let enc = synapse_embed::SentenceEncoder::load(dir.as_ref(), threads).expect("load");
    println!("load {:.2}s, {:?}", t0.elapsed().as_secs_f64(), enc);
    enc.embed(&texts[..texts.len().min(64)], batch)
        .expect("warm-up");
    for _ in 0..3 {
        let t = Instant::now();
        let v = enc.embed(&texts, batch).expect("embed");
        let s = t.elapsed().as_secs_f64();
        println!(
            "{} texts in {:.3}s = {:.0} sentences/s ({} floats)",
            texts.len(),
            s,
            texts.len() as f64 / s,
            v.len()
        );
    }
}
