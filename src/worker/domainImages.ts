/**
 * One domain's images (or a dataset's A|B images), decoded when a step asks for them: through the shared cache,
 * one decode per image at a time however many ask. An image that cannot be decoded is remembered as unusable,
 * with its reason, and reported once.
 */
import type { RgbImage } from '../data/demos';
import type { Problem } from '../data/dataset';
import type { DecodedCache } from './decodedCache';

/** An image that could not be used: the reason is for the user. */
export class ImageProblem extends Error {
  constructor(readonly path: string, reason: string) {
    super(reason);
  }
}

export class DomainImages {
  /** Unusable images by index, with why. */
  readonly bad = new Map<number, string>();
  private readonly pending = new Map<number, Promise<RgbImage>>();
  /** Images decoded at least once (they may have left the cache since). */
  private readonly decoded: Uint8Array;
  private decodedCount = 0;

  constructor(
    /** The file each image comes from. */
    readonly names: string[],
    /** Decodes image i at the size training needs (`small`: about 48 px high, for a thumbnail); throws a user-facing reason. */
    private readonly decode: (i: number, small: boolean) => Promise<RgbImage>,
    private readonly cache: DecodedCache,
    /** Prefix of this domain's cache keys. */
    private readonly key: string,
    /** Told of every image found unusable, once. */
    private readonly onProblem: (p: Problem, i: number) => void = () => {},
  ) {
    this.decoded = new Uint8Array(names.length);
  }

  get length(): number {
    return this.names.length;
  }

  /** Images not known to be unusable. */
  get usable(): number {
    return this.names.length - this.bad.size;
  }

  /** True once image i has been decoded, or found unusable. */
  known(i: number): boolean {
    return this.decoded[i] === 1 || this.bad.has(i);
  }

  /** Images neither decoded once nor found unusable: what the background check has left. */
  get unchecked(): number {
    return this.names.length - this.decodedCount - this.bad.size;
  }

  /** Image i, decoded (from the cache when it is there); `keep` false: kept only if the cache has room without evicting. */
  image(i: number, keep = true): Promise<RgbImage> {
    const reason = this.bad.get(i);
    if (reason !== undefined) return Promise.reject(new ImageProblem(this.names[i], reason));
    const hit = this.cache.get(`${this.key}${i}`);
    if (hit) return Promise.resolve(hit);
    let p = this.pending.get(i);
    if (!p) {
      p = this.decode(i, false).then(
        (im) => {
          this.pending.delete(i);
          if (!this.decoded[i]) {
            this.decoded[i] = 1;
            this.decodedCount++;
          }
          this.cache.put(`${this.key}${i}`, im, keep);
          return im;
        },
        (e: unknown) => {
          this.pending.delete(i);
          return this.failed(i, e);
        },
      );
      this.pending.set(i, p);
    }
    return p;
  }

  /** Records image i as unusable (its decode failed, or its pair's did) and reports it. */
  markBad(i: number, reason: string): void {
    if (this.bad.has(i)) return;
    this.bad.set(i, reason);
    this.onProblem({ path: this.names[i], reason }, i);
  }

  /** Image i for a thumbnail: the decoded one if the cache has it, else decoded small and not kept. */
  async small(i: number): Promise<RgbImage> {
    const hit = this.cache.get(`${this.key}${i}`);
    if (hit) return hit;
    const reason = this.bad.get(i);
    if (reason !== undefined) throw new ImageProblem(this.names[i], reason);
    return this.decode(i, true).catch((e: unknown) => this.failed(i, e));
  }

  /** A decode of image i failed: it is unusable from now on, and the caller gets why. */
  private failed(i: number, e: unknown): never {
    const why = e instanceof Error ? e.message : String(e);
    this.markBad(i, why);
    throw new ImageProblem(this.names[i], why);
  }

  /** Indices not known to be unusable, in order. */
  usableIndices(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.names.length; i++) if (!this.bad.has(i)) out.push(i);
    return out;
  }
}
