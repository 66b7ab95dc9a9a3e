/**
 * The three implicit-GEMM families that every convolution pass of the networks is (conv2d.ts and convTranspose.ts
 * describe theirs in these terms), over the tiled loop of gemm.ts:
 * - gather: out[q] = Σ_tap,c img[q·S − P + tap, c] · w[tap, c, n]: a conv's forward, a transposed conv's input gradient;
 * - parity: out[q] = Σ_tap,c src[(q + P − tap) / S, c] · w[tap, n, c] where S divides: a conv's input gradient, a
 *   transposed conv's forward; for stride 2 the rows split into four parity classes, each with only its own taps;
 * - filter: dW[tap, c, n] = Σ_q img[q·S − P + tap, c] · g[q, n]: both kinds' filter gradients.
 * Any of them may split its reduction into parts (split-K, see gemmOp) when its output has too few tiles for the GPU.
 * A family gets its inputs' WGSL readers from the caller: `readImg`/`readSrc`/`readG` (j: a flat index, the activation's
 * slope folded in where the caller reads a gradient), `readW`, and `storeC(base, n, v)` (bias and activation there).
 */
import type { Access, Kernel, Op } from './kernel';
import { declareBindings, groupsFor, MAIN_1D } from './kernel';
import type { PadMode } from './conv2d';
import { gemmGrid, gemmMain, sharedBytesOf, threadsOf, TILES } from './gemm';
import type { GemmShape, Tile, TileName } from './gemm';

/** A grid of NHWC pixels inside a buffer: sides, the channels this op uses, the pixel stride and first channel. */
export interface Grid {
  h: number;
  w: number;
  c: number;
  stride: number;
  offset: number;
}

/** One convolution pass as a family sees it. */
interface Geometry {
  batch: number;
  kernel: number;
  stride: 1 | 2;
  pad: number;
  padMode: PadMode;
}

/** The caller's WGSL: its read bindings (b0…), the readers over them, and storeC over the output binding it is given. */
export interface Io {
  inputs: number;
  readers: string;
  store: (out: string) => string;
  /** WGSL of `initC(n)`, where a sum starts (the bias), when it starts anywhere but zero. */
  init?: string;
}

/** A tuning choice: a tile, and for filter gradients how many reduction parts. */
export interface GemmConfig {
  tile: TileName;
  splits?: number;
}

/** `inRow(i, n)`: the row an index i of a side n reads, −1 where zero padding reads a zero (PyTorch's reflection too). */
export function inRowFn(padMode: PadMode): string {
  return `fn inRow(i: i32, n: i32) -> i32 {
${padMode === 'zero' ? '  return select(-1, i, i >= 0 && i < n);' : '  let j = abs(i);\n  return select(j, 2 * (n - 1) - j, j >= n);'}
}`;
}

/**
 * `loadA` (one value of A) and `loadA4` (four consecutive along the channels, when the family's channel count is a
 * multiple of 4: one address computed for four loads) over the family's `addrA` (−1: a zero).
 */
const readA = (read: string) => `fn loadA(c: Cls, r: vec4<i32>, k: i32) -> f32 {
  let j = addrA(c, r, k);
  return select(0.0, ${read}(max(j, 0)), j >= 0);
}
fn loadA4(c: Cls, r: vec4<i32>, k: i32) -> vec4<f32> {
  let j = addrA(c, r, k);
  if (j < 0) { return vec4<f32>(0.0); }
  return vec4<f32>(${read}(j), ${read}(j + 1), ${read}(j + 2), ${read}(j + 3));
}`;

/** `loadB` and `loadB4` (four consecutive along B's contiguous side: one address for four loads) over `addrB`; prepB's `r.y` 0: a column past the end, zeros. */
const readB = (read: string) => `fn loadB(c: Cls, r: vec4<i32>, k: i32) -> f32 {
  if (r.y == 0) { return 0.0; }
  return ${read}(addrB(c, r, k));
}
fn loadB4(c: Cls, r: vec4<i32>, k: i32) -> vec4<f32> {
  if (r.y == 0) { return vec4<f32>(0.0); }
  let j = addrB(c, r, k);
  return vec4<f32>(${read}(j), ${read}(j + 1), ${read}(j + 2), ${read}(j + 3));
}`;

const configKey = (c: GemmConfig) => `${c.tile}${c.splits && c.splits > 1 ? `-k${c.splits}` : ''}`;

/**
 * The GEMM of a family as an op. `cls` declares `Cls`, `classOf` and `outRow` (all a sum of parts needs), `loads` the
 * readers of A and B. With several reduction parts (split-K), each part writes its partial C to plan scratch as
 * [class][part][row][col], the first part starting at the bias, and a second kernel sums them through `storeC`.
 */
function gemmOp(name: string, key: string, io: Io, cls: string, loads: string, g: GemmShape, t: Tile, config: GemmConfig): Op {
  const bindings: Access[] = [...Array(io.inputs).fill('read'), 'write'];
  const out = `b${io.inputs}`;
  const split = g.splits > 1;
  const tag = configKey({ ...config, splits: g.splits });
  const gemm: Kernel = {
    name: `${name} [${tag}]`,
    key: `${key}-${tag}`,
    bindings,
    workgroups: gemmGrid(g, t),
    source: `${declareBindings(bindings)}
${io.readers}
${split ? '' : io.store(out)}
${io.init ?? ''}
${cls}
${loads}
${gemmMain({ ...g, init: !!io.init }, t, split ? out : null)}`,
  };
  if (!split) return gemm;
  const count = g.classes * g.rows * g.cols;
  const sum: Kernel = {
    name: `${name}: sum of ${g.splits} parts`,
    key: `${key}-sum${g.splits}`,
    bindings: ['read', 'write'],
    workgroups: groupsFor(count),
    source: `${declareBindings(['read', 'write'])}
${io.store('b1')}
${cls}
${MAIN_1D}
  if (i >= ${count}u) { return; }
  let t = i32(i);
  let n = t % ${g.cols};
  let m = (t / ${g.cols}) % ${g.rows};
  let z = t / ${g.cols * g.rows};
  let c = classOf(z);
  if (m >= c.rows) { return; }
  var acc = 0.0;
  for (var s = 0; s < ${g.splits}; s++) { acc += b0[((z * ${g.splits} + s) * ${g.rows} + m) * ${g.cols} + n]; }
  storeC(outRow(c, m), n, acc);
}`,
  };
  const inputs = Array.from({ length: io.inputs }, (_, i) => i);
  return {
    name,
    stages: [
      { kernel: gemm, buffers: [...inputs, 'scratch'] },
      { kernel: sum, buffers: ['scratch', io.inputs] },
    ],
    scratch: g.classes * g.splits * g.rows * g.cols,
  };
}

/** Reduction parts within what a config asks and the reduction allows, and the indices each covers (whole k-slices). */
function splitsOf(config: GemmConfig, len: number, t: Tile): { splits: number; chunk: number } {
  const splits = Math.max(1, Math.min(config.splits ?? 1, Math.ceil(len / t.bk)));
  return { splits, chunk: Math.ceil(len / splits / t.bk) * t.bk };
}

/** The gather family: a conv's forward (img x, filter [tap][c][n]) or a transposed conv's input gradient. */
export function gatherGemm(name: string, key: string, geo: Geometry, img: Grid, out: Grid, wTap: number, wC: number, io: Io, config: GemmConfig): Op {
  const t = TILES[config.tile];
  const K = geo.kernel;
  const len = K * K * img.c;
  const g: GemmShape = { rows: geo.batch * out.h * out.w, cols: out.c, classes: 1, ...splitsOf(config, len, t), aAlong: 'k', bAlong: 'n', vecA: img.c % 4 === 0, vecB: out.c % 4 === 0 };
  const cls = `struct Cls { rows: i32, len: i32 }
fn classOf(z: i32) -> Cls { return Cls(${g.rows}, ${len}); }
fn outRow(c: Cls, m: i32) -> i32 { return m * ${out.stride} + ${out.offset}; }`;
  const loads = `${inRowFn(geo.padMode)}
fn prepA(c: Cls, m: i32) -> vec4<i32> {
  let ow = m % ${out.w};
  let oh = (m / ${out.w}) % ${out.h};
  return vec4<i32>(m / ${out.w * out.h} * ${img.h}, oh * ${geo.stride} - ${geo.pad}, ow * ${geo.stride} - ${geo.pad}, select(0, 1, m < c.rows));
}
fn addrA(c: Cls, r: vec4<i32>, k: i32) -> i32 {
  let tap = k / ${img.c};
  let ih = inRow(r.y + tap / ${K}, ${img.h});
  let iw = inRow(r.z + tap % ${K}, ${img.w});
  if (r.w == 0 || ih < 0 || iw < 0) { return -1; }
  return ((r.x + ih) * ${img.w} + iw) * ${img.stride} + ${img.offset} + k % ${img.c};
}
${readA('readImg')}
fn prepB(c: Cls, n: i32) -> vec4<i32> { return vec4<i32>(n, select(0, 1, n < ${out.c}), 0, 0); }
fn addrB(c: Cls, r: vec4<i32>, k: i32) -> i32 { return k / ${img.c} * ${wTap} + k % ${img.c} * ${wC} + r.x; }
${readB('readW')}`;
  return gemmOp(name, key, io, cls, loads, g, t, config);
}

/**
 * The parity family: out[q] += src[p] · w[tap][n][c] where q = p·S − P + tap, gathered per output q as p = (q + P −
 * tap) / S; for S = 2 the rows of each parity class (q + P mod 2 per side) take the taps of that parity only.
 * Zero padding only: a reflected conv's mirrored terms are added by `mirrorFix`.
 */
export function parityGemm(name: string, key: string, geo: Geometry, src: Grid, out: Grid, wTap: number, wN: number, io: Io, config: GemmConfig): Op {
  const t = TILES[config.tile];
  const S = geo.stride;
  const P = geo.pad;
  const K = geo.kernel;
  const largest = Math.ceil(out.h / S) * Math.ceil(out.w / S);
  // taps per class along a row: a constant where every class has the same count (a division the compiler folds)
  const tw = K % S === 0 ? `${K / S}` : 'c.taps.y';
  // the longest class's reduction: every class's parts are cut at the same indices
  const len = Math.ceil(K / S) ** 2 * src.c;
  const g: GemmShape = { rows: geo.batch * largest, cols: out.c, classes: S * S, ...splitsOf(config, len, t), aAlong: 'k', bAlong: 'k', vecA: src.c % 4 === 0, vecB: src.c % 4 === 0 };
  const cls = `struct Cls { rows: i32, len: i32, q0: vec2<i32>, count: vec2<i32>, par: vec2<i32>, taps: vec2<i32>, base: vec2<i32> }
fn classOf(z: i32) -> Cls {
  // par: (q + P) mod S of the class; q0: its first output row (column); taps par, par + S, ...
  let par = vec2<i32>(z / ${S}, z % ${S});
  let q0 = ((par - ${P}) % ${S} + ${S}) % ${S};
  let count = max(vec2<i32>(0), (vec2<i32>(${out.h}, ${out.w}) - q0 + ${S - 1}) / ${S});
  let taps = max(vec2<i32>(0), (${K} - par + ${S - 1}) / ${S});
  return Cls(${geo.batch} * count.x * count.y, taps.x * taps.y * ${src.c}, q0, count, par, taps, (q0 + ${P} - par) / ${S});
}
fn outRow(c: Cls, m: i32) -> i32 {
  let j = m % c.count.y;
  let i = (m / c.count.y) % c.count.x;
  let b = m / (c.count.x * c.count.y);
  return ((b * ${out.h} + c.q0.x + ${S} * i) * ${out.w} + c.q0.y + ${S} * j) * ${out.stride} + ${out.offset};
}`;
  const loads = `fn prepA(c: Cls, m: i32) -> vec4<i32> {
  let j = m % max(c.count.y, 1);
  let i = (m / max(c.count.y, 1)) % max(c.count.x, 1);
  return vec4<i32>(m / max(c.count.x * c.count.y, 1) * ${src.h}, c.base.x + i, c.base.y + j, select(0, 1, m < c.rows));
}
fn addrA(c: Cls, r: vec4<i32>, k: i32) -> i32 {
  let tap = k / ${src.c};
  let ph = r.y - tap / ${tw};
  let pw = r.z - tap % ${tw};
  if (r.w == 0 || ph < 0 || ph >= ${src.h} || pw < 0 || pw >= ${src.w}) { return -1; }
  return ((r.x + ph) * ${src.w} + pw) * ${src.stride} + ${src.offset} + k % ${src.c};
}
${readA('readSrc')}
fn prepB(c: Cls, n: i32) -> vec4<i32> { return vec4<i32>(n * ${wN}, select(0, 1, n < ${out.c}), 0, 0); }
fn addrB(c: Cls, r: vec4<i32>, k: i32) -> i32 {
  let tap = k / ${src.c};
  let kh = c.par.x + ${S} * (tap / ${tw});
  let kw = c.par.y + ${S} * (tap % ${tw});
  return (kh * ${K} + kw) * ${wTap} + r.x + k % ${src.c};
}
${readB('readW')}`;
  return gemmOp(name, key, io, cls, loads, g, t, config);
}

/** Reduction parts for a GEMM of few tiles: enough workgroups to fill a large GPU, each part at least 64 slices long. */
export function defaultSplits(rows: number, cols: number, len: number, t: Tile): number {
  const tiles = Math.ceil(rows / t.bm) * Math.ceil(cols / t.bn);
  return Math.max(1, Math.min(Math.floor(512 / tiles), Math.floor(len / (t.bk * 64))));
}

/**
 * The filter family: dW[m = (tap, c)][n] = Σ_q img[q·S − P + tap, c] · g[q, n], q over the batch's g pixels (split
 * into parts, see gemmOp, where dW is small and the reduction long).
 */
export function filterGemm(name: string, key: string, geo: Geometry, img: Grid, gGrid: Grid, io: Io, config: GemmConfig): Op {
  const t = TILES[config.tile];
  const K = geo.kernel;
  const rows = K * K * img.c;
  const len = geo.batch * gGrid.h * gGrid.w;
  const g: GemmShape = { rows, cols: gGrid.c, classes: 1, ...splitsOf(config, len, t), aAlong: 'm', bAlong: 'n', vecA: img.c % 4 === 0, vecB: gGrid.c % 4 === 0 };
  const cls = `struct Cls { rows: i32, len: i32 }
fn classOf(z: i32) -> Cls { return Cls(${rows}, ${len}); }
fn outRow(c: Cls, m: i32) -> i32 { return m * ${gGrid.c}; }`;
  const loads = `${inRowFn(geo.padMode)}
fn prepA(c: Cls, m: i32) -> vec4<i32> {
  let tap = m / ${img.c};
  return vec4<i32>(tap / ${K} - ${geo.pad}, tap % ${K} - ${geo.pad}, ${img.offset} + m % ${img.c}, select(0, 1, m < c.rows));
}
fn addrA(c: Cls, r: vec4<i32>, k: i32) -> i32 {
  let gw = k % ${gGrid.w};
  let gh = (k / ${gGrid.w}) % ${gGrid.h};
  let ih = inRow(gh * ${geo.stride} + r.x, ${img.h});
  let iw = inRow(gw * ${geo.stride} + r.y, ${img.w});
  if (r.w == 0 || ih < 0 || iw < 0) { return -1; }
  return ((k / ${gGrid.w * gGrid.h} * ${img.h} + ih) * ${img.w} + iw) * ${img.stride} + r.z;
}
${readA('readImg')}
fn prepB(c: Cls, n: i32) -> vec4<i32> { return vec4<i32>(n + ${gGrid.offset}, select(0, 1, n < ${gGrid.c}), 0, 0); }
fn addrB(c: Cls, r: vec4<i32>, k: i32) -> i32 { return k * ${gGrid.stride} + r.x; }
${readB('readG')}`;
  return gemmOp(name, key, io, cls, loads, g, t, config);
}

/** Whether a device can run a tile: its invocations and workgroup memory within the limits. */
export function tileFits(t: Tile, limits: Pick<GPUSupportedLimits, 'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupStorageSize' | 'maxComputeWorkgroupSizeX'>): boolean {
  const threads = threadsOf(t);
  return threads <= limits.maxComputeInvocationsPerWorkgroup && threads <= limits.maxComputeWorkgroupSizeX && sharedBytesOf(t) <= limits.maxComputeWorkgroupStorageSize;
}
