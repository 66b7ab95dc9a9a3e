/**
 * Turns what the user handed us (files, a zip, a demo name) into a dataset whose images are decoded when needed:
 * a zip's directory is read, its entries stay in the file; the first images are decoded for thumbnails and previews.
 */
import type { DataFile, DatasetSummary, Problem, SourceFile } from '../data/dataset';
import { DEMOS, dataFileOf } from '../data/dataset';
import { datasetName } from '../data/datasetName';
import { decodeImage } from '../data/decode';
import { generateDemo } from '../data/demos';
import type { RgbImage } from '../data/demos';
import { readImageSize } from '../data/imageSize';
import { detectLayout, LayoutError, looksSideBySide } from '../data/layout';
import { minimumSide, resizedSize } from '../data/preprocess';
import type { DataOptions } from '../data/preprocess';
import { readZipDirectory, readZipEntry } from '../data/zipArchive';
import type { DecodedCache } from './decodedCache';
import { DomainImages } from './domainImages';
import type { DataSource } from './protocol';

/** A dataset ready to train on: its images are decoded by the step that needs them. */
export interface LoadedDataset {
  summary: DatasetSummary;
  /** unaligned/paired: domain A; aligned: the A|B images. */
  A: DomainImages;
  /** unaligned/paired: domain B (paired: B[i] is A[i]'s pair); aligned: null. */
  B: DomainImages | null;
  aligned: boolean;
  /** A few held-out (or first) images per domain for previews, decoded once. */
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
/** Thumbnails the dataset event carries per domain. */
export const FIRST_THUMBNAILS = 8;
/** Height of a thumbnail, in pixels. */
export const THUMBNAIL_HEIGHT = 48;

/** The name a source is shown by. */
export const sourceName = (source: DataSource): string => (source.kind === 'demo' ? DEMOS[source.name].title : datasetName(source.files));

/** Reads zips' directories (their entries are read when needed) and returns the flat list of files. */
export async function readArchives(files: SourceFile[]): Promise<{ files: DataFile[]; problems: Problem[] }> {
  const out: DataFile[] = [];
  const problems: Problem[] = [];
  for (const f of files) {
    if (!/\.zip$/i.test(f.path)) {
      out.push(dataFileOf(f));
      continue;
    }
    try {
      for (const entry of await readZipDirectory(f.blob)) out.push({ path: entry.path, role: f.role, read: () => readZipEntry(f.blob, entry) });
    } catch (e) {
      problems.push({ path: f.path, reason: `not a readable zip archive (${e instanceof Error ? e.message : String(e)})` });
    }
  }
  return { files: out, problems };
}

/** Where the loader reports: images found unusable at any time, and how far the first decodes are. */
export interface LoadHooks {
  cache: DecodedCache;
  onProblem(p: Problem): void;
  onProgress(done: number, total: number): void;
}

/** Loads a dataset: layout, the first decodes (thumbnails, previews), demo generation. Unusable files go to `onProblem`. */
export async function loadDataset(source: DataSource, data: DataOptions, hooks: LoadHooks): Promise<LoadedDataset> {
  if (source.kind === 'demo') {
    const demo = generateDemo(source.name);
    const aligned = DEMOS[source.name].mode === 'pix2pix';
    const fit = (list: RgbImage[], half: boolean) => list.map((im) => resizeRgb(im, targetSize(im.width, im.height, data, half)));
    const imagesA = fit(demo.A, aligned);
    const imagesB = fit(demo.B, false);
    const A = new DomainImages(imagesA.map((_, i) => `${aligned ? 'pair' : 'A'} ${i + 1}`), async (i) => imagesA[i], hooks.cache, 'A');
    const B = aligned ? null : new DomainImages(imagesB.map((_, i) => `B ${i + 1}`), async (i) => imagesB[i], hooks.cache, 'B');
    return {
      summary: {
        name: DEMOS[source.name].title,
        mode: DEMOS[source.name].mode,
        arrangement: aligned ? 'aligned' : 'unaligned',
        countA: A.length,
        countB: aligned ? A.length : B!.length,
        testCount: 0,
        problems: [],
        ignored: 0,
        unchecked: 0,
      },
      A,
      B,
      aligned,
      previewA: imagesA.slice(0, 4),
      previewB: aligned ? [] : imagesB.slice(0, 4),
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
  const paired = layout.arrangement === 'paired';
  const filesA = layout.A;
  const filesB = layout.B;
  const report = (p: Problem) => {
    problems.push(p);
    hooks.onProblem(p);
  };
  const decoder = (list: DataFile[], half: boolean) => (i: number, small: boolean) => decodeFile(list[i], data, half, small);
  // a pair lives or dies together
  let A: DomainImages;
  let B: DomainImages | null = null;
  A = new DomainImages(filesA.map((f) => f.path), decoder(filesA, aligned), hooks.cache, 'A', (p, i) => {
    report(p);
    if (paired) B?.markBad(i, `its pair ${filesA[i].path} could not be used`);
  });
  if (!aligned) {
    B = new DomainImages(filesB.map((f) => f.path), decoder(filesB, false), hooks.cache, 'B', (p, i) => {
      report(p);
      if (paired) A.markBad(i, `its pair ${filesB[i].path} could not be used`);
    });
  }
  const testA = layout.test.filter((f) => !/testb|\/b\//i.test(f.path));
  const testB = layout.test.filter((f) => /testb/i.test(f.path));
  const total = FIRST_THUMBNAILS * (aligned ? 1 : 2) + Math.min(testA.length, 4) + Math.min(testB.length, 4);
  let done = 0;
  const tick = () => hooks.onProgress(++done, total);
  // the first usable images: thumbnails now, and proof that the domain has any
  const firstA = await firstUsable(A, paired ? B : null, tick);
  const firstB = B && !paired ? await firstUsable(B, null, tick) : firstA;
  const previews = async (list: DataFile[], half: boolean) => {
    const out: RgbImage[] = [];
    for (const f of list.slice(0, 4)) {
      try {
        out.push(await decodeFile(f, data, half, false));
      } catch (e) {
        problems.push({ path: f.path, reason: e instanceof Error ? e.message : String(e) });
      }
      tick();
    }
    return out;
  };
  const previewA = await previews(testA, aligned);
  const previewB = await previews(testB, false);
  if (firstA.length === 0 || (B && firstB.length === 0)) {
    const side = firstA.length === 0 ? 'A' : 'B';
    throw new LoadFailed(`none of the images of ${aligned ? 'the dataset' : `domain ${side}`} could be used (see the list of problems)`, problems);
  }
  const trainingImages = async (d: DomainImages, first: number[]) => Promise.all(first.slice(0, 4).map((i) => d.image(i)));
  return {
    summary: {
      name: datasetName(source.files),
      mode: layout.mode,
      arrangement: layout.arrangement,
      countA: A.usable,
      countB: aligned ? A.usable : B!.usable,
      testCount: layout.test.length,
      problems,
      ignored: layout.ignored,
      pairsByName: paired ? A.usable : layout.pairsByName,
      unchecked: A.unchecked + (B?.unchecked ?? 0),
    },
    A,
    B,
    aligned,
    previewA: previewA.length ? previewA : await trainingImages(A, firstA),
    previewB: aligned ? [] : previewB.length ? previewB : await trainingImages(B!, firstB),
  };
}

/** Indices of the first few images that decode (for pairs: both halves of the pair), trying on until some do or none are left. */
async function firstUsable(d: DomainImages, pairs: DomainImages | null, tick: () => void): Promise<number[]> {
  const found: number[] = [];
  for (let i = 0; i < d.length && found.length < FIRST_THUMBNAILS; i++) {
    try {
      await d.image(i);
      if (pairs) await pairs.image(i);
      found.push(i);
      tick();
    } catch {
      // listed through onProblem; the next one is tried
    }
  }
  return found;
}

/** The size an image is decoded to: the preprocessing's resize applied (to each half for A|B images). */
export function targetSize(width: number, height: number, data: DataOptions, half: boolean) {
  if (!half) return resizedSize(width, height, data);
  const s = resizedSize(Math.floor(width / 2), height, data);
  return { width: s.width * 2, height: s.height };
}

/** Decodes one file at the size training needs (or thumbnail-small); throws the reason it cannot be used. */
export async function decodeFile(f: DataFile, data: DataOptions, half: boolean, small: boolean): Promise<RgbImage> {
  const check = (w: number, h: number): string | null => {
    if (half && w % 2 === 1) return `odd width (${w} px): a side-by-side A|B image needs an even width`;
    const side = Math.min(half ? Math.floor(w / 2) : w, h);
    const need = Math.max(MIN_SIDE, minimumSide(data));
    if (side < need) return `too small (${half ? Math.floor(w / 2) : w}×${h}${half ? ' per half' : ''}): needs at least ${need} px per side${minimumSide(data) ? ' for --preprocess crop' : ''}`;
    return null;
  };
  const size = (w: number, h: number) => {
    if (!small) return targetSize(w, h, data, half);
    return { width: Math.max(1, Math.round((w * THUMBNAIL_HEIGHT) / h)), height: THUMBNAIL_HEIGHT };
  };
  let original: { width: number; height: number } | null = null;
  const image = await decodeImage(await f.read(), (w, h) => {
    original = { width: w, height: h };
    const problem = check(w, h);
    if (problem) throw Object.assign(new Error(problem), { userFacing: true });
    return size(w, h);
  });
  if (!original) {
    const problem = check(image.width, image.height);
    if (problem) throw new Error(problem);
  }
  return image;
}

/** Image sizes from the headers of a few files spread over the list (null where the header is unknown). */
async function sampleSizes(files: DataFile[]): Promise<({ width: number; height: number } | null)[]> {
  const step = Math.max(1, files.length / SIZE_SAMPLE);
  const sample = Array.from({ length: Math.min(files.length, SIZE_SAMPLE) }, (_, i) => files[Math.floor(i * step)]);
  return Promise.all(sample.map(async (f) => readImageSize(new Uint8Array(await (await f.read().catch(() => new Blob([]))).slice(0, 256 * 1024).arrayBuffer()))));
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
