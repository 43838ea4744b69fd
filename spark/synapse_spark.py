"""GBLE (Algorithm 3 of the SYNAPSE-G paper) on Apache Spark: the similarity graph and label
propagation as Spark jobs, for corpora too large for one machine's all-pairs pass.

It computes exactly what the single-machine path computes (src/strategies/gble.ts over the Rust
kernels):

* the corpus graph: each corpus row's top ``d_max`` other rows by cosine similarity, strictly
  above ``tau`` (ties: higher similarity first, then the smaller id), made undirected (the union of
  every edge and its reverse);
* the seed edges: each seed's top ``d_max`` corpus rows above ``tau``, in both directions; seeds
  are nodes ``N .. N+S-1`` after the ``N`` corpus rows;
* propagation: seeds and confirmed positives clamped to 1, oracle negatives to the negative label
  (-1 by default), unlabeled rows 0; ``Y <- D^-1 A Y`` for ``iterations`` steps with uniform
  ``1/deg`` weights, clamped rows reset after every step; rows without edges get 0.

Inputs are Parquet shards of ``(id int, vector binary)``: ``id`` is the 0-based row, ``vector``
the row's float32 values, little-endian (``dim * 4`` bytes). The graph is written as Parquet
``(src int, dst int, sim float)``, both directions of every edge.

Subcommands (``spark-submit spark/synapse_spark.py SUBCOMMAND --help`` for the flags):

``graph``
    Build the graph once: (a) the seed step with the seeds broadcast, (b) the corpus kNN graph by
    blocked all-pairs (the corpus cut into row blocks, block pairs cross-joined, a numpy matmul and
    a per-row top-k per pair, then the partial lists merged per row to the top ``d_max`` above
    ``tau``), symmetrised; written to ``--graph``, with counts in ``--stats`` (JSON).
``propagate``
    One round: labels in (a JSON file of positive and negative corpus rows), corpus scores out
    (``--scores``: a Parquet file with one float32 column ``score``, row ``i`` = corpus row ``i``).
``session``
    ``graph`` (unless ``--graph`` already holds one) and then ``propagate`` requests, one per
    mining round, in the same Spark application, so a mining session pays for one JVM start and
    keeps the graph cached in executor memory. Requests are files ``request-*.json`` in
    ``--control`` (written by the caller, e.g. src/engines/spark.ts); each answer is announced on
    stdout. ``{"op": "stop"}`` ends it; so do the death of ``--owner-pid`` and ``--idle-timeout``.

Progress goes to stdout as lines ``progress stage=STAGE done=D total=T``; the session also prints
``ready stats=FILE``, ``done request=NAME`` and ``failed request=NAME message=...`` (the caller
follows these). Propagation keeps the label vector ``Y`` (``N + S`` doubles) on the driver and
broadcasts it every step; the graph stays distributed as CSR row blocks, so a step is one
shuffle-free pass over the graph.

Needs pyspark, numpy and pyarrow on the driver, and pyspark and numpy on the executors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import traceback

import numpy as np

NEG_INF = np.float32(-np.inf)
# The input shards' columns (given, so Spark need not read every footer to infer them).
INPUT_SCHEMA = "id INT, vector BINARY"


def say(line: str) -> None:
    """A protocol line on stdout (spark-submit forwards the driver's stdout)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def progress(stage: str, done: int, total: int) -> None:
    say(f"progress stage={stage} done={done} total={total}")


# --------------------------------------------------------------------------- top-k selection


def select_topk(sims: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``sims``/``ids`` (same shape, ``-inf`` = no candidate), the ``k`` best entries
    by (similarity descending, id ascending), as two ``rows x k`` arrays padded with ``-inf`` and
    id -1. Exact including ties at the k-th place."""
    rows, m = sims.shape
    if m > k:
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        s = np.take_along_axis(sims, part, axis=1)
        i = np.take_along_axis(ids, part, axis=1)
        # A row whose k-th value is tied with an entry left out may have kept a larger id than
        # the one left out: redo those (rare) rows with a full sort.
        kth = s.min(axis=1)
        ties = np.nonzero((kth > NEG_INF) & ((sims >= kth[:, None]).sum(axis=1) > k))[0]
        for r in ties:
            order = np.lexsort((ids[r], -sims[r]))[:k]
            s[r] = sims[r, order]
            i[r] = ids[r, order]
    else:
        s = sims
        i = ids
        if m < k:
            s = np.concatenate([s, np.full((rows, k - m), NEG_INF, np.float32)], axis=1)
            i = np.concatenate([i, np.full((rows, k - m), -1, np.int64)], axis=1)
    order = np.lexsort((i, -s), axis=1)
    return np.take_along_axis(s, order, axis=1), np.take_along_axis(i, order, axis=1)


def merge_topk(a, b, k: int):
    """Merge two partial top-k lists of the same rows."""
    return select_topk(np.concatenate([a[0], b[0]], axis=1), np.concatenate([a[1], b[1]], axis=1), k)


def scored(q: np.ndarray, c: np.ndarray, c_ids: np.ndarray, tau: float, self_ids: np.ndarray | None):
    """Similarities of ``q`` rows against ``c`` rows with everything not strictly above ``tau``
    (and each row's own column, when ``self_ids`` is given) set to ``-inf``, and the matching ids."""
    sims = q @ c.T
    sims[~(sims > np.float32(tau))] = NEG_INF
    if self_ids is not None:
        sims[c_ids[None, :] == self_ids[:, None]] = NEG_INF
    return sims, np.broadcast_to(c_ids, sims.shape)


# --------------------------------------------------------------------------- inputs


def unit_rows(vectors: list[bytes]) -> np.ndarray:
    """Float32 rows scaled by their float32 inverse norms (as the Rust kernels do; zero rows stay
    zero)."""
    m = np.frombuffer(b"".join(vectors), dtype="<f4").reshape(len(vectors), -1).astype(np.float32)
    norms = np.sqrt((m.astype(np.float64) ** 2).sum(axis=1)).astype(np.float32)
    inv = np.where(norms > 0, np.float32(1) / np.where(norms > 0, norms, 1), 0).astype(np.float32)
    return m * inv[:, None]


def to_block(rows):
    """``[(id, vector bytes)]`` -> ``(ids int64 sorted, unit rows float32)``."""
    rows = sorted(rows, key=lambda r: r[0])
    return np.array([r[0] for r in rows], dtype=np.int64), unit_rows([r[1] for r in rows])


# --------------------------------------------------------------------------- graph


class Counter:
    """A task counter read by a driver thread that prints progress while a job runs."""

    def __init__(self, sc, stage: str, total: int):
        self.acc = sc.accumulator(0)
        self.stage = stage
        self.total = total
        self._stop = threading.Event()
        self._last = -1
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _report(self, final: bool = False) -> None:
        done = self.total if final else min(int(self.acc.value), self.total)
        if done != self._last:
            self._last = done
            progress(self.stage, done, self.total)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._report()

    def __enter__(self):
        progress(self.stage, 0, self.total)
        self._last = 0
        self._thread.start()
        return self.acc

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        if exc[0] is None:
            self._report(final=True)


def build_graph(spark, corpus_uri: str, seeds_uri: str, graph_uri: str, dmax: int, tau: float, block_rows: int):
    """Build GBLE's graph from the Parquet shards and write it to ``graph_uri``; returns counts."""
    from pyspark import StorageLevel
    from pyspark.sql.types import FloatType, IntegerType, StructField, StructType

    sc = spark.sparkContext
    corpus_df = spark.read.schema(INPUT_SCHEMA).parquet(corpus_uri)
    n = corpus_df.count()  # from the Parquet footers, without Python workers
    corpus = corpus_df.rdd.map(lambda r: (int(r[0]), bytes(r[1])))
    seed_rows = [(int(r[0]), bytes(r[1])) for r in spark.read.schema(INPUT_SCHEMA).parquet(seeds_uri).collect()]
    s_count = len(seed_rows)
    seed_ids, seeds = to_block(seed_rows) if seed_rows else (np.zeros(0, np.int64), np.zeros((0, 0), np.float32))
    if s_count and not np.array_equal(seed_ids, np.arange(s_count)):
        raise ValueError(f"{seeds_uri}: seed ids must be 0..{s_count - 1}")
    nb = max(1, -(-n // block_rows))
    # One partition per block: a block pair is then one task of the cross join.
    blocks = (
        corpus.map(lambda r: (r[0] // block_rows, r))
        .groupByKey(numPartitions=nb)
        .mapValues(to_block)
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    k = dmax
    total = nb * (nb + 1) // 2 + nb

    with Counter(sc, "graph", total) as done:
        # (a) the seed step: each seed's top d_max corpus rows above tau, seeds broadcast.
        seeds_b = sc.broadcast(seeds)

        def seed_partial(block):
            _, (ids, mat) = block
            done.add(1)
            sq = seeds_b.value
            if sq.shape[0] == 0:
                return []
            s, i = scored(sq, mat, ids, tau, None)
            return [select_topk(s, i, k)]

        seed_top = blocks.flatMap(seed_partial)
        seed_top = seed_top.treeReduce(lambda a, b: merge_topk(a, b, k)) if s_count else None

        # (b) the corpus graph: block pairs (bi <= bj) of the cross join, a matmul each, a
        # partial top-k for the rows of both blocks, merged per block of rows.
        def pair_partials(pair):
            (bi, (ids_i, mat_i)), (bj, (ids_j, mat_j)) = pair
            if bi > bj:
                return []
            done.add(1)
            sims = mat_i @ mat_j.T
            keep = sims > np.float32(tau)
            if bi == bj:
                np.fill_diagonal(keep, False)  # ids are sorted: the diagonal is each row itself
            sims = np.where(keep, sims, NEG_INF).astype(np.float32)
            out = [(bi, (ids_i, *select_topk(sims, np.broadcast_to(ids_j, sims.shape), k)))]
            if bi != bj:
                st = np.ascontiguousarray(sims.T)
                out.append((bj, (ids_j, *select_topk(st, np.broadcast_to(ids_i, st.shape), k))))
            return out

        def merge_rows(a, b):
            return (a[0], *merge_topk((a[1], a[2]), (b[1], b[2]), k))

        per_block = (
            blocks.cartesian(blocks)
            .flatMap(pair_partials)
            .reduceByKey(merge_rows, numPartitions=nb)
        )

        def edges_of(item):
            _, (ids, s, nbr) = item
            out = []
            for r in range(len(ids)):
                i = int(ids[r])
                for e in range(k):
                    if s[r, e] == NEG_INF:
                        break
                    j = int(nbr[r, e])
                    sim = float(s[r, e])
                    out.append(((i, j), sim))
                    out.append(((j, i), sim))
            return out

        # Symmetrise: the union of each edge and its reverse, keeping the larger similarity when
        # both directions were found (as the Rust kernel's symmetrize does).
        corpus_edges = per_block.flatMap(edges_of).reduceByKey(max).map(lambda e: (e[0][0], e[0][1], e[1]))
        seed_edges = []
        if seed_top is not None:
            s_sims, s_ids = seed_top
            for s in range(s_count):
                for e in range(k):
                    if s_sims[s, e] == NEG_INF:
                        break
                    c = int(s_ids[s, e])
                    seed_edges.append((n + s, c, float(s_sims[s, e])))
                    seed_edges.append((c, n + s, float(s_sims[s, e])))
        all_edges = corpus_edges.union(sc.parallelize(seed_edges, 1))
        schema = StructType(
            [StructField("src", IntegerType(), False), StructField("dst", IntegerType(), False), StructField("sim", FloatType(), False)]
        )
        spark.createDataFrame(all_edges, schema).write.mode("overwrite").parquet(graph_uri)
    blocks.unpersist()
    seeds_b.unpersist()
    return {"corpus_rows": n, "seeds": s_count, "dmax": dmax, "tau": tau, "blocks": nb}


# --------------------------------------------------------------------------- propagation


class Propagator:
    """The graph as CSR row blocks cached on the executors, and ``Y <- D^-1 A Y`` over them."""

    def __init__(self, spark, graph_uri: str, n: int, s: int, rows_per_part: int):
        from pyspark import StorageLevel

        self.sc = spark.sparkContext
        self.nodes = nodes = n + s
        # At least one block per core, at most rows_per_part rows a block.
        parts = max(self.sc.defaultParallelism, -(-nodes // rows_per_part))
        rows_per_part = max(1, -(-nodes // parts))

        def to_csr(item):
            p, edges = item
            start = p * rows_per_part
            stop = min(nodes, start + rows_per_part)
            e = np.array(list(edges), dtype=np.int64).reshape(-1, 2)  # any order: bincount sums
            local = e[:, 0] - start
            deg = np.bincount(local, minlength=stop - start).astype(np.float64)
            return start, local, e[:, 1], deg

        self.blocks = (
            spark.read.schema("src INT, dst INT, sim FLOAT").parquet(graph_uri)
            .select("src", "dst")
            .rdd.map(lambda r: (int(r[0]) // rows_per_part, (int(r[0]), int(r[1]))))
            .groupByKey(numPartitions=parts)
            .map(to_csr)
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        def count(b):
            start, local, _, deg = b
            rows = start + np.arange(len(deg))
            return len(local), int(((deg > 0) & (rows < n)).sum()), int(((deg > 0) & (rows >= n)).sum())

        counts = self.blocks.map(count).collect()  # also caches the blocks
        self.stats = {
            "edges": sum(c[0] for c in counts),
            "isolated": n - sum(c[1] for c in counts),
            "seeds_without_edge": s - sum(c[2] for c in counts),
        }

    def run(self, y0: np.ndarray, clamp: np.ndarray, iterations: int, report=None) -> np.ndarray:
        y = y0.astype(np.float64).copy()
        for t in range(iterations):
            yb = self.sc.broadcast(y)

            def step(block):
                start, local, dst, deg = block
                sums = np.bincount(local, weights=yb.value[dst], minlength=len(deg))
                out = np.zeros(len(deg))
                has = deg > 0
                out[has] = sums[has] / deg[has]
                return start, out

            nxt = np.zeros(self.nodes)
            for start, out in self.blocks.map(step).collect():
                nxt[start : start + len(out)] = out
            nxt[clamp] = y0[clamp]
            y = nxt
            yb.unpersist()
            if report:
                report(t + 1, iterations)
        return y

    def close(self):
        self.blocks.unpersist()


def labels_vector(request: dict, n: int, s: int):
    """``(y0, clamp)`` of one round: seeds and positives 1, negatives the negative label."""
    y0 = np.zeros(n + s)
    clamp = np.zeros(n + s, dtype=bool)
    neg = float(request.get("negative_label", -1))
    pos = np.asarray(request.get("positives", []), dtype=np.int64)
    negs = np.asarray(request.get("negatives", []), dtype=np.int64)
    for name, rows in (("positives", pos), ("negatives", negs)):
        if rows.size and (rows.min() < 0 or rows.max() >= n):
            raise ValueError(f"{name}: rows must be in 0..{n - 1}")
    y0[pos] = 1
    clamp[pos] = True
    y0[negs] = neg
    clamp[negs] = True
    y0[n:] = 1
    clamp[n:] = True
    return y0, clamp


def write_scores(path: str, scores: np.ndarray) -> None:
    """Corpus scores as Parquet (one float32 column ``score``), written on the driver."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path + ".tmp"
    pq.write_table(pa.table({"score": scores.astype(np.float32)}), tmp, compression="snappy")
    os.replace(tmp, path)


def write_json(path: str, value) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.replace(tmp, path)


def export_graph(spark, graph_uri: str, path: str) -> None:
    """The whole graph as one local Parquet file, sorted by (src, sim desc, dst): for tests and
    inspection of small graphs (it is collected to the driver)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = spark.read.parquet(graph_uri).orderBy("src", spark_desc("sim"), "dst").collect()
    table = pa.table(
        {
            "src": pa.array([r[0] for r in rows], pa.int32()),
            "dst": pa.array([r[1] for r in rows], pa.int32()),
            "sim": pa.array([r[2] for r in rows], pa.float32()),
        }
    )
    tmp = path + ".tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def spark_desc(col: str):
    from pyspark.sql import functions as F

    return F.desc(col)


# --------------------------------------------------------------------------- entry points


def spark_session(app: str):
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.appName(app)
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel(os.environ.get("SYNAPSE_G_SPARK_LOG_LEVEL", "WARN"))
    if spark.sparkContext.master.startswith("local"):
        # A few partitions suit one machine better than the default 200 after a shuffle.
        spark.conf.set("spark.sql.shuffle.partitions", str(max(2, spark.sparkContext.defaultParallelism)))
    return spark


def graph_exists(spark, uri: str) -> bool:
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    p = jvm.org.apache.hadoop.fs.Path(uri.rstrip("/") + "/_SUCCESS")
    return p.getFileSystem(conf).exists(p)


def cmd_graph(args) -> int:
    spark = spark_session("synapse-g gble graph")
    stats = build_graph(spark, args.corpus, args.seeds, args.graph, args.dmax, args.tau, args.block_rows)
    stats.update(Propagator(spark, args.graph, stats["corpus_rows"], stats["seeds"], 1 << 20).stats)
    if args.stats:
        write_json(args.stats, stats)
    if args.export:
        export_graph(spark, args.graph, args.export)
    say(f"ready stats={json.dumps(stats)}")
    spark.stop()
    return 0


def cmd_propagate(args) -> int:
    spark = spark_session("synapse-g gble propagate")
    with open(args.labels) as f:
        request = json.load(f)
    n, s = request["corpus_rows"], request["seeds"]
    prop = Propagator(spark, args.graph, n, s, args.rows_per_part)
    y0, clamp = labels_vector(request, n, s)
    y = prop.run(y0, clamp, int(request.get("iterations", args.iterations)), lambda d, t: progress("propagate", d, t))
    write_scores(args.scores, y[:n])
    spark.stop()
    return 0


PARENT = os.getppid()


def owner_alive(pid: int | None) -> bool:
    """False once ``pid`` is gone, or once spark-submit (this driver's parent) is."""
    if os.getppid() != PARENT:
        return False
    if not pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cmd_session(args) -> int:
    spark = spark_session("synapse-g gble session")
    os.makedirs(args.control, exist_ok=True)
    stats_file = os.path.join(args.control, "graph.json")
    if args.rebuild or not graph_exists(spark, args.graph):
        stats = build_graph(spark, args.corpus, args.seeds, args.graph, args.dmax, args.tau, args.block_rows)
    else:
        with open(stats_file) as f:
            stats = json.load(f)
    if args.export:
        export_graph(spark, args.graph, args.export)
    n, s = stats["corpus_rows"], stats["seeds"]
    progress("load", 0, 1)
    prop = Propagator(spark, args.graph, n, s, args.rows_per_part)
    progress("load", 1, 1)
    stats.update(prop.stats)
    write_json(stats_file, stats)
    say(f"ready stats={json.dumps(stats)}")
    idle_since = time.monotonic()
    while True:
        names = sorted(f for f in os.listdir(args.control) if f.startswith("request-") and f.endswith(".json"))
        if not names:
            if not owner_alive(args.owner_pid):
                say("stopping: the owner process is gone")
                break
            if args.idle_timeout and time.monotonic() - idle_since > args.idle_timeout:
                say("stopping: idle timeout")
                break
            time.sleep(0.05)
            continue
        name = names[0]
        path = os.path.join(args.control, name)
        req_id = name[len("request-") : -len(".json")]
        with open(path) as f:
            request = json.load(f)
        os.remove(path)
        if request.get("op") == "stop":
            break
        try:
            y0, clamp = labels_vector(request, n, s)
            y = prop.run(y0, clamp, int(request["iterations"]), lambda d, t: progress("propagate", d, t))
            write_scores(request["scores"], y[:n])
            say(f"done request={req_id}")
        except Exception as e:  # noqa: BLE001 - reported to the caller, the session goes on
            traceback.print_exc(file=sys.stdout)
            say(f"failed request={req_id} message={json.dumps(str(e))}")
        idle_since = time.monotonic()
    prop.close()
    spark.stop()
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="synapse_spark.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def graph_flags(q, required=True):
        q.add_argument("--corpus", required=required, help="Parquet shards (id int, vector binary float32 LE) of the corpus")
        q.add_argument("--seeds", required=required, help="Parquet shards of the seeds, ids 0..S-1")
        q.add_argument("--graph", required=True, help="where the graph's Parquet edges (src, dst, sim) go / are")
        q.add_argument("--dmax", type=int, default=20, help="neighbours per node, d_max")
        q.add_argument("--tau", type=float, default=0.0, help="keep similarities strictly above tau")
        q.add_argument("--block-rows", type=int, default=4096, help="corpus rows per block of the all-pairs pass")
        q.add_argument("--export", help="also write the whole graph to this local Parquet file (small graphs)")

    g = sub.add_parser("graph", help="build the graph")
    graph_flags(g)
    g.add_argument("--stats", help="write the graph's counts to this local JSON file")
    g.set_defaults(run=cmd_graph)

    q = sub.add_parser("propagate", help="one round of propagation")
    q.add_argument("--graph", required=True)
    q.add_argument("--labels", required=True, help='JSON: {"corpus_rows", "seeds", "positives": [...], "negatives": [...], "negative_label", "iterations"}')
    q.add_argument("--scores", required=True, help="local Parquet file for the corpus scores")
    q.add_argument("--iterations", type=int, default=10)
    q.add_argument("--rows-per-part", type=int, default=65536, help="graph rows per cached CSR block")
    q.set_defaults(run=cmd_propagate)

    s = sub.add_parser("session", help="graph, then propagation requests until stopped")
    graph_flags(s)
    s.add_argument("--control", required=True, help="local folder the request-*.json files appear in")
    s.add_argument("--rows-per-part", type=int, default=65536, help="graph rows per cached CSR block")
    s.add_argument("--rebuild", action="store_true", help="build the graph even when --graph holds one")
    s.add_argument("--owner-pid", type=int, help="stop when this process is gone")
    s.add_argument("--idle-timeout", type=float, default=3600, help="stop after this many seconds without a request (0: never)")
    s.set_defaults(run=cmd_session)

    args = p.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
