"""Peers of `npm run bench`: faiss, numpy and scipy on the very files ours reads.

    python peers.py <peer> '<case json>'   -> one JSON line {times, median_s, rss_mb, ...}
    python peers.py sgemm                   -> numpy SGEMM 4096^3, best of 5, in GFLOP/s

Run by run.ts with OMP_WAIT_POLICY=PASSIVE and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset, so
faiss's OpenMP threads do not spin against BLAS and OpenBLAS picks its fastest kernel.
Only the work itself is timed (index.add, CSR construction and file reads are not).
"""
import json
import os
import resource
import sys
import time

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load(name, dtype):
    return np.fromfile(os.path.join(OUT, name), dtype=dtype)


def timed(run, reps, warmup):
    for _ in range(warmup):
        run()
    times = []
    out = None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t0)
    return times, out


def bipartite(peer, c):
    p = c["params"]
    d, k, tau = p["dim"], p["k"], p["threshold"]
    corpus = load(p["files"]["corpus"], np.float32).reshape(-1, d)
    queries = load(p["files"]["queries"], np.float32).reshape(-1, d)
    if peer.startswith("faiss"):
        import faiss

        index = faiss.IndexFlatIP(d)
        index.add(corpus)
        # faiss >= 1.8 only uses BLAS from 128,000 queries up (distance_compute_blas_threshold);
        # its own SIMD path is about 6x slower for 100 queries here, so give it BLAS.
        faiss.cvar.distance_compute_blas_threshold = 1

        def run():
            sims, ids = index.search(queries, k)
            return int((sims > tau).sum())

    else:
        ct = corpus  # Q @ C.T uses the transposed view, no copy

        def run():
            s = queries @ ct.T
            part = np.argpartition(-s, k, axis=1)[:, :k]
            top = np.take_along_axis(s, part, axis=1)
            order = np.argsort(-top, axis=1)
            top = np.take_along_axis(top, order, axis=1)
            return int((top > tau).sum())

    return timed(run, c["reps"], c["warmup"])


def knn(peer, c):
    import faiss

    p = c["params"]
    d, k = p["dim"], p["k"]
    corpus = load(p["files"]["corpus"], np.float32).reshape(-1, d)
    index = faiss.IndexFlatIP(d)
    index.add(corpus)
    # Default settings: for all-vs-all, faiss's own SIMD path measured faster here than its
    # BLAS path (33,088 x 512: 7.2 s vs 8.4 s).

    def run():
        sims, ids = index.search(corpus, k + 1)  # self comes back too; drop it
        keep = ids != np.arange(len(corpus))[:, None]
        return int(np.minimum(keep.sum(axis=1), k).sum())

    return timed(run, c["reps"], c["warmup"])


def propagate(peer, c):
    import scipy.sparse as sp

    p = c["params"]
    n = p["rows"]
    offsets = load(p["files"]["offsets"], np.uint32).astype(np.int32)
    ids = load(p["files"]["ids"], np.uint32).view(np.int32)
    y0 = load(p["files"]["y0"], np.float32)
    clamp = load(p["files"]["clamp"], np.uint8).astype(bool)
    deg = np.diff(offsets).astype(np.float32)
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    w = np.repeat(inv, np.diff(offsets))
    a = sp.csr_matrix((w, ids, offsets), shape=(n, n))
    iters = p["iterations"]
    fixed = y0[clamp]

    def run():
        y = y0.copy()
        for _ in range(iters):
            y = a @ y
            y[clamp] = fixed
        return int((y > 0).sum())

    return timed(run, c["reps"], c["warmup"])


def sgemm():
    n = 4096
    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    best = min(timed(lambda: a @ b, 5, 0)[0])
    return {"gflops": 2 * n**3 / best / 1e9, "seconds": best, "numpy": np.__version__}


def main():
    peer = sys.argv[1]
    if peer == "sgemm":
        print(json.dumps(sgemm()))
        return
    c = json.loads(sys.argv[2])
    base = rss_mb()
    kind = c["kind"]
    fn = {"bipartite": bipartite, "knn": knn, "propagate": propagate}[kind]
    times, edges = fn(peer, c)
    versions = {"numpy": np.__version__}
    if peer.startswith("faiss"):
        import faiss

        versions["faiss"] = faiss.__version__
    if peer == "scipy":
        import scipy

        versions["scipy"] = scipy.__version__
    print(
        json.dumps(
            {
                "times": times,
                "median_s": sorted(times)[len(times) // 2],
                "rss_mb": rss_mb(),
                "base_rss_mb": base,
                "edges": edges,
                "versions": versions,
            }
        )
    )


if __name__ == "__main__":
    main()
