import test from 'ava';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EMBEDDER_SPECS, resolveEmbedder, type CachedEmbedder } from '../src/embed/index';
import { InvalidArgumentError } from '../src/errors';
import { startOpenAIServer } from './helpers/openai-server';

async function tmpDir(t: import('ava').ExecutionContext): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-cli-'));
  t.teardown(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

test('resolveEmbedder: openai:MODEL with and without the cache; unknown specs list the valid forms', async (t) => {
  const server = await startOpenAIServer({ dim: 4 });
  t.teardown(() => server.close());
  const dir = await tmpDir(t);
  const openai = { baseUrl: server.baseUrl, apiKey: '' };
  const cached = (await resolveEmbedder('openai:my-model', { cacheDir: dir, openai, batchSize: 3 })) as CachedEmbedder;
  t.is(cached.modelId, 'openai:my-model');
  t.true(cached.cacheDir.startsWith(dir));
  await cached.embed(['a', 'b', 'c', 'd']);
  t.is(server.requests.length, 2, 'batchSize reached the embedder');
  await cached.embed(['a', 'b', 'c', 'd']);
  t.is(server.requests.length, 2, 'served from the cache');
  const plain = await resolveEmbedder('openai:my-model', { cacheDir: dir, noCache: true, openai });
  t.false('cacheDir' in plain);
  await plain.embed(['a']);
  t.is(server.requests.length, 3);

  for (const bad of ['', 'bert', 'openai:', 'hf:', 'OPENAI:x']) {
    const err = await t.throwsAsync(resolveEmbedder(bad, { argument: '--model' }), { instanceOf: InvalidArgumentError }, bad);
    t.is(err?.argument, '--model');
  }
  const err = await t.throwsAsync(resolveEmbedder('nope'));
  t.is((err as InvalidArgumentError).argument, 'embedder');
  for (const form of ['default', 'hf:DIR', 'openai:MODEL']) t.true(err!.message.includes(form), form);
  t.is(EMBEDDER_SPECS.length, 3);
});
