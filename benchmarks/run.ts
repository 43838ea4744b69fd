/**
 * `npm run bench [-- --quick] [-- --json FILE] [-- --only SUBSTRING]`
 *
 * Runs every case on identical generated data (benchmarks/out, written once from fixed seeds):
 * ours through the public TypeScript API, the peers (faiss, numpy, scipy in benchmarks/.venv,
 * created by setup-peers.sh) on the same files, each side in its own child process so peak RSS
 * is per case. Prints a table with ratio = ours / peer (below 1 means ours is faster), GFLOP/s
 * for the similarity cases and the machine's numpy SGEMM peak measured in the same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { cases, ensureData, type Case } from './cases';

interface Side {
  times: number[];
  median_s: number;
  rss_mb: number;
  base_rss_mb: number;
  edges: number;
  versions?: Record<string, string>;
}

export interface Row {
  case: string;
  ours_s: number;
  peer: string;
  peer_s: number;
  ratio: number;
  peak_rss_mb: number;
  /** Peak RSS minus RSS with the input loaded, before the first call. */
  extra_rss_mb: number;
  peer_peak_rss_mb: number;
  ours_gflops?: number;
  peer_gflops?: number;
  ours_edges: number;
  peer_edges: number;
}

const HERE = __dirname;
const PY = join(HERE, '.venv', 'bin', 'python');

function args(): { quick: boolean; json?: string; only?: string } {
  const a = process.argv.slice(2);
  const get = (flag: string): string | undefined => {
    const i = a.indexOf(flag);
    return i >= 0 ? a[i + 1] : undefined;
  };
  return { quick: a.includes('--quick'), json: get('--json'), only: get('--only') };
}

/** The peers' environment: the best settings for faiss + OpenBLAS on this machine. */
function peerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

function parseLast(stdout: string, what: string): Side {
  const line = stdout.trim().split('\n').pop();
  if (line === undefined || line === '') throw new Error(`${what}: no output`);
  return JSON.parse(line) as Side;
}

function runOurs(index: number, quick: boolean): Side {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(HERE, 'ours.ts'), String(index), ...(quick ? ['--quick'] : [])],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) throw new Error(`ours (case ${index}) exited with ${r.status}`);
  return parseLast(r.stdout, 'ours');
}

function runPeer(peer: string, c: Case): Side {
  const r = spawnSync(PY, [join(HERE, 'peers.py'), peer, JSON.stringify(c)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: peerEnv(),
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`peer ${peer} (${c.name}) exited with ${r.status}`);
  return parseLast(r.stdout, peer);
}

const fmt = (x: number | undefined, d = 3): string => (x === undefined ? '' : x.toFixed(d));

function main(): void {
  const { quick, json, only } = args();
  execFileSync('bash', [join(HERE, 'setup-peers.sh')], { stdio: 'inherit' });
  const all = cases(quick);
  const selected = all
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => only === undefined || c.name.includes(only));
  ensureData(selected.map(({ c }) => c));

  // The machine is shared: measure the SGEMM peak before every case and at the end, and
  // take the best (the highest peak is the strictest yardstick for our GFLOP/s).
  const sgemms: number[] = [];
  let numpyVersion = '';
  const sgemm = (): void => {
    const r = JSON.parse(
      execFileSync(PY, [join(HERE, 'peers.py'), 'sgemm'], { encoding: 'utf8', env: peerEnv() }),
    ) as { gflops: number; seconds: number; numpy: string };
    numpyVersion = r.numpy;
    sgemms.push(r.gflops);
    process.stderr.write(`numpy SGEMM 4096^3: ${r.gflops.toFixed(1)} GFLOP/s\n`);
  };

  const rows: Row[] = [];
  const versions: Record<string, string> = {};
  for (const { c, i } of selected) {
    sgemm();
    process.stderr.write(`${c.name}: ours...\n`);
    const ours = runOurs(i, quick);
    for (const peer of c.peers) {
      process.stderr.write(`${c.name}: ${peer}...\n`);
      const theirs = runPeer(peer, c);
      for (const [k, v] of Object.entries(theirs.versions ?? {})) {
        if (versions[k] === undefined) versions[k] = v;
        else if (!versions[k].split(' / ').includes(v)) versions[k] += ` / ${v}`;
      }
      rows.push({
        case: c.name,
        ours_s: ours.median_s,
        peer,
        peer_s: theirs.median_s,
        ratio: ours.median_s / theirs.median_s,
        peak_rss_mb: ours.rss_mb,
        extra_rss_mb: ours.rss_mb - ours.base_rss_mb,
        peer_peak_rss_mb: theirs.rss_mb,
        ours_gflops: c.flops === undefined ? undefined : c.flops / ours.median_s / 1e9,
        peer_gflops: c.flops === undefined ? undefined : c.flops / theirs.median_s / 1e9,
        ours_edges: ours.edges,
        peer_edges: theirs.edges,
      });
      if (ours.edges !== theirs.edges) {
        process.stderr.write(
          `  note: ours kept ${ours.edges}, ${peer} ${theirs.edges} (edges / positives)\n`,
        );
      }
    }
  }

  sgemm();
  const sg = { gflops: Math.max(...sgemms), numpy: numpyVersion };
  const head = [
    'case',
    'peer',
    'ours_s',
    'peer_s',
    'ratio',
    'ours GFLOP/s',
    '% SGEMM peak',
    'peer GFLOP/s',
    'peak_rss_mb',
    'extra_rss_mb',
    'peer_rss_mb',
  ];
  const body = rows.map((r) => [
    r.case,
    r.peer,
    fmt(r.ours_s, 4),
    fmt(r.peer_s, 4),
    fmt(r.ratio, 2),
    fmt(r.ours_gflops, 1),
    r.ours_gflops === undefined ? '' : `${((100 * r.ours_gflops) / sg.gflops).toFixed(0)} %`,
    fmt(r.peer_gflops, 1),
    fmt(r.peak_rss_mb, 0),
    fmt(r.extra_rss_mb, 0),
    fmt(r.peer_peak_rss_mb, 0),
  ]);
  const lines = [head, head.map(() => '---'), ...body].map((cols) => `| ${cols.join(' | ')} |`);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const vs = Object.entries({ numpy: sg.numpy, ...versions })
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(
    `${new Date().toISOString()}, ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${vs}`,
  );
  console.log(
    `numpy SGEMM 4096^3 peak: ${sg.gflops.toFixed(1)} GFLOP/s (best of ${sgemms.map((g) => g.toFixed(0)).join(', ')})${quick ? ' (--quick)' : ''}`,
  );
  console.log(lines.join('\n'));
  if (json !== undefined) {
    writeFileSync(
      json,
      `${JSON.stringify(
        rows.map((r) => ({ ...r, sgemm_peak_gflops: sg.gflops })),
        null,
        2,
      )}\n`,
    );
    process.stderr.write(`wrote ${json}\n`);
  }
}

main();
