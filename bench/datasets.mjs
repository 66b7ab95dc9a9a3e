// `npm run bench:datasets`: the studio on reference-sized datasets in headless Chromium, as a user drives it.
// Generates CycleGAN zips laid out like the reference's (trainA/ trainB/ testA/ testB/, 256×256 JPEGs, deflated)
// of 400, 2,400, 20,000 and 50,000 images into bench/.data/, picks each with the Dataset zip input, and measures:
// seconds until the Data card shows the counts, the browser's peak memory (PSS of all its processes) while loading
// and while training, and ms per step on Tiny and Quick (and tiny256: Tiny's networks on 286 px images cropped to
// 256, the reference's data size), CPU and WebGPU. BEFORE_DIST=<a build of an older commit>
// runs the same on it (images decoded up front, as before; it has no zip picker, so it gets the images as a folder)
// for the sizes in BEFORE_SIZES; AFTER_DIST names the build to measure (default dist/). Writes bench/datasets-results.json.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';
import { join } from 'node:path';
import { launch } from './browser.mjs';

const sizes = (process.env.SIZES ?? '400,2400,20000,50000').split(',').map(Number);
const beforeSizes = (process.env.BEFORE_SIZES ?? '400,2400').split(',').map(Number);
const combos = (process.env.COMBOS ?? 'tiny:cpu,tiny:webgpu,quick:cpu,quick:webgpu').split(',').map((c) => c.split(':'));
/** Combos timed on every size (the rest only where a before build is compared). */
const everySize = (process.env.EVERY_SIZE ?? 'tiny:cpu').split(',');
/** Steps timed per preset after three warm-up steps (Quick CycleGAN takes 13 s a step on this CPU). */
const timedSteps = { tiny: Number(process.env.TINY_STEPS ?? 30), quick: Number(process.env.QUICK_STEPS ?? 3), tiny256: 3 };
/** Each preset's page options: tiny256 is Tiny's networks on the reference's 286 px images cropped to 256 (its data cost, small networks). */
const presetQuery = { tiny: 'preset=tiny', quick: 'preset=quick', tiny256: 'preset=tiny&load_size=286&crop_size=256' };
const dataDir = 'bench/.data';
const UNIQUE = 400;

/** 256×256 JPEGs of shapes over noise, drawn in the browser (about the 27 KB of the reference's horse2zebra photos). */
async function makeJpegs(browser) {
  const cache = join(dataDir, 'jpegs');
  if (existsSync(cache) && readdirSync(cache).length >= UNIQUE) return readdirSync(cache).sort().map((f) => readFileSync(join(cache, f)));
  mkdirSync(cache, { recursive: true });
  const page = await browser.newPage();
  const list = await page.evaluate(async (n) => {
    const out = [];
    let seed = 1;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < n; i++) {
      const c = new OffscreenCanvas(256, 256);
      const g = c.getContext('2d');
      const img = g.createImageData(256, 256);
      for (let p = 0; p < img.data.length; p += 4) {
        const v = 90 + 60 * Math.sin(p / 4000 + i) + 40 * rnd();
        img.data[p] = v + 30 * rnd();
        img.data[p + 1] = v * 0.8 + 30 * rnd();
        img.data[p + 2] = v * 0.6 + 30 * rnd();
        img.data[p + 3] = 255;
      }
      g.putImageData(img, 0, 0);
      for (let k = 0; k < 6; k++) {
        g.fillStyle = `hsl(${360 * rnd()},70%,${30 + 40 * rnd()}%)`;
        g.beginPath();
        g.arc(256 * rnd(), 256 * rnd(), 10 + 50 * rnd(), 0, Math.PI * 2);
        g.fill();
      }
      const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
      out.push(Array.from(new Uint8Array(await blob.arrayBuffer())));
    }
    return out;
  }, UNIQUE);
  await page.close();
  list.forEach((bytes, i) => writeFileSync(join(cache, `${String(i).padStart(4, '0')}.jpg`), Buffer.from(bytes)));
  return list.map((b) => Buffer.from(b));
}

/** The dataset's file names: 1% (at least 10, at most 100) per domain held out in testA/testB, the rest split evenly. */
function datasetNames(total) {
  const test = Math.min(100, Math.max(10, Math.round(total * 0.005)));
  const train = Math.floor((total - 2 * test) / 2);
  const names = [];
  for (const [folder, n] of [['trainA', train], ['trainB', total - 2 * test - train], ['testA', test], ['testB', test]]) {
    for (let i = 0; i < n; i++) names.push(`dataset/${folder}/${String(i).padStart(6, '0')}.jpg`);
  }
  return names;
}

/** A little-endian record: `[offset, bytes, value]` fields into a zeroed buffer of `size`. */
function record(size, fields) {
  const b = Buffer.alloc(size);
  for (const [at, bytes, v] of fields) (bytes === 2 ? b.writeUInt16LE(v, at) : b.writeUInt32LE(v, at));
  return b;
}

/** A zip of `total` images (deflated, as `zip -r` makes them), the distinct JPEGs repeated under every name. */
function writeZip(path, total, jpegs) {
  if (existsSync(path)) return;
  const names = datasetNames(total);
  const deflated = jpegs.map((j) => ({ raw: j, data: deflateRawSync(j, { level: 6 }), crc: crc32(j) }));
  const fd = openSync(path, 'w');
  let offset = 0;
  const central = [];
  const put = (buf) => {
    writeSync(fd, buf);
    offset += buf.length;
  };
  names.forEach((name, i) => {
    const e = deflated[i % deflated.length];
    const n = Buffer.from(name);
    const sizes = (crcAt) => [[crcAt, 4, e.crc], [crcAt + 4, 4, e.data.length], [crcAt + 8, 4, e.raw.length], [crcAt + 12, 2, n.length]];
    central.push(record(46, [[0, 4, 0x02014b50], [4, 2, 20], [6, 2, 20], [10, 2, 8], ...sizes(16), [42, 4, offset]]), n);
    put(record(30, [[0, 4, 0x04034b50], [4, 2, 20], [8, 2, 8], ...sizes(14)]));
    put(n);
    put(e.data);
  });
  const cdStart = offset;
  for (const b of central) put(b);
  put(record(22, [[0, 4, 0x06054b50], [8, 2, names.length], [10, 2, names.length], [12, 4, offset - cdStart], [16, 4, cdStart]]));
  closeSync(fd);
}

/** The same dataset as loose files (for a build without the zip picker). */
function writeFolder(dir, total, jpegs) {
  if (existsSync(dir)) return;
  datasetNames(total).forEach((name, i) => {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), jpegs[i % jpegs.length]);
  });
}

/** Proportional memory (PSS) of this script's Chromium processes (its descendants whose command names chrom), in MiB. */
function treeMemoryMiB(root) {
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${d}/status`, 'utf8'))[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {}
  }
  let kb = 0;
  const walk = (pid) => {
    try {
      if (/chrom/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) kb += Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))[1]);
    } catch {}
    for (const c of children.get(pid) ?? []) walk(c);
  };
  for (const c of children.get(root) ?? []) walk(c);
  return kb / 1024;
}

/** Samples the browser's memory every 250 ms; `mark(name)` starts a phase, `peaks` the most per phase. */
function sampler(pid) {
  const peaks = {};
  let phase = 'idle';
  const t = setInterval(() => {
    const m = treeMemoryMiB(pid);
    peaks[phase] = Math.max(peaks[phase] ?? 0, m);
  }, 250);
  return { mark: (p) => (phase = p), peaks, stop: () => clearInterval(t) };
}

function serveDist(port, dist) {
  const args = ['vite', 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1', ...(dist ? ['--outDir', dist] : [])];
  return spawn('npx', args, { stdio: 'ignore' });
}

/** One user session: pick the zip, wait for the counts, train for a while; what it took. */
async function session(port, zip, preset, backend, train) {
  const browser = await launch();
  const mem = sampler(process.pid); // one browser at a time: the generator's is closed
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/?test&${presetQuery[preset]}&backend=${backend}`);
    await page.waitForFunction(() => window.__studio?.store.getState().backend);
    const t0 = Date.now();
    mem.mark('loading');
    // a build without the zip picker gets the same images as a folder
    if (zip.endsWith('.zip')) await page.getByLabel('Dataset zip').setInputFiles(zip);
    else await page.getByLabel('Dataset folder').setInputFiles(join(zip, 'dataset'));
    await page.waitForFunction(() => (window.__studio.store.getState().dataset?.countA ?? 0) > 0, null, { timeout: 900_000 });
    const countsSeconds = (Date.now() - t0) / 1000;
    const summary = await page.evaluate(() => {
      const d = window.__studio.store.getState().dataset;
      return { countA: d.countA, countB: d.countB, testCount: d.testCount };
    });
    const row = { countsSeconds, ...summary, firstStepSeconds: null };
    // WAIT_BEFORE_START=s: the background check runs alone first (it fills the decoded-image cache up to its budget)
    if (process.env.WAIT_BEFORE_START) {
      mem.mark('checking');
      await page.waitForTimeout(Number(process.env.WAIT_BEFORE_START) * 1000);
      row.uncheckedBeforeStart = await page.evaluate(() => window.__studio.store.getState().dataset?.unchecked ?? null);
    }
    if (train) {
      mem.mark('training');
      const clicked = Date.now();
      await page.getByRole('button', { name: 'Start' }).click();
      await page.waitForFunction(() => (window.__studio.store.getState().progress?.step ?? 0) >= 1, null, { timeout: 900_000 });
      row.firstStepSeconds = (Date.now() - clicked) / 1000;
      await page.waitForFunction(() => (window.__studio.store.getState().progress?.step ?? 0) >= 3, null, { timeout: 900_000 });
      const first = await page.evaluate(() => ({ step: window.__studio.store.getState().progress.step, at: performance.now() }));
      await page.waitForFunction((n) => window.__studio.store.getState().progress.step >= n, first.step + timedSteps[preset], { timeout: 1_800_000, polling: 50 });
      const last = await page.evaluate(() => ({ step: window.__studio.store.getState().progress.step, at: performance.now(), engine: window.__studio.store.getState().engine }));
      row.steps = last.step - first.step;
      row.msPerStep = (last.at - first.at) / Math.max(1, row.steps);
      row.engine = last.engine?.engine ?? null;
      const unchecked = await page.evaluate(() => window.__studio.store.getState().dataset?.unchecked ?? null);
      row.uncheckedAtEnd = unchecked;
    }
    row.peakLoadingMiB = Math.round(mem.peaks.loading ?? 0);
    if (mem.peaks.checking) row.peakCheckingMiB = Math.round(mem.peaks.checking);
    row.peakTrainingMiB = Math.round(mem.peaks.training ?? 0);
    return row;
  } finally {
    mem.stop();
    await browser.close();
  }
}

mkdirSync(dataDir, { recursive: true });
const gen = await launch();
const jpegs = await makeJpegs(gen);
await gen.close();
console.log(`${jpegs.length} distinct JPEGs, mean ${Math.round(jpegs.reduce((n, j) => n + j.length, 0) / jpegs.length / 1024)} KiB`);

const servers = [{ name: 'on demand', port: 4195, proc: serveDist(4195, process.env.AFTER_DIST ?? null) }];
if (process.env.BEFORE_DIST) servers.push({ name: 'preloaded (before)', port: 4196, proc: serveDist(4196, process.env.BEFORE_DIST) });
await new Promise((r) => setTimeout(r, 3000));
const rows = [];
try {
  for (const size of sizes) {
    const zip = join(dataDir, `cyclegan-${size}.zip`);
    writeZip(zip, size, jpegs);
    const mib = statSync(zip).size / 1024 ** 2;
    // the builds side by side per combo, so that load on the machine hits both alike
    for (const [preset, backend] of combos) {
      const key = `${preset}:${backend}`;
      if (!everySize.includes(key) && !beforeSizes.includes(size)) continue;
      for (const server of servers) {
        const before = server.name !== 'on demand';
        if (before && !beforeSizes.includes(size)) continue;
        if (before) writeFolder(join(dataDir, `cyclegan-${size}`), size, jpegs);
        const input = before ? join(dataDir, `cyclegan-${size}`) : zip;
        const t = Date.now();
        const row = { build: server.name, input: before ? 'folder' : 'zip', images: size, zipMiB: Math.round(mib), preset, backend, ...(await session(server.port, input, preset, backend, true)) };
        rows.push(row);
        console.log(JSON.stringify(row), `(${Math.round((Date.now() - t) / 1000)} s)`);
        writeFileSync(process.env.OUT ?? 'bench/datasets-results.json', JSON.stringify(rows, null, 1) + '\n');
      }
    }
  }
} finally {
  for (const s of servers) s.proc.kill();
}
