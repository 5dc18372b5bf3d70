#!/usr/bin/env node
// The exporters project's LiteRT runner: runs MODEL.tflite on the tensors of
// IN.safetensors (matched to the model's inputs by name) and writes every
// output, named after the model's signature, to OUT.safetensors.
//
//   node run.mjs MODEL.tflite IN.safetensors OUT.safetensors [--signature KEY]
//
// LiteRT.js ships an Emscripten build meant for browsers; under Node we load
// its glue as CommonJS ourselves and use the embind API directly (that API
// also accepts every fixed-width element type, unlike the package's Tensor).
// Exit codes: 0 ok, 1 runtime failure, 2 usage, 3 model rejected, 4 bad inputs.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

const require = createRequire(import.meta.url);

class Failure extends Error {
  constructor(message, code) { super(message); this.code = code; }
}

// safetensors dtype <-> LiteRT ElementType (TfLiteType numbering).
const DTYPES = {
  F32: { type: 1, bytes: 4 }, I32: { type: 2, bytes: 4 }, U8: { type: 3, bytes: 1 }, I64: { type: 4, bytes: 8 },
  BOOL: { type: 6, bytes: 1 }, I16: { type: 7, bytes: 2 }, I8: { type: 9, bytes: 1 }, F16: { type: 10, bytes: 2 },
  F64: { type: 11, bytes: 8 },
};
const DTYPE_OF_TYPE = Object.fromEntries(Object.entries(DTYPES).map(([k, v]) => [v.type, k]));

function readSafetensors(file) {
  let buf;
  try { buf = readFileSync(file); } catch (e) { throw new Failure(`cannot read ${file}: ${e.message}`, 4); }
  if (buf.length < 8) throw new Failure(`${file}: too short for safetensors`, 4);
  const n = Number(buf.readBigUInt64LE(0));
  if (n > buf.length - 8) throw new Failure(`${file}: header length ${n} exceeds the file`, 4);
  let header;
  try { header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')); } catch (e) { throw new Failure(`${file}: bad JSON header: ${e.message}`, 4); }
  const base = 8 + n;
  const tensors = new Map();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const info = DTYPES[t.dtype];
    if (!info) throw new Failure(`${file}: tensor '${name}' has unsupported dtype ${t.dtype}`, 4);
    const [b, e] = t.data_offsets;
    const count = t.shape.reduce((a, d) => a * d, 1);
    if (e - b !== count * info.bytes || base + e > buf.length) throw new Failure(`${file}: tensor '${name}' has bad data_offsets`, 4);
    tensors.set(name, { dtype: t.dtype, shape: t.shape, data: new Uint8Array(buf.subarray(base + b, base + e)) });
  }
  return tensors;
}

function writeSafetensors(file, tensors, metadata) {
  const header = { __metadata__: metadata };
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.length] };
    off += t.data.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + head.length + off);
  out.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(out, 8);
  let p = 8 + head.length;
  for (const t of tensors) { out.set(t.data, p); p += t.data.length; }
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, out);
  renameSync(tmp, file);
}

async function loadLiteRt() {
  let pkg;
  try { pkg = require.resolve('@litertjs/core/package.json'); } catch {
    throw new Failure('@litertjs/core is not installed: run scripts/setup.sh (npm ci --prefix tools/litert)', 1);
  }
  const glueFile = path.join(path.dirname(pkg), 'wasm', 'litert_wasm_compat_internal.js');
  const source = readFileSync(glueFile, 'utf8');
  const fn = vm.compileFunction(source, ['require', 'module', 'exports', '__filename', '__dirname'], { filename: glueFile });
  const mod = { exports: {} };
  fn(require, mod, mod.exports, glueFile, path.dirname(glueFile));
  const errors = [];
  const log = (line) => { if (/ERROR|FATAL/.test(line)) errors.push(line); if (process.env.LITERT_VERBOSE) process.stderr.write(`[litert] ${line}\n`); };
  const w = await mod.exports({ print: log, printErr: log });
  w.setupLogging?.();
  return { w, env: w.LiteRtEnvironment.create(null), errors };
}

function toArray(vec) {
  const out = [];
  for (let i = 0; i < vec.size(); i++) out.push(vec.get(i));
  vec.delete();
  return out;
}

function typeOf(tt) {
  const type = tt.elementType().value;
  const layout = tt.layout();
  const shape = toArray(layout.dimensions());
  layout.delete();
  tt.delete();
  return { type, dtype: DTYPE_OF_TYPE[type], shape };
}

function explain(e, errors) {
  const msg = [e instanceof Error ? e.message : String(e ?? ''), ...errors.splice(0)].filter(Boolean).join('; ');
  return msg || 'no message from LiteRT';
}

async function main() {
  const args = process.argv.slice(2);
  let signatureKey;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--signature') signatureKey = args[++i];
    else pos.push(args[i]);
  }
  if (pos.length !== 3) throw new Failure('usage: node run.mjs MODEL.tflite IN.safetensors OUT.safetensors [--signature KEY]', 2);
  const [modelFile, inFile, outFile] = pos;
  let bytes;
  try { bytes = readFileSync(modelFile); } catch (e) { throw new Failure(`cannot read ${modelFile}: ${e.message}`, 3); }
  const inputs = readSafetensors(inFile);
  const { w, env, errors } = await loadLiteRt();

  const ptr = w._malloc(bytes.length);
  w.HEAPU8.set(bytes, ptr);
  let model, compiled;
  try {
    model = w.loadModel(env, ptr, bytes.length);
    compiled = await w.compileModel(env, model, { accelerator: 'wasm', cpuOptions: { numThreads: 1 } });
    if (errors.length) throw new Error('');
  } catch (e) {
    throw new Failure(`${modelFile}: LiteRT rejected the model: ${explain(e, errors)}`, 3);
  }
  const count = model.getNumSignatures();
  let s = 0;
  const keys = [];
  for (let i = 0; i < count; i++) { const sig = model.getSignature(i); keys.push(sig.key()); sig.delete(); }
  if (signatureKey !== undefined) {
    s = keys.indexOf(signatureKey);
    if (s < 0) throw new Failure(`${modelFile}: no signature '${signatureKey}' (has: ${keys.join(', ')})`, 2);
  }
  const sig = model.getSignature(s);
  const inNames = toArray(sig.inputNames());
  const outNames = toArray(sig.outputNames());
  sig.delete();

  const buffers = inNames.map((name, i) => {
    const want = typeOf(model.getInputTensorType(s, i));
    const t = inputs.get(name);
    if (!t) throw new Failure(`${inFile}: no tensor named '${name}' for model input ${i} (file has: ${[...inputs.keys()].join(', ')})`, 4);
    if (t.dtype !== want.dtype) throw new Failure(`${inFile}: input '${name}' is ${t.dtype}, the model needs ${want.dtype}`, 4);
    // -1 marks a dynamic dim (shape_signature); LiteRT.js cannot resize, so
    // such inputs must come at the model's stored size, which we take on trust.
    const fits = t.shape.length === want.shape.length && t.shape.every((d, k) => want.shape[k] < 0 || want.shape[k] === d);
    if (!fits) throw new Failure(`${inFile}: input '${name}' has shape [${t.shape}], the model needs [${want.shape}]`, 4);
    const dims = new w.VectorInt32();
    for (const d of t.shape) dims.push_back(d);
    const layout = w.LiteRtLayout.create(dims);
    dims.delete();
    const tt = w.LiteRtRankedTensorType.create({ value: want.type }, layout);
    layout.delete();
    const buf = w.LiteRtTensorBuffer.createManaged(env, w.LiteRtTensorBufferType.HOST_MEMORY, tt, t.data.length);
    tt.delete();
    const p = buf.lock(w.LiteRtTensorBufferLockMode.WRITE);
    w.HEAPU8.set(t.data, p);
    buf.unlock();
    return buf;
  });
  for (const name of inputs.keys()) {
    if (!inNames.includes(name)) throw new Failure(`${inFile}: tensor '${name}' matches no model input (${inNames.join(', ')})`, 4);
  }

  let outs;
  try {
    outs = await compiled.run(s, buffers);
    if (errors.length) throw new Error('');
  } catch (e) {
    throw new Failure(`${modelFile}: LiteRT failed to run the model: ${explain(e, errors)}`, 1);
  }
  const tensors = outs.map((b, i) => {
    const d = typeOf(b.tensorType());
    if (!d.dtype) throw new Failure(`output '${outNames[i]}' has element type ${d.type}, which safetensors cannot hold`, 1);
    const n = d.shape.reduce((a, x) => a * x, 1) * DTYPES[d.dtype].bytes;
    const p = b.lock(w.LiteRtTensorBufferLockMode.READ);
    const data = w.HEAPU8.slice(p, p + n);
    b.unlock();
    b.delete();
    return { name: outNames[i] || `output_${i}`, dtype: d.dtype, shape: d.shape, data };
  });
  const version = JSON.parse(readFileSync(require.resolve('@litertjs/core/package.json'), 'utf8')).version;
  writeSafetensors(outFile, tensors, { runtime: `@litertjs/core@${version}`, model: path.basename(modelFile), signature: keys[s] ?? '' });
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`error: ${e.message}\n`);
  process.exit(e instanceof Failure ? e.code : 1);
});
