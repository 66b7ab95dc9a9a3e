/**
 * Reads a dropped folder or archive's layout and decides the mode, as the reference's datasets are laid out:
 * `trainA/ trainB/ [testA/ testB/]` → CycleGAN; `train/ [val/ test/]` of A|B images → pix2pix;
 * two folders whose files pair by name → pix2pix; files given as Domain A / Domain B → two domains (CycleGAN).
 * Wherever names pair, the layout says how many, so the page can offer the other mode.
 * Pure: works on paths (and, for A|B images, on sizes the caller read).
 */
import type { Arrangement, Problem } from './dataset';

/** What the layout reads of a file: its path, and the domain input it came through. */
export interface NamedFile {
  path: string;
  role?: 'A' | 'B';
}

export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'bmp', 'gif'] as const;

/** The result: which files are training images of which domain, and which could not be used. */
export interface Layout<F extends NamedFile = NamedFile> {
  mode: 'pix2pix' | 'cycle_gan';
  arrangement: Arrangement;
  /** unaligned: domain A; paired: A of each pair; aligned: the A|B images. */
  A: F[];
  /** unaligned: domain B; paired: B of each pair (same order as A); aligned: empty. */
  B: F[];
  /** Held-out images (testA/testB/val/test), kept for previews. */
  test: F[];
  problems: Problem[];
  ignored: number;
  /** Names A and B share, when enough do to train pix2pix on them (at least half the smaller domain); else 0. */
  pairsByName: number;
}

/** A layout that cannot train, with the files found unusable on the way (so the page can list them all the same). */
export class LayoutError extends Error {
  constructor(
    message: string,
    readonly problems: Problem[],
  ) {
    super(message);
  }
}

/** File order as a file browser shows it (2.png before 10.png), so thumbnails and previews follow the names. */
const byName = (x: string, y: string) => x.localeCompare(y, 'en', { numeric: true });
const sortedByPath = <F extends NamedFile>(files: F[]) => [...files].sort((x, y) => byName(x.path, y.path));

const segments = (path: string) => path.replace(/\\/g, '/').replace(/^\.?\//, '').split('/').filter(Boolean);
const extension = (path: string) => /\.([^./]+)$/.exec(path)?.[1]?.toLowerCase() ?? '';
const stem = (path: string) => {
  const name = segments(path).at(-1) ?? path;
  return name.replace(/\.[^.]+$/, '').toLowerCase();
};

/** Hidden files and OS clutter: skipped silently, as a file browser would. */
export function isHidden(path: string): boolean {
  return segments(path).some((s) => s.startsWith('.') || s === '__MACOSX' || s === 'Thumbs.db' || s === 'desktop.ini');
}

/** True for the extensions we decode. */
export const isImagePath = (path: string): boolean => (IMAGE_EXTENSIONS as readonly string[]).includes(extension(path));

/** Pairs A and B files by name (without extension); the rest are problems. */
export function pairByName<F extends NamedFile>(a: F[], b: F[]): { A: F[]; B: F[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const index = (files: F[], side: string) => {
    const map = new Map<string, F>();
    for (const f of files) {
      const key = stem(f.path);
      if (map.has(key)) problems.push({ path: f.path, reason: `duplicate name in ${side}: ${map.get(key)!.path} has the same name, so the pair is ambiguous` });
      else map.set(key, f);
    }
    return map;
  };
  const ia = index(a, 'A');
  const ib = index(b, 'B');
  const A: F[] = [];
  const B: F[] = [];
  for (const [key, fa] of [...ia].sort(([x], [y]) => byName(x, y))) {
    const fb = ib.get(key);
    if (fb) {
      A.push(fa);
      B.push(fb);
    } else problems.push({ path: fa.path, reason: 'unmatched pair name: no file of the same name in B' });
  }
  for (const [key, fb] of ib) if (!ia.has(key)) problems.push({ path: fb.path, reason: 'unmatched pair name: no file of the same name in A' });
  return { A, B, problems };
}

/** How many names two lists share (each name once). */
const sharedNames = (a: NamedFile[], b: NamedFile[]) => {
  const names = new Set(a.map((f) => stem(f.path)));
  return new Set(b.map((f) => stem(f.path)).filter((n) => names.has(n))).size;
};

/** How far from exactly 2:1 an image may be and still count as side-by-side A|B (16:9 photos, 1.78, do not). */
const SIDE_BY_SIDE_TOLERANCE = 0.2;

/**
 * Whether images of these sizes are side-by-side A|B pairs (about twice as wide as tall) rather than ordinary
 * photos: true when at least half of those whose size is known are. Unknown sizes alone say yes (decoding will tell).
 */
export function looksSideBySide(sizes: ({ width: number; height: number } | null)[]): boolean {
  const known = sizes.filter((s): s is { width: number; height: number } => !!s && s.height > 0);
  if (known.length === 0) return true;
  const wide = known.filter((s) => Math.abs(s.width / s.height - 2) <= SIDE_BY_SIDE_TOLERANCE).length;
  return wide * 2 >= known.length;
}

/**
 * Detects the layout. `override` forces the mode (the user's choice); an impossible override
 * (pix2pix on unpaired folders) throws with a message.
 */
export function detectLayout<F extends NamedFile>(files: F[], override?: 'pix2pix' | 'cycle_gan'): Layout<F> {
  const problems: Problem[] = [];
  let ignored = 0;
  const images: F[] = [];
  for (const f of files) {
    if (isHidden(f.path)) ignored++;
    else if (!isImagePath(f.path)) {
      const ext = extension(f.path);
      problems.push({ path: f.path, reason: ext ? `not an image (.${ext}); use jpg, png, webp, bmp or gif` : 'not an image (no file extension)' });
    } else images.push(f);
  }

  const byRole = { A: images.filter((f) => f.role === 'A'), B: images.filter((f) => f.role === 'B') };
  if (byRole.A.length || byRole.B.length) {
    // Someone who picks two domain folders means two domains, even when the names happen to pair.
    return finish(twoDomains(byRole.A, byRole.B, [...images.filter((f) => !f.role)], override ?? 'cycle_gan'), problems, ignored);
  }

  // Drop one top folder that holds everything (horse2zebra/trainA/..., facades/train/...).
  let depth = 0;
  const top = (f: F) => segments(f.path)[depth];
  const known = /^(train|val|test)[ab]?$/i;
  while (images.length && !known.test(top(images[0])) && images.every((f) => segments(f.path).length > depth + 1 && top(f) === top(images[0]))) depth++;
  const folderOf = (f: F) => (segments(f.path).length > depth + 1 ? segments(f.path)[depth] : '');
  const groups = new Map<string, F[]>();
  for (const f of images) {
    const key = folderOf(f);
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const get = (name: string) => [...groups].find(([k]) => k.toLowerCase() === name)?.[1] ?? [];
  const has = (name: string) => get(name).length > 0;
  const others = (known: string[]) =>
    [...groups].filter(([k]) => !known.includes(k.toLowerCase())).flatMap(([k, list]) =>
      list.map((f) => ({ path: f.path, reason: `outside the dataset's folders (${known.join(', ')}): "${k || '(top level)'}" is not one of them` })),
    );

  if (has('traina') || has('trainb')) {
    const known = ['traina', 'trainb', 'testa', 'testb'];
    problems.push(...others(known));
    const layout = twoDomains(get('traina'), get('trainb'), [...get('testa'), ...get('testb')], override ?? 'cycle_gan');
    return finish(layout, problems, ignored);
  }
  if (has('train')) {
    const known = ['train', 'val', 'test'];
    problems.push(...others(known));
    return finish({ mode: override ?? 'pix2pix', arrangement: 'aligned', A: sortedByPath(get('train')), B: [], test: [...get('val'), ...get('test')], problems: [], pairsByName: 0 }, problems, ignored);
  }
  const folders = [...groups.keys()].filter((k) => k !== '');
  if (folders.length === 2) {
    const [fa, fb] = folders.sort((x, y) => x.localeCompare(y));
    problems.push(...(groups.get('') ?? []).map((f) => ({ path: f.path, reason: `outside the two folders ${fa}/ and ${fb}/` })));
    return finish(twoDomains(groups.get(fa)!, groups.get(fb)!, [], override), problems, ignored);
  }
  if (folders.length > 2) {
    throw new Error(
      `found ${folders.length} folders (${folders.slice(0, 5).join(', ')}${folders.length > 5 ? '…' : ''}): ` +
        'use trainA/ and trainB/ (CycleGAN), train/ of side-by-side A|B images (pix2pix), or exactly two folders',
    );
  }
  // One flat folder: the reference's aligned format, one A|B image per file.
  return finish({ mode: override ?? 'pix2pix', arrangement: 'aligned', A: sortedByPath(images), B: [], test: [], problems: [], pairsByName: 0 }, problems, ignored);
}

/** Two domains: paired by name if most names match (pix2pix), else unaligned (CycleGAN); `mode` decides instead. */
function twoDomains<F extends NamedFile>(a: F[], b: F[], test: F[], mode?: 'pix2pix' | 'cycle_gan'): Layout<F> {
  const shared = sharedNames(a, b);
  const pairsByName = shared > 0 && shared * 2 >= Math.min(a.length, b.length) ? shared : 0;
  const paired = mode === 'pix2pix' || (mode === undefined && shared > 0 && shared >= 0.5 * Math.max(a.length, b.length));
  if (paired) {
    if (shared === 0) throw new Error('pix2pix needs pairs: no file in A has the same name as a file in B. Rename them to match, or train CycleGAN');
    const p = pairByName(a, b);
    return { mode: 'pix2pix', arrangement: 'paired', A: p.A, B: p.B, test, problems: p.problems, ignored: 0, pairsByName: p.A.length };
  }
  return { mode: 'cycle_gan', arrangement: 'unaligned', A: sortedByPath(a), B: sortedByPath(b), test, problems: [], ignored: 0, pairsByName };
}

/** Adds the problems found so far and checks that something trainable is left. */
function finish<F extends NamedFile>(layout: Omit<Layout<F>, 'ignored'> & { ignored?: number }, problems: Problem[], ignored: number): Layout<F> {
  const result: Layout<F> = { ...layout, problems: [...problems, ...layout.problems], ignored };
  if (result.arrangement === 'aligned' && result.A.length === 0) {
    throw new LayoutError('no images to train on: the dataset has no image files', result.problems);
  }
  if (result.arrangement !== 'aligned' && (result.A.length === 0 || result.B.length === 0)) {
    const missing = result.A.length === 0 ? 'A' : 'B';
    throw new LayoutError(
      `domain ${missing} has no images: ${result.mode === 'cycle_gan' ? 'CycleGAN needs images of both domains (trainA/ and trainB/)' : 'pix2pix needs pairs'}`,
      result.problems,
    );
  }
  return result;
}
