/**
 * The human oracle: a person labels candidates one at a time, in a browser page served on
 * 127.0.0.1 only (a random free port and a secret token in the URL; requests without the token
 * are refused), or in the terminal (`tty`). Keys: y (positive), n (negative), s (skip: show it
 * again at the end of the round), u (undo the last answer of this round). Every answer goes
 * through `onAnswer` (the session journal) before the next candidate is shown, so a reload or a
 * crash loses nothing.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as readline from 'node:readline';
import { SynapseError } from '../errors';
import { labelPage } from './human-page';
import type { Oracle, OracleItem, OracleLabelOptions } from './oracle';

/** What the person sees beside a candidate. */
export interface CandidateContext {
  /** The most similar seed's text. */
  nearestSeed: string;
  /** Its cosine similarity to the candidate. */
  similarity: number;
}

/** Options of {@link createHumanOracle}. */
export interface HumanOracleOptions {
  /** `browser` (default) or `tty`. */
  mode?: 'browser' | 'tty';
  /** Port to listen on (127.0.0.1); default a random free one. */
  port?: number;
  /** Context shown with each candidate (nearest seed, similarity). */
  context?: (items: readonly OracleItem[]) => Promise<CandidateContext[]>;
  /** Where the URL and tty prompts go. Default stderr. */
  output?: NodeJS.WritableStream;
  /** tty mode: where keys come from. Default stdin. */
  input?: NodeJS.ReadableStream;
  /** Called once the page is served, with its URL (token included). */
  onListening?: (url: string) => void;
}

/** A human oracle; `close()` stops its server. */
export interface HumanOracle extends Oracle {
  /** The page's URL (browser mode), once listening. */
  url(): Promise<string>;
  close(): Promise<void>;
}

interface Pending {
  items: OracleItem[];
  context: CandidateContext[];
  /** Indices into `items` still to answer, in order. */
  queue: number[];
  answers: (boolean | undefined)[];
  /** Indices answered, in order (for undo). */
  done: number[];
  already: number;
  options: OracleLabelOptions;
  resolve: (labels: boolean[]) => void;
  reject: (e: unknown) => void;
}

/** Create a human oracle. */
export function createHumanOracle(options: HumanOracleOptions = {}): HumanOracle {
  const mode = options.mode ?? 'browser';
  const out = options.output ?? process.stderr;
  const token = randomBytes(16).toString('hex');
  const history: [number, number][] = [[0, 0]];
  let queried = 0;
  let positives = 0;
  let pending: Pending | undefined;
  let busy = Promise.resolve();

  const state = () => {
    const p = pending;
    const cur = p && p.queue.length > 0 ? p.queue[0] : undefined;
    return {
      current:
        p && cur !== undefined
          ? { id: p.items[cur].id, text: p.items[cur].text, nearestSeed: p.context[cur]?.nearestSeed ?? '', similarity: p.context[cur]?.similarity ?? null }
          : null,
      round: p ? { done: p.already + p.done.length, total: p.already + p.items.length } : null,
      stats: { queried, positives, history },
    };
  };

  /** Apply one key to the pending batch; serialised so answers are journaled in order. */
  const apply = (key: string, id?: string): Promise<void> => {
    const run = async (): Promise<void> => {
      const p = pending;
      if (!p) return;
      if (key === 'u') {
        const last = p.done.pop();
        if (last === undefined) return;
        const was = p.answers[last];
        p.answers[last] = undefined;
        p.queue.unshift(last);
        queried--;
        if (was) positives--;
        history.pop();
        await p.options.onAnswer?.(p.items[last], undefined);
        return;
      }
      const cur = p.queue[0];
      if (cur === undefined || (id !== undefined && p.items[cur].id !== id)) return; // a stale page
      if (key === 's') {
        p.queue.push(p.queue.shift() as number);
        return;
      }
      if (key !== 'y' && key !== 'n') return;
      const label = key === 'y';
      await p.options.onAnswer?.(p.items[cur], label);
      p.queue.shift();
      p.answers[cur] = label;
      p.done.push(cur);
      queried++;
      if (label) positives++;
      history.push([queried, positives]);
      p.options.onProgress?.(p.done.length, p.items.length);
      if (p.queue.length === 0) {
        pending = undefined;
        p.resolve(p.answers as boolean[]);
      }
    };
    busy = busy.then(run, run);
    return busy;
  };

  // ---- browser mode ------------------------------------------------------------------------
  let server: http.Server | undefined;
  let urlPromise: Promise<string> | undefined;
  const authorised = (req: http.IncomingMessage, u: URL): boolean => {
    const given = Buffer.from(u.searchParams.get('token') ?? String(req.headers['x-token'] ?? ''));
    const want = Buffer.from(token);
    return given.length === want.length && timingSafeEqual(given, want);
  };
  const startServer = (): Promise<string> => {
    urlPromise ??= new Promise((resolve, reject) => {
      const srv = http.createServer((req, res) => {
        const u = new URL(req.url ?? '/', 'http://127.0.0.1');
        const send = (status: number, body: unknown, type = 'application/json'): void => {
          res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
          res.end(type === 'application/json' ? JSON.stringify(body) : String(body));
        };
        if (!authorised(req, u)) return send(403, { error: 'missing or wrong token' });
        if (req.method === 'GET' && u.pathname === '/') return send(200, labelPage(), 'text/html; charset=utf-8');
        if (req.method === 'GET' && u.pathname === '/api/state') return send(200, state());
        if (req.method === 'POST' && u.pathname === '/api/answer') {
          let body = '';
          req.on('data', (d: Buffer) => (body += d.toString()));
          req.on('end', () => {
            let msg: { key?: unknown; id?: unknown };
            try {
              msg = JSON.parse(body) as { key?: unknown; id?: unknown };
            } catch {
              return send(400, { error: 'body must be JSON {"key": "y"|"n"|"s"|"u", "id": ...}' });
            }
            if (typeof msg.key !== 'string' || !['y', 'n', 's', 'u'].includes(msg.key)) return send(400, { error: 'key must be y, n, s or u' });
            apply(msg.key, typeof msg.id === 'string' ? msg.id : undefined).then(
              () => send(200, state()),
              (e: unknown) => send(500, { error: String(e) }),
            );
          });
          return;
        }
        send(404, { error: 'not found' });
      });
      server = srv;
      srv.on('error', reject);
      srv.listen(options.port ?? 0, '127.0.0.1', () => {
        const port = (srv.address() as AddressInfo).port;
        const url = `http://127.0.0.1:${port}/?token=${token}`;
        options.onListening?.(url);
        resolve(url);
      });
    });
    return urlPromise;
  };

  // ---- tty mode ----------------------------------------------------------------------------
  let rl: readline.Interface | undefined;
  const ttyLoop = async (): Promise<void> => {
    rl ??= readline.createInterface({ input: options.input ?? process.stdin, terminal: false });
    const lines = rl[Symbol.asyncIterator]();
    while (pending) {
      const s = state();
      if (!s.current) break;
      out.write(
        `\n[${s.round?.done ?? 0}/${s.round?.total ?? 0}] ${s.current.text}\n` +
          (s.current.nearestSeed ? `  nearest seed (${(s.current.similarity ?? 0).toFixed(3)}): ${s.current.nearestSeed}\n` : '') +
          '  y = positive, n = negative, s = skip, u = undo > ',
      );
      const next = await lines.next();
      if (next.done) {
        pending?.reject(new SynapseError('the terminal closed before the round was labeled; continue with --resume', 'ORACLE_CLOSED'));
        pending = undefined;
        return;
      }
      await apply(next.value.trim().toLowerCase());
    }
  };

  return {
    name: mode === 'tty' ? 'human (terminal)' : 'human (browser)',
    streaming: true,
    async label(items, opts = {}) {
      if (pending) throw new SynapseError('the human oracle is already labeling a batch', 'ORACLE_BUSY');
      opts.signal?.throwIfAborted();
      const context = options.context ? await options.context(items) : [];
      const result = new Promise<boolean[]>((resolve, reject) => {
        pending = {
          items: [...items],
          context,
          queue: items.map((_, i) => i),
          answers: items.map(() => undefined),
          done: [],
          already: opts.alreadyAnswered ?? 0,
          options: opts,
          resolve,
          reject,
        };
      });
      if (items.length === 0) {
        pending = undefined;
        return [];
      }
      if (mode === 'browser') {
        const url = await startServer();
        out.write(`synapse-g: label ${items.length} candidate(s) at ${url}\n`);
      } else {
        void ttyLoop();
      }
      return result;
    },
    url: startServer,
    async close() {
      rl?.close();
      if (server) await new Promise<void>((r) => server?.close(() => r()));
    },
  };
}
