/**
 * Per-device tuning of the conv GEMMs: each pass has a few tile configurations; before a step is built, the passes it
 * will use are collected (a dry build), each candidate the device can run is timed on that pass's own shapes, and the
 * fastest is kept, in memory and in a store (IndexedDB in the browser, a file in Node) keyed by adapter and pass, so a
 * second run on the same adapter times nothing.
 */
import { defaultSplits, tileFits } from './convGemm';
import type { GemmConfig } from './convGemm';
import { TILES } from './gemm';
import type { TileName } from './gemm';
import type { Op } from './kernel';
import { recordBuild } from './memory';
import { Plan, precompile } from './plan';
import { kernelsOf } from './kernel';

/** Which GEMM family a pass is (see convGemm.ts): it decides the candidates. */
export type Family = 'gather' | 'parity' | 'filter';

/** A pass the tuner can time: how to make it under a config, and the float counts of its bindings. */
export interface Tunable {
  key: string;
  family: Family;
  rows: number;
  cols: number;
  len: number;
  sizes: number[];
  make: (config: GemmConfig) => Op;
}

/** The configurations worth timing for a GEMM of rows × cols with a reduction of len. */
export function candidates(family: Family, rows: number, cols: number, len: number): GemmConfig[] {
  const wide: TileName[] = cols >= 128 ? ['64x64', '128x64', '128x128', '64x128', '32x32'] : ['64x64', '128x64', '128x128', '32x32'];
  const tiles: TileName[] = cols <= 8 ? ['128x4', '32x32'] : rows <= 1024 ? [...wide, '16x64'] : wide;
  return tiles.flatMap((tile) => {
    const s = defaultSplits(rows, cols, len, TILES[tile]);
    // filter gradients: the default parts and a quarter as many; other passes: one part, and split-K where few tiles
    const splits = family === 'filter' ? [s, Math.max(1, Math.round(s / 4))] : [1, s];
    return [...new Set(splits)].map((n) => ({ tile, splits: n }));
  });
}

/** What an untuned pass runs: small outputs get small tiles (more workgroups), narrow ones the 4-column tile. */
export function defaultConfig(family: Family, rows: number, cols: number, len: number): GemmConfig {
  const tile: TileName = cols <= 4 ? '128x4' : rows <= 16 && cols > 8 ? '16x64' : rows * cols <= 1 << 18 ? '32x32' : '64x64';
  return family === 'filter' ? { tile, splits: defaultSplits(rows, cols, len, TILES[tile]) } : { tile };
}

/** Choices by pass key, for this thread's device (a worker has one). */
const chosen = new Map<string, GemmConfig>();
/** Set while a dry build collects the passes it would use. */
let collecting: Map<string, Tunable> | null = null;

/**
 * The pass `key` made with `config`, else with the tuned choice, else with the default; a dry build records it for
 * tuning.
 */
export function tunable(key: string, family: Family, rows: number, cols: number, len: number, sizes: number[], config: GemmConfig | undefined, make: (c: GemmConfig) => Op): Op {
  if (config) return make(config);
  collecting?.set(key, { key, family, rows, cols, len, sizes, make });
  return make(chosen.get(key) ?? defaultConfig(family, rows, cols, len));
}

/** Where choices outlive the page or process: by `adapter|pass key`. */
export interface TuningStore {
  load(keys: string[]): Promise<Map<string, GemmConfig>>;
  save(entries: Map<string, GemmConfig>): Promise<void>;
}

/** What a tuning did, for the engine report and the closing numbers. */
export interface TuningReport {
  /** Passes the step uses that have a choice now. */
  passes: number;
  /** Of those, remembered (from the store, or from an earlier run in this thread) without timing. */
  fromStore: number;
  /** Candidates timed. */
  timed: number;
  /** Passes left at their default because the time budget ran out (tuned on a later run). */
  leftDefault: number;
  ms: number;
  /** Every candidate timed: pass key, config, milliseconds a dispatch (the benchmark prints them). */
  timings: { key: string; config: GemmConfig; ms: number }[];
}

/** A stored config is used only when it names a tile we have (a stale or edited store is ignored). */
function valid(c: unknown): c is GemmConfig {
  if (!c || typeof c !== 'object') return false;
  const { tile, splits } = c as Record<string, unknown>;
  return typeof tile === 'string' && tile in TILES && (splits === undefined || (Number.isInteger(splits) && (splits as number) >= 1 && (splits as number) <= 4096));
}

/** Milliseconds one dispatch of `op` takes: enough repeats in one submit to outweigh the submit's own cost. */
async function timeOp(device: GPUDevice, op: Op, sizes: number[]): Promise<number> {
  const plan = new Plan(device);
  try {
    const buffers = sizes.map((n, i) => plan.buffer(n, `tuning ${i}`));
    // a candidate the device refuses (a limit we did not foresee) times as never finishing, so it is never chosen
    const once = async (repeat: number) => {
      device.pushErrorScope('validation');
      device.pushErrorScope('out-of-memory');
      const p = new Plan(device);
      let ms = Infinity;
      try {
        for (let i = 0; i < repeat; i++) p.add(op, buffers);
        const t0 = performance.now();
        p.run();
        await device.queue.onSubmittedWorkDone();
        ms = (performance.now() - t0) / repeat;
      } catch {
        ms = Infinity;
      } finally {
        p.dispose();
      }
      const errors = await Promise.all([device.popErrorScope(), device.popErrorScope()]);
      return errors.some((e) => e) ? Infinity : ms;
    };
    const first = await once(1); // compiles, warms
    if (!(first <= 20)) return first;
    const repeat = Math.min(16, Math.max(2, Math.ceil(2 / Math.max(first, 0.05))));
    return await once(repeat);
  } finally {
    plan.dispose();
  }
}

/**
 * Tunes the passes `build` uses on `device`: a dry build collects them (its result disposed), stored choices are
 * taken, the rest timed until `budgetMs` is spent; new choices are saved. `build` then runs with the choices.
 */
export async function tuneFor(device: GPUDevice, adapter: string, build: () => { dispose(): void }, store: TuningStore | null, budgetMs = 3000): Promise<TuningReport> {
  const t0 = performance.now();
  const found = new Map<string, Tunable>();
  collecting = found;
  try {
    recordBuild(device.limits, () => build().dispose());
  } catch {
    // a build that fails is reported by the real build; nothing to tune
  } finally {
    collecting = null;
  }
  // the biggest GEMMs first: a budget that runs out leaves the cheap passes at their defaults
  const todo = [...found.values()].sort((a, b) => b.rows * b.cols * b.len - a.rows * a.cols * a.len);
  const stored = store ? await store.load(todo.map((t) => `${adapter}|${t.key}`)).catch(() => new Map<string, GemmConfig>()) : new Map<string, GemmConfig>();
  const report: TuningReport = { passes: 0, fromStore: 0, timed: 0, leftDefault: 0, ms: 0, timings: [] };
  const fresh = new Map<string, GemmConfig>();
  const fits = (c: GemmConfig) => tileFits(TILES[c.tile], device.limits);
  // a choice this thread made already (an earlier run on the page) counts as stored
  const storedFit = (t: Tunable) => {
    const s = chosen.get(t.key) ?? stored.get(`${adapter}|${t.key}`);
    return valid(s) && fits(s) ? s : null;
  };
  const over = () => performance.now() - t0 > budgetMs;
  for (const t of todo) {
    const s = storedFit(t);
    if (s) {
      chosen.set(t.key, s);
      report.fromStore++;
      report.passes++;
      continue;
    }
    if (over()) {
      report.leftDefault++;
      continue;
    }
    // this pass's candidates compiled at once (in parallel where the driver can), then timed one by one
    const list = candidates(t.family, t.rows, t.cols, t.len)
      .filter(fits)
      .map((config) => ({ config, op: t.make(config) }));
    const compiling = precompile(device, list.flatMap((c) => kernelsOf(c.op)));
    const left = budgetMs - (performance.now() - t0);
    await (Number.isFinite(left) ? Promise.race([compiling, new Promise((resolve) => setTimeout(resolve, Math.max(0, left)))]) : compiling);
    let best: { config: GemmConfig; ms: number } | null = null;
    let complete = true;
    for (const { config, op } of list) {
      // past the budget a pass keeps the best of what it timed, unsaved: a later run times it whole
      if (best && over()) {
        complete = false;
        break;
      }
      const ms = await timeOp(device, op, t.sizes);
      report.timed++;
      report.timings.push({ key: t.key, config, ms });
      if (ms < (best?.ms ?? Infinity)) best = { config, ms };
    }
    if (!best) continue;
    chosen.set(t.key, best.config);
    if (complete) fresh.set(`${adapter}|${t.key}`, best.config);
    report.passes++;
  }
  if (store && fresh.size) await store.save(fresh).catch(() => undefined);
  report.ms = performance.now() - t0;
  return report;
}

/** The tuned choice of a pass (undefined: none yet); for tests and the benchmark. */
export const tunedChoice = (key: string): GemmConfig | undefined => chosen.get(key);

/** Forgets every choice made in this thread (tests start from the defaults). */
export function forgetTuning(): void {
  chosen.clear();
}

/** A readable name for an adapter, as the store keys it. */
export function adapterKey(info: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> | undefined): string {
  return [info?.vendor, info?.architecture, info?.device, info?.description].map((s) => s || '-').join('/');
}
