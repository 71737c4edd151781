// tests/deploy/check_onnx.mjs — vaelet's ONNX graphs against vaelet itself: for every model that write_reference
// saved, ONNX Runtime (npm's onnxruntime-node) runs <name>.encoder.onnx, <name>.decoder.onnx and
// <name>.reconstruction.onnx on the reference's inputs and gives vaelet's outputs, to a max abs difference of 1e-5
// in float32 and 1e-10 in float64, on the whole batch and on its first row and first 3 rows (the batch is dynamic):
//   encoder         x (, c)       -> mu, logvar, code    vs the reference's mu, logvar, code
//   decoder         z (, c)       -> output, mean        vs out, mean
//   reconstruction  x, eps (, c)  -> mean                vs sample; and with eps = 0 vs reconstruction
// A model without graphs fails. Every other graph, <name>.graph.onnx (write_reference's graph of every op the export
// knows), runs on the inputs of <name>.graph.safetensors named as the graph's inputs, and each output must equal the
// tensor of its name there. Exits 77 (ctest: skipped) when onnxruntime-node cannot be loaded from ONNXRUNTIME_DIR,
// saying why.
//
//   node tests/deploy/check_onnx.mjs build/release/tests/deploy/reference ~/.cache/vaelet/onnxruntime
//
// ONNXRUNTIME_DIR is where scripts/get-onnxruntime installed onnxruntime-node; this file needs nothing else.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const TOLERANCE = { float32: 1e-5, float64: 1e-10 };
const ARRAY = { float32: Float32Array, float64: Float64Array };
const DTYPE = { F32: 'float32', F64: 'float64' };
const BYTES = { F32: 4, F64: 8 };
const SESSION_OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1 };

// Each run of a graph: its inputs (reference tensors; "eps=0" is eps all zeros) and its outputs, each with the
// reference tensor it must equal. A conditional model's graphs take c as well.
const RUNS = [
  { graph: 'encoder', inputs: ['x'], outputs: { mu: 'mu', logvar: 'logvar', code: 'code' } },
  { graph: 'decoder', inputs: ['z'], outputs: { output: 'out', mean: 'mean' } },
  { graph: 'reconstruction', inputs: ['x', 'eps'], outputs: { mean: 'sample' } },
  {
    graph: 'reconstruction', label: 'reconstruction (eps = 0)', inputs: ['x', 'eps=0'],
    outputs: { mean: 'reconstruction' },
  },
];
const GRAPHS = ['encoder', 'decoder', 'reconstruction'];

/** onnxruntime-node from DIR/node_modules, or exit 77 saying why not. */
function loadRuntime(dir) {
  const path = resolve(dir, 'node_modules', 'onnxruntime-node');
  try {
    const require = createRequire(import.meta.url);
    return { ort: require(path), version: require(join(path, 'package.json')).version };
  } catch (e) {
    const reason = existsSync(path) ? e.message.split('\n')[0] : `no ${path}`;
    console.log(`skipped: onnxruntime-node is not in ${dir} (${reason}); ` +
      `install it with scripts/get-onnxruntime ${dir}`);
    process.exit(77);
  }
}

/** A safetensors file: its metadata and its 2-D tensors, each { dtype, rows, cols, data } (a typed array). */
function readSafetensors(path) {
  const file = readFileSync(path);
  const headerLength = file.length >= 8 ? Number(file.readBigUInt64LE(0)) : Infinity;
  if (8 + headerLength > file.length) throw new Error('not a safetensors file (too short for its header)');
  let header;
  try {
    header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8'));
  } catch (e) {
    throw new Error(`not a safetensors file (its header is not JSON: ${e.message})`);
  }
  const tensors = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [begin, end] } = entry;
    if (8 + headerLength + end > file.length) throw new Error(`tensor ${name} ends past the end of the file`);
    if (!DTYPE[dtype] || shape.length !== 2 || end - begin !== shape[0] * shape[1] * BYTES[dtype]) {
      throw new Error(`tensor ${name} is not a 2-D F32 or F64 matrix (${dtype} [${shape}], ${end - begin} bytes)`);
    }
    const bytes = new Uint8Array(file.subarray(8 + headerLength + begin, 8 + headerLength + end)); // a copy, aligned
    const data = new ARRAY[DTYPE[dtype]](bytes.buffer);
    tensors[name] = { dtype: DTYPE[dtype], rows: shape[0], cols: shape[1], data };
  }
  return { metadata: header.__metadata__ ?? {}, tensors };
}

/** The first `count` rows of a reference tensor as an ONNX Runtime tensor; all zeros when `zero`. */
function rowsOf(ort, tensor, count, zero = false) {
  const data = tensor.data.slice(0, count * tensor.cols);
  if (zero) data.fill(0);
  return new ort.Tensor(tensor.dtype, data, [count, tensor.cols]);
}

/** Max abs difference between an output and the first rows of a reference tensor (NaN when any is NaN). */
function maxDifference(got, want) {
  let worst = 0;
  for (let i = 0; i < got.data.length; ++i) worst = Math.max(worst, Math.abs(got.data[i] - want.data[i]));
  return worst;
}

/** The inputs a run feeds its graph: the reference tensors named in RUNS, and c for a conditional model. */
function inputsOf(run, reference) {
  return reference.tensors.c ? [...run.inputs, 'c'] : run.inputs;
}

/** The graph's outputs on the first `count` rows of the reference's inputs. */
function runOn(ort, session, run, reference, count) {
  const feeds = {};
  for (const input of inputsOf(run, reference)) {
    const name = input.replace('=0', '');
    feeds[name] = rowsOf(ort, reference.tensors[name], count, input.endsWith('=0'));
  }
  return session.run(feeds);
}

/** The problems of a session's interface: inputs other than the run feeds, outputs it lacks. */
function interfaceProblems(session, run, reference) {
  const inputs = inputsOf(run, reference).map((i) => i.replace('=0', ''));
  const problems = [];
  if ([...session.inputNames].sort().join() !== [...inputs].sort().join()) {
    problems.push(`inputs are [${session.inputNames}], expected [${inputs}]`);
  }
  for (const output of Object.keys(run.outputs)) {
    if (!session.outputNames.includes(output)) problems.push(`no output ${output}`);
  }
  return problems;
}

const oneLine = (error) => error.message.replace(/\s+/g, ' ').trim();

/** Checks one run of a graph at batch n, 1 and 3: its max difference over its outputs (undefined when the graph
 * did not run through) and its problems, each naming the run. */
async function checkRun(ort, path, run, reference) {
  const { dtype, rows } = reference.tensors.x;
  const worst = {}; // per output: the max difference over the batches
  const over = {}; // per output: the batches where it is over the tolerance
  const problems = [];
  let session, batch;
  let ran = false;
  try {
    session = await ort.InferenceSession.create(path, SESSION_OPTIONS);
    problems.push(...interfaceProblems(session, run, reference));
    for (batch of problems.length ? [] : new Set([rows, 1, Math.min(3, rows)])) {
      const results = await runOn(ort, session, run, reference, batch);
      for (const [output, want] of Object.entries(run.outputs)) {
        const got = results[output];
        const shape = `[${batch},${reference.tensors[want].cols}]`;
        if (got.type !== dtype || `[${got.dims}]` !== shape) {
          problems.push(`${output} is ${got.type} [${got.dims}] at batch ${batch}, expected ${dtype} ${shape}`);
          continue;
        }
        const d = maxDifference(got, reference.tensors[want]);
        worst[output] = Math.max(worst[output] ?? 0, d);
        if (!(d <= TOLERANCE[dtype])) (over[output] ??= []).push(batch);
      }
    }
    ran = problems.length === 0;
  } catch (e) {
    problems.push(`ONNX Runtime failed${batch ? ` at batch ${batch}` : ''}: ${oneLine(e)}`);
  } finally {
    await session?.release();
  }
  for (const [output, batches] of Object.entries(over)) {
    const by = worst[output].toExponential(2);
    problems.push(`${output} differs from the reference's ${run.outputs[output]} by ${by} ` +
      `> ${TOLERANCE[dtype].toExponential()} (batch ${batches.join(', ')})`);
  }
  const label = run.label ?? run.graph;
  return {
    worst: ran ? Math.max(0, ...Object.values(worst)) : undefined,
    problems: problems.map((p) => `${label}: ${p}`),
  };
}

/** Throws when the reference lacks a tensor that RUNS needs, or its tensors differ in dtype or rows. */
function checkReference(reference) {
  const needed = new Set(RUNS.flatMap((run) => [...run.inputs, ...Object.values(run.outputs)]));
  needed.delete('eps=0');
  const lacking = [...needed].filter((name) => !reference.tensors[name]);
  if (lacking.length) throw new Error(`the reference lacks ${lacking.join(', ')}`);
  const { dtype, rows } = reference.tensors.x;
  for (const [name, tensor] of Object.entries(reference.tensors)) {
    if (tensor.dtype !== dtype || tensor.rows !== rows) {
      throw new Error(`the reference's ${name} is ${tensor.dtype} with ${tensor.rows} rows, x ${dtype} with ${rows}`);
    }
  }
}

/** Problems with the graphs of one reference (none: an empty list); prints one line for the model. */
async function checkModel(ort, dir, file) {
  const name = file.slice(0, -'.reference.safetensors'.length);
  const reference = readSafetensors(join(dir, file));
  const paths = Object.fromEntries(GRAPHS.map((graph) => [graph, join(dir, `${name}.${graph}.onnx`)]));
  if (!GRAPHS.some((graph) => existsSync(paths[graph]))) {
    console.log(`${name}: not exported (no ${name}.{${GRAPHS}}.onnx in ${dir})`);
    return [`${name}: not exported`];
  }
  checkReference(reference);
  const missing = GRAPHS.filter((graph) => !existsSync(paths[graph]));
  const problems = missing.map((graph) => `${name}: ${name}.${graph}.onnx is missing`);
  const worst = {}; // per graph: the max difference of its runs
  const failed = new Set(); // the graphs that did not run through
  for (const run of RUNS.filter((r) => !missing.includes(r.graph))) {
    const result = await checkRun(ort, paths[run.graph], run, reference);
    if (result.worst === undefined) failed.add(run.graph);
    worst[run.graph] = Math.max(worst[run.graph] ?? 0, result.worst ?? 0);
    problems.push(...result.problems.map((p) => `${name}: ${p}`));
  }
  const column = (graph) =>
    missing.includes(graph) ? 'missing' : failed.has(graph) ? 'error' : worst[graph].toExponential(1);
  const columns = GRAPHS.map((graph) => `${graph} ${column(graph)}`).join('  ');
  const verdict = problems.length ? 'FAILED' : 'ok';
  console.log(`${name.padEnd(24)} ${reference.tensors.x.dtype.padEnd(8)} ${columns}  ${verdict}`);
  return problems;
}

/** Problems with <name>.graph.onnx against <name>.graph.safetensors (none: an empty list); prints one line. */
async function checkGraph(ort, dir, file) {
  const name = file.slice(0, -'.graph.safetensors'.length);
  const { tensors } = readSafetensors(join(dir, file));
  const problems = [];
  const worst = {};
  let session;
  try {
    session = await ort.InferenceSession.create(join(dir, `${name}.graph.onnx`), SESSION_OPTIONS);
    const feeds = {};
    for (const input of session.inputNames) {
      if (!tensors[input]) throw new Error(`the reference lacks the input ${input}`);
      feeds[input] = rowsOf(ort, tensors[input], tensors[input].rows);
    }
    const results = await session.run(feeds);
    for (const output of session.outputNames) {
      const got = results[output];
      const want = tensors[output];
      if (!want) {
        problems.push(`the reference lacks the output ${output}`);
      } else if (got.type !== want.dtype || `${got.dims}` !== `${want.rows},${want.cols}`) {
        problems.push(`${output} is ${got.type} [${got.dims}], the reference's ${want.dtype} [${want.rows},${want.cols}]`);
      } else {
        worst[output] = maxDifference(got, want);
        if (!(worst[output] <= TOLERANCE[want.dtype])) {
          problems.push(`${output} differs by ${worst[output].toExponential(2)} > ${TOLERANCE[want.dtype].toExponential()}`);
        }
      }
    }
  } catch (e) {
    problems.push(`ONNX Runtime failed: ${oneLine(e)}`);
  } finally {
    await session?.release();
  }
  const outputs = Object.entries(worst).map(([o, d]) => `${o} ${d.toExponential(1)}`).join('  ');
  console.log(`${name.padEnd(24)} graph    ${outputs}  ${problems.length ? 'FAILED' : 'ok'}`);
  return problems.map((p) => `${name}: ${p}`);
}

async function main(argv) {
  if (argv.length !== 2) {
    console.log('usage: node tests/deploy/check_onnx.mjs REFERENCE_DIR ONNXRUNTIME_DIR');
    return 2;
  }
  const [dir, runtimeDir] = argv;
  const { ort, version } = loadRuntime(runtimeDir);
  const listed = existsSync(dir) ? readdirSync(dir).sort() : [];
  const models = listed.filter((f) => f.endsWith('.reference.safetensors'));
  const graphs = listed.filter((f) => f.endsWith('.graph.safetensors'));
  if (!models.length) {
    console.log(`no *.reference.safetensors in ${dir}; run vaelet_write_reference ${dir} first`);
    return 1;
  }
  const problems = [];
  for (const [file, check] of [...models.map((f) => [f, checkModel]), ...graphs.map((f) => [f, checkGraph])]) {
    try {
      problems.push(...(await check(ort, dir, file)));
    } catch (e) {
      problems.push(`${file}: ${e.message}`);
    }
  }
  for (const p of problems) console.log('FAILED:', p);
  console.log(`onnxruntime-node ${version}: ${models.length} models and ${graphs.length} op graphs, ` +
    `${problems.length} problems`);
  return problems.length ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
