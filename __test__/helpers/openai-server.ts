/**
 * A scripted OpenAI-compatible HTTP server on 127.0.0.1 for tests (no mocks: clients talk real
 * HTTP to it). `/v1/embeddings` returns deterministic vectors derived from each input text;
 * other endpoints (e.g. `/v1/chat/completions`) plug in through `routes`.
 *
 * Faults are scripted per request: push {@link Fault}s onto `server.faults` and the next
 * requests (to any route, or only to `fault.path`) get them in order.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/embeddings`. */
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body (or the raw text when it is not JSON). */
  body: unknown;
}

/** What a route handler returns. */
export interface RouteResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless it is a string. */
  body: unknown;
}

/** A route handler: gets the parsed request, returns a response. */
export type RouteHandler = (req: RecordedRequest, server: OpenAITestServer) => RouteResponse | Promise<RouteResponse>;

/** A scripted misbehaviour for one request. */
export interface Fault {
  /** Only requests to this path consume the fault. Default: any path. */
  path?: string;
  /** Reply with this status (and `body`, default an OpenAI-style error) instead of the handler. */
  status?: number;
  /** Error body (object or string) for `status`. */
  body?: unknown;
  /** Extra response headers, e.g. `{'retry-after': '0'}`. */
  headers?: Record<string, string>;
  /** Wait this long before answering (use with a client timeout to provoke timeouts). */
  delayMs?: number;
  /** Destroy the socket without answering. */
  destroy?: boolean;
  /** Run the real handler, then rewrite its JSON body (e.g. drop an item, insert NaN). */
  mutate?: (body: unknown) => unknown;
}

/** Options of {@link startOpenAIServer}. */
export interface OpenAIServerOptions {
  /** Embedding dimension. Default 8. */
  dim?: number;
  /** Required bearer token; requests without it get a 401 that echoes what was sent (as OpenAI's does). */
  apiKey?: string;
  /**
   * Hold each embeddings request until this many are in flight at once (or `barrierTimeoutMs`
   * passes), making concurrency observable without timing assumptions.
   */
  barrier?: number;
  /** Fallback release of the barrier, ms. Default 3000. */
  barrierTimeoutMs?: number;
  /** Extra routes by path, e.g. `{'/v1/chat/completions': handler}`. */
  routes?: Record<string, RouteHandler>;
}

/** A running test server. */
export interface OpenAITestServer {
  /** Base URL to give clients, e.g. `http://127.0.0.1:PORT/v1`. */
  readonly baseUrl: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Scripted faults, consumed front first. */
  readonly faults: Fault[];
  /** Inputs embedded successfully (sum of batch sizes of 200 responses). */
  embeddedInputs: number;
  /** Most embeddings requests seen in flight at once. */
  maxInFlight: number;
  /** The embedding dimension. */
  readonly dim: number;
  /** Stop listening and drop open connections. */
  close(): Promise<void>;
}

/** The deterministic (un-normalised) vector the server returns for `text`. */
export function fakeEmbedding(text: string, dim: number): number[] {
  const out: number[] = [];
  let block = 0;
  while (out.length < dim) {
    const h = createHash('sha256').update(`${block++}\0${text}`).digest();
    for (let i = 0; i + 4 <= h.length && out.length < dim; i += 4) out.push(h.readInt32LE(i) / 2 ** 31);
  }
  return out;
}

/** {@link fakeEmbedding}, L2-normalised in float64, as the client should return it. */
export function expectedEmbedding(text: string, dim: number): number[] {
  const v = fakeEmbedding(text, dim);
  const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return v.map((x) => x / n);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Start a server on 127.0.0.1, on a free port. */
export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<OpenAITestServer> {
  const dim = options.dim ?? 8;
  const barrierTimeout = options.barrierTimeoutMs ?? 3000;
  let inFlight = 0;
  let waiters: Array<() => void> = [];
  const sockets = new Set<import('node:net').Socket>();

  const embeddings: RouteHandler = async (req) => {
    const body = req.body as { input?: unknown; model?: unknown; dimensions?: unknown } | null;
    if (!body || typeof body.model !== 'string') {
      return { status: 400, body: { error: { message: "you must provide a model parameter", type: 'invalid_request_error' } } };
    }
    const input = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(input) || input.some((t) => typeof t !== 'string' || t === '')) {
      return { status: 400, body: { error: { message: "'input' must be a non-empty string or array of them", type: 'invalid_request_error' } } };
    }
    const d = typeof body.dimensions === 'number' ? body.dimensions : dim;
    if (options.barrier && options.barrier > 1) {
      await new Promise<void>((resolve) => {
        if (inFlight >= options.barrier!) {
          const ws = waiters;
          waiters = [];
          for (const w of ws) w();
          resolve();
          return;
        }
        const timer = setTimeout(resolve, barrierTimeout);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    server.embeddedInputs += input.length;
    return {
      body: {
        object: 'list',
        model: body.model,
        // reversed order, as servers may do: clients must use `index`
        data: (input as string[]).map((t, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(t, d) })).reverse(),
        usage: { prompt_tokens: input.length, total_tokens: input.length },
      },
    };
  };
  const routes: Record<string, RouteHandler> = { '/v1/embeddings': embeddings, ...options.routes };

  const httpServer = http.createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const text = await readBody(req);
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep text
    }
    const rec: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body };
    server.requests.push(rec);
    const send = (status: number, headers: Record<string, string>, payload: unknown) => {
      if (res.destroyed) return;
      const data = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(data);
    };
    const fi = server.faults.findIndex((f) => f.path === undefined || f.path === path);
    const fault = fi >= 0 ? server.faults.splice(fi, 1)[0] : undefined;
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.destroy) {
      req.socket.destroy();
      return;
    }
    if (fault?.status) {
      send(fault.status, fault.headers ?? {}, fault.body ?? { error: { message: `scripted ${fault.status}`, type: 'server_error' } });
      return;
    }
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      send(401, {}, { error: { message: `Incorrect API key provided: ${req.headers.authorization ?? '(none)'}`, type: 'invalid_request_error' } });
      return;
    }
    const handler = routes[path];
    if (!handler || req.method !== 'POST') {
      send(404, {}, { error: { message: `no route ${req.method} ${path}` } });
      return;
    }
    const isEmb = path === '/v1/embeddings';
    if (isEmb) {
      inFlight++;
      server.maxInFlight = Math.max(server.maxInFlight, inFlight);
    }
    try {
      const r = await handler(rec, server);
      send(r.status ?? 200, { ...r.headers, ...fault?.headers }, fault?.mutate ? fault.mutate(r.body) : r.body);
    } finally {
      if (isEmb) inFlight--;
    }
  });
  httpServer.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const port = (httpServer.address() as AddressInfo).port;
  const server: OpenAITestServer = {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests: [],
    faults: [],
    embeddedInputs: 0,
    maxInFlight: 0,
    dim,
    close: () =>
      new Promise<void>((resolve) => {
        for (const w of waiters) w();
        for (const s of sockets) s.destroy();
        httpServer.close(() => resolve());
      }),
  };
  return server;
}

/** A `/v1/chat/completions` answer with `content` (and usage counts) for route handlers. */
export function chatAnswer(content: string, usage: { prompt_tokens: number; completion_tokens: number } = { prompt_tokens: 10, completion_tokens: 5 }): RouteResponse {
  return { body: { id: 'chatcmpl-test', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage } };
}

/** The last message's content of a recorded chat-completions request. */
export function lastChatMessage(req: RecordedRequest): string {
  const msgs = (req.body as { messages?: { content?: unknown }[] } | null)?.messages ?? [];
  const c = msgs[msgs.length - 1]?.content;
  return typeof c === 'string' ? c : '';
}
