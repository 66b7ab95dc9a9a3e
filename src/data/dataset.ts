/** Types shared by the data layer, the worker and the page. */

/** A file the user handed us, with its path inside what they dropped (folders included). */
export interface SourceFile {
  path: string;
  blob: Blob;
  /** Set when the user dropped it on the Domain A or Domain B input. */
  role?: 'A' | 'B';
}

/** One image file of a dataset, read only when needed: a file the user gave, or an entry of a zip they gave. */
export interface DataFile {
  path: string;
  role?: 'A' | 'B';
  /** Its bytes (a zip entry is inflated, within bounds, each time). */
  read(): Promise<Blob>;
}

/** A file the user handed over as a DataFile. */
export const dataFileOf = (f: SourceFile): DataFile => ({ path: f.path, role: f.role, read: async () => f.blob });

/** A file we could not use, and why, in words for the user. */
export interface Problem {
  path: string;
  reason: string;
}

/** Built-in demo datasets, generated in code. */
export const DEMOS = {
  'shapes-recolour': { mode: 'pix2pix', title: 'Shapes → recoloured shapes (paired, pix2pix)' },
  'warm-to-green': { mode: 'cycle_gan', title: 'Warm shapes ↔ green shapes (unpaired, CycleGAN)' },
} as const;
export type DemoName = keyof typeof DEMOS;

/** How the images are arranged. */
export type Arrangement =
  | 'unaligned' // two independent domains (CycleGAN)
  | 'aligned' // side-by-side A|B images (pix2pix)
  | 'paired'; // two folders whose files pair by name (pix2pix)

/** What a dataset holds, as the page shows it. */
export interface DatasetSummary {
  name: string;
  mode: 'pix2pix' | 'cycle_gan';
  arrangement: Arrangement;
  /** Training images per domain (for aligned data, A and B count the same pictures). */
  countA: number;
  countB: number;
  /** Held-out images found beside the training ones (testA/testB, val/test). */
  testCount: number;
  problems: Problem[];
  /** Hidden files and folders skipped without comment (.DS_Store, __MACOSX/...). */
  ignored: number;
  /**
   * Files of A that have a file of the same name in B, when enough do to train either way: as pairs (pix2pix) or
   * as two unpaired domains (CycleGAN). Paired data: the number of pairs. Absent or 0: no choice to offer.
   */
  pairsByName?: number;
  /** Training images not decoded yet: a background check decodes them all and lists what fails (0: all checked). */
  unchecked: number;
}
