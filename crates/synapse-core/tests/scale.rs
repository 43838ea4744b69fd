//! Out-of-core mining: the on-disk graph against the in-memory kernels, resume, errors.
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use synapse_core::scale::{
    build_disk_graph, propagate_disk, seed_degrees, seed_top_k, write_planted_corpus, DiskGraph,
    DiskGraphOptions, PlantedOptions, Progress, VectorStore,
};
use synapse_core::{knn_graph, propagate, KnnOptions, Matrix, PropagateOptions};

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("synapse-scale-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

fn planted(dir: &Path, rows: usize, shard_rows: usize) -> (VectorStore, PathBuf) {
    let files = write_planted_corpus(
        dir,
        &PlantedOptions {
            rows,
            dim: 32,
            topics: 12,
            subclusters: 8,
            positive_rate: 0.02,
            modes: 2,
            seeds: 6,
            shard_rows,
            seed: 3,
        },
    )
    .unwrap();
    (VectorStore::open(&files.shards, None).unwrap(), files.seeds)
}

fn all_rows(store: &VectorStore) -> Vec<f32> {
    (0..store.rows())
        .flat_map(|i| store.row(i).to_vec())
        .collect()
}

fn edge_sets(g: &DiskGraph) -> Vec<HashSet<u32>> {
    (0..g.rows())
        .map(|i| g.row(i).iter().copied().collect())
        .collect()
}

#[test]
fn shards_read_back_as_one_corpus_of_unit_rows() {
    let dir = tmp("shards");
    let (store, _) = planted(&dir, 1000, 300);
    assert_eq!(store.rows(), 1000);
    assert_eq!(store.dim(), 32);
    assert_eq!(store.blocks(256).len(), 7); // 300-row shards split at 256 (2 each) and the 100-row one
    for i in [0, 299, 300, 999] {
        let s: f32 = store.row(i).iter().map(|x| x * x).sum();
        assert!((s - 1.0).abs() < 1e-4, "row {i} norm² {s}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn all_probes_give_the_exact_symmetric_graph() {
    let dir = tmp("exact");
    let (store, _) = planted(&dir, 1500, 0);
    let opts = DiskGraphOptions {
        k: 8,
        threshold: Some(0.1),
        lists: 6,
        probes: 6,
        ..Default::default()
    };
    let stats = build_disk_graph(&store, &dir.join("g"), &opts, &Progress::new()).unwrap();
    let g = DiskGraph::open(&dir.join("g")).unwrap();
    let data = all_rows(&store);
    let exact = knn_graph(
        &Matrix::new("c", &data, 32).unwrap(),
        &KnnOptions {
            k: 8,
            threshold: Some(0.1),
            symmetric: true,
        },
    )
    .unwrap();
    assert_eq!(stats.edges, exact.ids.len() as u64);
    let got = edge_sets(&g);
    for (i, set) in got.iter().enumerate() {
        let want: HashSet<u32> = exact.row(i).0.iter().copied().collect();
        assert_eq!(set, &want, "row {i}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn few_probes_keep_most_exact_edges() {
    let dir = tmp("approx");
    let (store, _) = planted(&dir, 4000, 0);
    let opts = DiskGraphOptions {
        k: 10,
        probes: 3,
        ..Default::default()
    };
    let stats = build_disk_graph(&store, &dir.join("g"), &opts, &Progress::new()).unwrap();
    assert!(stats.lists > 3);
    let g = DiskGraph::open(&dir.join("g")).unwrap();
    let data = all_rows(&store);
    let exact = knn_graph(
        &Matrix::new("c", &data, 32).unwrap(),
        &KnnOptions {
            k: 10,
            threshold: None,
            symmetric: true,
        },
    )
    .unwrap();
    let got = edge_sets(&g);
    let (mut hit, mut total) = (0usize, 0usize);
    for (i, set) in got.iter().enumerate() {
        for j in exact.row(i).0 {
            total += 1;
            hit += usize::from(set.contains(j));
        }
    }
    let recall = hit as f64 / total as f64;
    assert!(recall > 0.75, "recall {recall}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_build_resumes_from_its_logged_blocks() {
    let dir = tmp("resume");
    let (store, _) = planted(&dir, 3000, 1000);
    let opts = DiskGraphOptions {
        k: 6,
        probes: 2,
        ..Default::default()
    };
    let gdir = dir.join("g");
    build_disk_graph(&store, &gdir, &opts, &Progress::new()).unwrap();
    let before = edge_sets(&DiskGraph::open(&gdir).unwrap());
    // As if killed during the search: no CSR yet, half the search blocks logged, and the rows
    // of the other half overwritten with garbage.
    for f in ["graph.done", "graph.offsets", "graph.ids"] {
        std::fs::remove_file(gdir.join(f)).unwrap();
    }
    let log = std::fs::read(gdir.join("knn.log")).unwrap();
    let keep = log.len() / 8 * 4;
    std::fs::write(gdir.join("knn.log"), &log[..keep + 2]).unwrap(); // + a torn entry
                                                                     // Rows of the unlogged blocks get wrong (but valid) neighbours: a resume must redo them.
    let meta = std::fs::read_to_string(gdir.join("meta.txt")).unwrap();
    let lists: usize = meta
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("lists="))
        .unwrap()
        .parse()
        .unwrap();
    let per_block = lists.div_ceil(256).max(1);
    let logged: HashSet<u32> = log[..keep]
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let assign = std::fs::read(gdir.join("assign.u32")).unwrap();
    let mut ell = std::fs::read(gdir.join("knn.ids")).unwrap();
    let mut redone = 0;
    for (i, a) in assign.chunks(4).enumerate() {
        let list = u32::from_le_bytes([a[0], a[1], a[2], a[3]]) as usize;
        if !logged.contains(&((list / per_block) as u32)) {
            ell[i * 6 * 4..(i + 1) * 6 * 4].fill(0);
            redone += 1;
        }
    }
    assert!(redone > 0);
    std::fs::write(gdir.join("knn.ids"), ell).unwrap();
    let stats = build_disk_graph(&store, &gdir, &opts, &Progress::new()).unwrap();
    assert!(
        stats.resumed_blocks >= keep / 4,
        "resumed {}",
        stats.resumed_blocks
    );
    assert_eq!(stats.seconds[0], 0.0, "k-means redone");
    let after = edge_sets(&DiskGraph::open(&gdir).unwrap());
    assert_eq!(before, after);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn disk_propagation_equals_the_in_memory_gble_graph() {
    let dir = tmp("prop");
    let (store, seeds_path) = planted(&dir, 1200, 0);
    let opts = DiskGraphOptions {
        k: 8,
        threshold: Some(0.0),
        lists: 4,
        probes: 4,
        ..Default::default()
    };
    build_disk_graph(&store, &dir.join("g"), &opts, &Progress::new()).unwrap();
    let g = DiskGraph::open(&dir.join("g")).unwrap();
    let seeds_store = VectorStore::open(&[seeds_path], None).unwrap();
    let seeds = all_rows(&seeds_store);
    let sm = Matrix::new("seeds", &seeds, 32).unwrap();
    let sl = seed_top_k(&store, &sm, 8, Some(0.0), u64::MAX, &Progress::new()).unwrap();
    let n = store.rows();
    let mut y0 = vec![0f32; n];
    let mut clamp = vec![0u8; n];
    y0[5] = -1.0;
    clamp[5] = 1;
    let got = propagate_disk(
        &g,
        &seed_degrees(&sl, n),
        &y0,
        &clamp,
        10,
        u64::MAX,
        &Progress::new(),
    )
    .unwrap();

    // The same graph in memory: corpus rows 0..n, seeds n..n+s, seed edges both ways.
    let s = seeds_store.rows();
    let mut rows: Vec<Vec<u32>> = (0..n).map(|i| g.row(i).to_vec()).collect();
    rows.resize(n + s, Vec::new());
    for q in 0..s {
        for &c in sl.row(q).0 {
            rows[n + q].push(c);
            rows[c as usize].push((n + q) as u32);
        }
    }
    let mut offsets = vec![0u32];
    let mut ids = Vec::new();
    for r in &rows {
        ids.extend_from_slice(r);
        offsets.push(ids.len() as u32);
    }
    let mut y = y0.clone();
    y.resize(n + s, 1.0);
    let mut c = clamp.clone();
    c.resize(n + s, 1);
    let graph = synapse_core::graph::CsrRef {
        offsets: &offsets,
        ids: &ids,
        sims: None,
    };
    let want = propagate(
        &graph,
        &y,
        &c,
        &PropagateOptions {
            iterations: 10,
            weighted: false,
        },
    )
    .unwrap();
    for i in 0..n {
        assert!(
            (got[i] - want[i]).abs() < 1e-5,
            "row {i}: {} vs {}",
            got[i],
            want[i]
        );
    }
    assert!(got.iter().filter(|v| **v > 0.0).count() > 10);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_inputs_are_named() {
    let dir = tmp("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("x.npy");
    std::fs::write(&p, b"\x93NUMPY\x01\x00\x46\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }          \n").unwrap();
    let e = VectorStore::open(std::slice::from_ref(&p), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("float32") && e.contains("x.npy"), "{e}");
    let raw = dir.join("x.f32");
    std::fs::write(&raw, [0u8; 10]).unwrap();
    let e = VectorStore::open(std::slice::from_ref(&raw), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--dim"), "{e}");
    let e = VectorStore::open(std::slice::from_ref(&raw), Some(2))
        .unwrap_err()
        .to_string();
    assert!(e.contains("whole number"), "{e}");
    let mut v = [0.5f32; 40];
    v[2 * 4 + 3] = f32::NAN;
    std::fs::write(
        &raw,
        v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>(),
    )
    .unwrap();
    let store = VectorStore::open(&[raw], Some(4)).unwrap();
    let e = build_disk_graph(
        &store,
        &dir.join("g"),
        &DiskGraphOptions {
            k: 2,
            ..Default::default()
        },
        &Progress::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("row 2") && e.contains("column 3"), "{e}");
    // A work directory of other parameters is refused, not silently mixed.
    let (good, _) = planted(&dir.join("p"), 300, 0);
    build_disk_graph(
        &good,
        &dir.join("g2"),
        &DiskGraphOptions {
            k: 4,
            ..Default::default()
        },
        &Progress::new(),
    )
    .unwrap();
    let e = build_disk_graph(
        &good,
        &dir.join("g2"),
        &DiskGraphOptions {
            k: 5,
            ..Default::default()
        },
        &Progress::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("other vectors or parameters"), "{e}");
    let e = build_disk_graph(
        &good,
        &dir.join("g3"),
        &DiskGraphOptions {
            k: 4,
            memory_limit: 1 << 20,
            ..Default::default()
        },
        &Progress::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("too small"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
