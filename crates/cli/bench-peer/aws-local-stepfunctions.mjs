// The peer side of `stepwise bench`: runs one workload with aws-local-stepfunctions
// in-process for a fixed wall time and prints one JSON line with the same figures
// Stepwise reports (see crates/cli/src/bench.rs).
//
//   node aws-local-stepfunctions.mjs WORKLOADS_DIR NAME SECONDS TRANSITIONS_PER_EXEC
//
// The library is loaded from the node_modules next to this file (the bench copies the
// script into its cache dir and installs the package there). Options are the library's
// defaults: the definition is validated once by the constructor, and every execution
// builds its event log (there is no option to turn that off).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { StateMachine } from 'aws-local-stepfunctions';

function fail(message) {
  process.stdout.write(JSON.stringify({ error: message }) + '\n');
  process.exit(1);
}

const [dir, name, secondsArg, transitionsArg] = process.argv.slice(2);
if (!dir || !name || !secondsArg || !transitionsArg) {
  fail('usage: aws-local-stepfunctions.mjs WORKLOADS_DIR NAME SECONDS TRANSITIONS_PER_EXEC');
}
const seconds = Number(secondsArg);
const transitionsPerExec = Number(transitionsArg);
const readJson = (file) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const definition = readJson(`${name}.json`);
const input = readJson(`${name}.input.json`);
const expected = readJson(`${name}.expected.json`);
const here = dirname(fileURLToPath(import.meta.url));
const version = JSON.parse(
  readFileSync(join(here, 'node_modules', 'aws-local-stepfunctions', 'package.json'), 'utf8'),
).version;

// The same log-linear histogram as bench.rs (Histogram::bucket / ::value): exact below
// 128 ns, then 64 buckets per power of two (< 1.6% error), in constant memory.
const SUB = 64;
const buckets = new Float64Array(64 * SUB + 2 * SUB);
function bucket(ns) {
  if (ns < 2 * SUB) return ns;
  const e = Math.floor(Math.log2(ns));
  let shift = e - 6;
  let top = Math.floor(ns / 2 ** shift);
  // Float rounding near a power of two: keep top in [64, 128).
  if (top >= 2 * SUB) { shift += 1; top = Math.floor(ns / 2 ** shift); }
  if (top < SUB) { shift -= 1; top = Math.floor(ns / 2 ** shift); }
  return shift * SUB + top;
}
function value(index) {
  if (index < 2 * SUB) return index;
  const shift = Math.floor(index / SUB) - 1;
  const top = index - shift * SUB;
  // The middle of the bucket.
  return top * 2 ** shift + (2 ** shift - 1) / 2;
}
function percentile(count, p) {
  const rank = Math.max(1, Math.ceil(p * count));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i];
    if (seen >= rank) return value(i);
  }
  return 0;
}

const machine = new StateMachine(definition);
const check = (output, when) => {
  if (!isDeepStrictEqual(output, expected)) {
    fail(`${when} output differs from ${name}.expected.json: ${JSON.stringify(output).slice(0, 300)}`);
  }
};

// One checked execution, then a warm-up as long as Stepwise's, then the timed loop.
check(await machine.run(input).result, 'first');
const warmupEnd = performance.now() + Math.min(200, seconds * 100);
while (performance.now() < warmupEnd) await machine.run(input).result;

const start = process.hrtime.bigint();
const deadline = start + BigInt(Math.round(seconds * 1e9));
let executions = 0;
let last;
for (;;) {
  const t0 = process.hrtime.bigint();
  last = await machine.run(input).result;
  const t1 = process.hrtime.bigint();
  buckets[bucket(Number(t1 - t0))] += 1;
  executions += 1;
  if (t1 >= deadline) break;
}
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
check(last, 'last');

process.stdout.write(
  JSON.stringify({
    engine: 'aws-local-stepfunctions',
    version,
    node: process.version,
    workload: name,
    executions,
    transitions_per_exec: transitionsPerExec,
    seconds: elapsed,
    transitions_per_sec: (executions * transitionsPerExec) / elapsed,
    us_p50: percentile(executions, 0.5) / 1000,
    us_p99: percentile(executions, 0.99) / 1000,
    peak_rss_kib: process.resourceUsage().maxRSS,
  }) + '\n',
);
