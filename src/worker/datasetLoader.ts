/** Turns what the user handed us (files, a zip, a demo name) into decoded training images, listing what failed. */
import { unzipSync } from 'fflate';
import type { DatasetSummary, Problem, SourceFile } from '../data/dataset';
import { DEMOS } from '../data/dataset';
import { datasetName } from '../data/datasetName';
import { decodeImage } from '../data/decode';
import { generateDemo } from '../data/demos';
import type { RgbImage } from '../data/demos';
import { readImageSize } from '../data/imageSize';
import { detectLayout, LayoutError, looksSideBySide } from '../data/layout';
import { minimumSide, resizedSize } from '../data/preprocess';
import type { DataOptions } from '../data/preprocess';
import type { DataSource } from './protocol';

/** Decoded images at the size training needs (the reference's resize already applied). */
export interface LoadedDataset {
  summary: DatasetSummary;
  /** unaligned/paired: domain A; aligned: the A|B images. */
  A: RgbImage[];
  B: RgbImage[];
  aligned: boolean;
  /** The file (path) each image of A and B came from, in the same order. */
  namesA: string[];
  namesB: string[];
  /** A few held-out (or first) images per domain for previews, same form as A / B. */
  previewA: RgbImage[];
  previewB: RgbImage[];
}

/** Why nothing could be loaded: the message, the files that could not be used, and whether the files look like one domain. */
export class LoadFailed extends Error {
  constructor(
    message: string,
    readonly problems: Problem[] = [],
    /** Set when the files look like one domain of ordinary photos: how many images (the page asks for the other domain). */
    readonly oneDomain: { images: number } | null = null,
  ) {
    super(message);
  }
}

/** Smallest side we train on at all. */
const MIN_SIDE = 16;
/** How many images' headers are read to tell side-by-side A|B images from ordinary photos. */
const SIZE_SAMPLE = 12;

/** The name a source is shown by. */
export const sourceName = (source: DataSource): string => (source.kind === 'demo' ? DEMOS[source.name].title : datasetName(source.files));

/** Reads zips (async, because blobs are) and returns the flat list of files. */
export async function readArchives(files: SourceFile[]): Promise<{ files: SourceFile[]; problems: Problem[] }> {
  const out: SourceFile[] = [];
  const problems: Problem[] = [];
  for (const f of files) {
    if (!/\.zip$/i.test(f.path)) {
      out.push(f);
      continue;
    }
    try {
      const entries = unzipSync(new Uint8Array(await f.blob.arrayBuffer()));
      for (const [path, bytes] of Object.entries(entries)) {
        if (path.endsWith('/')) continue; // folder entry
        out.push({ path, blob: new Blob([bytes as Uint8Array<ArrayBuffer>]), role: f.role });
      }
    } catch (e) {
      problems.push({ path: f.path, reason: `not a readable zip archive (${e instanceof Error ? e.message : String(e)})` });
    }
  }
  return { files: out, problems };
}

/** Loads a dataset: layout, decoding with per-file problems, demo generation. */
export async function loadDataset(source: DataSource, data: DataOptions, onProgress: (done: number, total: number) => void): Promise<LoadedDataset> {
  if (source.kind === 'demo') {
    const demo = generateDemo(source.name);
    const aligned = DEMOS[source.name].mode === 'pix2pix';
    const fit = (list: RgbImage[], half: boolean) => list.map((im) => resizeRgb(im, targetSize(im.width, im.height, data, half)));
    const A = fit(demo.A, aligned);
    const B = fit(demo.B, false);
    return {
      summary: {
        name: DEMOS[source.name].title,
        mode: DEMOS[source.name].mode,
        arrangement: aligned ? 'aligned' : 'unaligned',
        countA: A.length,
        countB: aligned ? A.length : B.length,
        testCount: 0,
        problems: [],
        ignored: 0,
      },
      A,
      B,
      aligned,
      namesA: A.map((_, i) => `${aligned ? 'pair' : 'A'} ${i + 1}`),
      namesB: B.map((_, i) => `B ${i + 1}`),
      previewA: A.slice(0, 4),
      previewB: aligned ? [] : B.slice(0, 4),
    };
  }
  const archive = await readArchives(source.files);
  let layout;
  try {
    layout = detectLayout(archive.files, source.mode);
  } catch (e) {
    throw new LoadFailed(e instanceof Error ? e.message : String(e), [...archive.problems, ...(e instanceof LayoutError ? e.problems : [])]);
  }
  const problems = [...archive.problems, ...layout.problems];
  const aligned = layout.arrangement === 'aligned';
  if (aligned && !source.mode && !looksSideBySide(await sampleSizes(layout.A))) {
    // Splitting ordinary photos down the middle would train on nonsense: they are one domain; the user names the other.
    const n = layout.A.length;
    throw new LoadFailed(
      `these ${n} ${n === 1 ? 'image looks' : 'images look'} like one domain of ordinary photos, not side-by-side A|B pairs (twice as wide as tall): pick the other domain`,
      problems,
      { images: n },
    );
  }
  const total = layout.A.length + layout.B.length + Math.min(layout.test.length, 8);
  let done = 0;
  const decodeAll = async (list: SourceFile[], half: boolean, limit = Infinity) => {
    const images: (RgbImage | null)[] = [];
    for (const f of list.slice(0, limit)) {
      images.push(await decodeOne(f, data, half, problems));
      if (++done % 8 === 0 || done === total) onProgress(done, total);
    }
    return images;
  };
  let A = await decodeAll(layout.A, aligned);
  let B = await decodeAll(layout.B, false);
  let filesA = layout.A;
  let filesB = layout.B;
  if (layout.arrangement === 'paired') {
    // a pair lives or dies together
    const keep = A.map((a, i) => a !== null && B[i] !== null);
    keep.forEach((k, i) => {
      if (!k && A[i] && !B[i]) problems.push({ path: layout.A[i].path, reason: `its pair ${layout.B[i].path} could not be used` });
      if (!k && B[i] && !A[i]) problems.push({ path: layout.B[i].path, reason: `its pair ${layout.A[i].path} could not be used` });
    });
    A = A.filter((_, i) => keep[i]);
    B = B.filter((_, i) => keep[i]);
    filesA = filesA.filter((_, i) => keep[i]);
    filesB = filesB.filter((_, i) => keep[i]);
  }
  const okA = A.filter((x): x is RgbImage => x !== null);
  const okB = B.filter((x): x is RgbImage => x !== null);
  const namesA = filesA.filter((_, i) => A[i] !== null).map((f) => f.path);
  const namesB = filesB.filter((_, i) => B[i] !== null).map((f) => f.path);
  const testA = layout.test.filter((f) => !/testb|\/b\//i.test(f.path));
  const testB = layout.test.filter((f) => /testb/i.test(f.path));
  const previewA = (await decodeAll(testA, aligned, 4)).filter((x): x is RgbImage => x !== null);
  const previewB = (await decodeAll(testB, false, 4)).filter((x): x is RgbImage => x !== null);
  if (okA.length === 0 || (!aligned && okB.length === 0)) {
    const side = okA.length === 0 ? 'A' : 'B';
    throw new LoadFailed(`none of the images of ${aligned ? 'the dataset' : `domain ${side}`} could be used (see the list of problems)`, problems);
  }
  return {
    summary: {
      name: datasetName(source.files),
      mode: layout.mode,
      arrangement: layout.arrangement,
      countA: okA.length,
      countB: aligned ? okA.length : okB.length,
      testCount: layout.test.length,
      problems,
      ignored: layout.ignored,
      pairsByName: layout.arrangement === 'paired' ? okA.length : layout.pairsByName,
    },
    A: okA,
    B: okB,
    aligned,
    namesA,
    namesB,
    previewA: previewA.length ? previewA : okA.slice(0, 4),
    previewB: aligned ? [] : previewB.length ? previewB : okB.slice(0, 4),
  };
}

/** The size an image is decoded to: the preprocessing's resize applied (to each half for A|B images). */
export function targetSize(width: number, height: number, data: DataOptions, half: boolean) {
  if (!half) return resizedSize(width, height, data);
  const s = resizedSize(Math.floor(width / 2), height, data);
  return { width: s.width * 2, height: s.height };
}

async function decodeOne(f: SourceFile, data: DataOptions, half: boolean, problems: Problem[]): Promise<RgbImage | null> {
  const check = (w: number, h: number): string | null => {
    if (half && w % 2 === 1) return `odd width (${w} px): a side-by-side A|B image needs an even width`;
    const side = Math.min(half ? Math.floor(w / 2) : w, h);
    const need = Math.max(MIN_SIDE, minimumSide(data));
    if (side < need) return `too small (${half ? Math.floor(w / 2) : w}×${h}${half ? ' per half' : ''}): needs at least ${need} px per side${minimumSide(data) ? ' for --preprocess crop' : ''}`;
    return null;
  };
  try {
    let original: { width: number; height: number } | null = null;
    const image = await decodeImage(f.blob, (w, h) => {
      original = { width: w, height: h };
      const problem = check(w, h);
      if (problem) throw Object.assign(new Error(problem), { userFacing: true });
      return targetSize(w, h, data, half);
    });
    if (!original) {
      const problem = check(image.width, image.height);
      if (problem) throw new Error(problem);
    }
    return image;
  } catch (e) {
    problems.push({ path: f.path, reason: e instanceof Error ? e.message : String(e) });
    return null;
  }
}

/** Image sizes from the headers of a few files spread over the list (null where the header is unknown). */
async function sampleSizes(files: SourceFile[]): Promise<({ width: number; height: number } | null)[]> {
  const step = Math.max(1, files.length / SIZE_SAMPLE);
  const sample = Array.from({ length: Math.min(files.length, SIZE_SAMPLE) }, (_, i) => files[Math.floor(i * step)]);
  return Promise.all(sample.map(async (f) => readImageSize(new Uint8Array(await f.blob.slice(0, 256 * 1024).arrayBuffer()))));
}

/** Nearest-neighbour resize of an RGB image (demos only: they are drawn at about the right size). */
export function resizeRgb(im: RgbImage, size: { width: number; height: number }): RgbImage {
  if (size.width === im.width && size.height === im.height) return im;
  const data = new Uint8Array(size.width * size.height * 3);
  for (let y = 0; y < size.height; y++) {
    const sy = Math.min(im.height - 1, Math.floor(((y + 0.5) * im.height) / size.height));
    for (let x = 0; x < size.width; x++) {
      const sx = Math.min(im.width - 1, Math.floor(((x + 0.5) * im.width) / size.width));
      const s = (sy * im.width + sx) * 3;
      data.set(im.data.subarray(s, s + 3), (y * size.width + x) * 3);
    }
  }
  return { width: size.width, height: size.height, data };
}
