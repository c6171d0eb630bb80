// Runs every scenario of scenarios.mjs twice, directly against the fake upstream and through a Durar gateway in front of
// it, and compares what the application saw and what the upstream received. A difference is either explained in
// KNOWN (each with its reason, also in README.md) or fails the run. Usage (from the repository root, after
// `dotnet build Durar.Actors.sln -c Release`): `npm --prefix tests/clients ci && npm --prefix tests/clients run compare`.
// Options: --only <text> (scenarios whose name contains it), --verbose (print both sides of every difference).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { startFakeUpstream } from './fake-upstream.mjs';
import { scenarios } from './scenarios.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const verbose = args.includes('--verbose');

/**
 * Differences with a reason: [scenario pattern, path pattern, side ('answer' | 'upstream'), reason]. A path pattern is a
 * regular expression over the JSON path of the difference. Keep README.md's table in step with this list.
 */
const KNOWN = [
  [/./, /(^|\.)model$/, 'answer', 'the gateway names the model by its ref (provider/model) in every answer, as x-durar-model does'],
  [/./, /(^|\.)id$/, 'answer', 'the gateway gives every answer its own chatcmpl- id (ids are per answer)'],
  [/./, /(^|\.)created$/, 'answer', 'the gateway stamps its own creation time on streamed chunks'],
  [/./, /^stream_options(\.include_usage)?$/, 'upstream', 'a stream always asks the upstream for usage (accounting); the usage chunk is removed again from what the client sees when it did not ask for usage'],
  [/native-only/, /^(store|service_tier)$/, 'upstream', 'native-OpenAI-only fields are not sent to a non-native OpenAI-compatible host (compat rules in shared/reference/seed-model-providers.md)'],
  [/native-only/, /^dropped$/, 'answer', 'the gateway names the fields a compat rule stripped in x-durar-dropped (an upstream has no such header)'],
];

async function freePort() {
  return new Promise(resolve => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function startGateway(upstreamUrl) {
  const dll = path.join(root, 'src/Durar.Api/bin/Release/net10.0/Durar.Api.dll');
  if (!fs.existsSync(dll)) throw new Error(`${dll} is missing: run \`dotnet build Durar.Actors.sln -c Release\` first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'durar-clients-'));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'durar.conf'), `
models.providers.fake { baseUrl = "${upstreamUrl}", apiKey = "sk-fake", api = "openai-completions", models = [{ id = "gpt-test" }] }
agents.defaults.model.primary = "fake/gpt-test"
gateway.failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s }
`);
  const child = spawn('dotnet', [dll, '--config', path.join(dir, 'durar.conf'), '--port', String(port), '--data-dir', path.join(dir, 'data')],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', d => { log += d; });
  child.stderr.on('data', d => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}:\n${log}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { child.kill(); throw new Error(`the gateway did not answer /healthz within 60 s:\n${log}`); }
    await new Promise(r => setTimeout(r, 200)); // polling the start-up of a separate process
  }
  return { baseURL: `${base}/v1`, stop: () => { child.kill('SIGTERM'); fs.rmSync(dir, { recursive: true, force: true }); } };
}

/** Every leaf-level difference between a and b as { path, a, b }. */
function diff(a, b, at = '', out = []) {
  if (a === b) return out;
  const kind = v => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(a) !== kind(b) || (kind(a) !== 'object' && kind(a) !== 'array')) {
    out.push({ path: at, a, b });
    return out;
  }
  if (Array.isArray(a)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) diff(a[i], b[i], `${at}[${i}]`, out);
    return out;
  }
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(a[k], b[k], at ? `${at}.${k}` : k, out);
  return out;
}

/** The JSON an application would see (class instances, undefined and functions as JSON would have them). */
const plain = v => (v === undefined ? null : JSON.parse(JSON.stringify(v, (k, x) => (x instanceof Error ? { name: x.name, message: x.message } : x))));

const upstream = await startFakeUpstream();
let gateway;
let failed = 0, explained = 0;
try {
  gateway = await startGateway(upstream.url);
  const direct = { baseURL: upstream.url, model: 'gpt-test' };
  const through = { baseURL: gateway.baseURL, model: 'fake/gpt-test' };
  for (const [name, run] of Object.entries(scenarios)) {
    if (only && !name.includes(only)) continue;
    const sides = [];
    for (const target of [direct, through]) {
      upstream.requests.length = 0;
      let answer;
      try {
        answer = plain(await run(target));
      } catch (e) {
        answer = { threw: { name: e.name, message: e.message } };
      }
      sides.push({ answer, upstream: plain(upstream.requests.map(r => ({ ...r, model: undefined }))) });
    }
    const found = [
      ...diff(sides[0].answer, sides[1].answer).map(d => ({ ...d, side: 'answer' })),
      ...diff(sides[0].upstream, sides[1].upstream).map(d => ({ ...d, side: 'upstream', path: d.path.replace(/^\[\d+\]\.?/, '') })),
    ];
    const unexplained = [];
    for (const d of found) {
      const known = KNOWN.find(([s, p, side]) => s.test(name) && p.test(d.path) && side === d.side);
      if (known) explained++;
      else unexplained.push(d);
      if (verbose || !known) console.log(`   ${known ? 'explained' : 'DIFFERENT'} ${d.side} ${d.path}: direct ${JSON.stringify(d.a)} / gateway ${JSON.stringify(d.b)}${known ? ` (${known[3]})` : ''}`);
    }
    console.log(`${unexplained.length ? 'FAIL' : 'ok  '} ${name}${found.length ? ` (${found.length - unexplained.length} explained difference(s))` : ''}`);
    failed += unexplained.length ? 1 : 0;
  }
} finally {
  gateway?.stop();
  await upstream.close();
}
console.log(`${failed} scenario(s) with unexplained differences, ${explained} explained difference(s)`);
process.exitCode = failed ? 1 : 0;
