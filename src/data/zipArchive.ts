/**
 * A zip read by random access from its Blob: the central directory first, then each entry only when it is asked
 * for, so a 50,000-image archive costs its directory in memory, not its images. Archives are untrusted: every
 * entry must lie inside the file, before the directory and apart from the others; it inflates to exactly its
 * declared size (a stream that runs past it is cut off at once), and declared sizes have a ceiling.
 */
import { Inflate } from 'fflate';
import { timed } from './cpuClock';

/** One file inside the archive, as its central directory describes it. */
export interface ZipEntry {
  path: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  /** Where its local header starts. */
  offset: number;
  encrypted: boolean;
}

/** Why an archive, or one entry of it, cannot be read. */
export class ZipError extends Error {}

/** The largest entry we inflate: a 20,000-pixel photo as BMP is under this; anything claiming more is refused. */
export const MAX_ENTRY_BYTES = 1024 ** 3;
/** Deflate cannot shrink data more than about 1032:1; an entry claiming more is lying about its sizes. */
const MAX_DEFLATE_RATIO = 1032;
/** Compressed bytes fed to the inflater at a time: one push produces at most about 1 MiB before the size check. */
const INFLATE_CHUNK = 1024;

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const EOCD64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const U32 = 0xffffffff;

const read = async (blob: Blob, start: number, end: number) => new DataView(await blob.slice(start, end).arrayBuffer());
const u64 = (v: DataView, at: number) => {
  const n = v.getUint32(at, true) + v.getUint32(at + 4, true) * 2 ** 32;
  if (!Number.isSafeInteger(n)) throw new ZipError('a size or offset in the zip is out of range');
  return n;
};

/** Reads the central directory: every entry's name, sizes and place, checked against the file and each other. */
export async function readZipDirectory(blob: Blob): Promise<ZipEntry[]> {
  const size = blob.size;
  if (size < 22) throw new ZipError('too short to be a zip archive');
  const tailStart = Math.max(0, size - 22 - 0xffff);
  const tail = await read(blob, tailStart, size);
  let eocd = -1;
  for (let at = tail.byteLength - 22; at >= 0; at--) {
    if (tail.getUint32(at, true) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('no end-of-archive record: not a zip, or cut short');
  let count = tail.getUint16(eocd + 10, true);
  let cdSize = tail.getUint32(eocd + 12, true);
  let cdOffset = tail.getUint32(eocd + 16, true);
  const disk = tail.getUint16(eocd + 4, true);
  if (disk !== 0 && disk !== 0xffff) {
    throw new ZipError('a multi-part (split) zip: join its parts into one archive');
  }
  if ((count === 0xffff || cdSize === U32 || cdOffset === U32) && eocd >= 20 && tail.getUint32(eocd - 20, true) === EOCD64_LOCATOR) {
    const at64 = u64(tail, eocd - 20 + 8);
    if (at64 + 56 > size) throw new ZipError('its ZIP64 record points past the end of the file');
    const z = await read(blob, at64, at64 + 56);
    if (z.getUint32(0, true) !== EOCD64) throw new ZipError('its ZIP64 record is missing');
    count = u64(z, 32);
    cdSize = u64(z, 40);
    cdOffset = u64(z, 48);
  }
  if (cdOffset + cdSize > size) throw new ZipError('its directory points past the end of the file (cut short?)');
  // a directory entry takes at least 46 bytes: a count beyond that is a lie
  if (count * 46 > cdSize) throw new ZipError(`its directory claims ${count} entries but has room for ${Math.floor(cdSize / 46)}`);
  const cd = await read(blob, cdOffset, cdOffset + cdSize);
  const names = new TextDecoder();
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > cd.byteLength || cd.getUint32(at, true) !== CENTRAL) throw new ZipError(`its directory is damaged at entry ${i + 1}`);
    const flags = cd.getUint16(at + 8, true);
    const method = cd.getUint16(at + 10, true);
    let compressedSize = cd.getUint32(at + 20, true);
    let entrySize = cd.getUint32(at + 24, true);
    const nameLength = cd.getUint16(at + 28, true);
    const extraLength = cd.getUint16(at + 30, true);
    const commentLength = cd.getUint16(at + 32, true);
    let offset = cd.getUint32(at + 42, true);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > cd.byteLength) throw new ZipError(`its directory is damaged at entry ${i + 1}`);
    const path = names.decode(new Uint8Array(cd.buffer, cd.byteOffset + at + 46, nameLength));
    // ZIP64 sizes and offset, in that order, for the fields the header left at 0xffffffff
    for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength; ) {
      const id = cd.getUint16(e, true);
      const len = cd.getUint16(e + 2, true);
      if (id === 0x0001) {
        let f = e + 4;
        const take = () => {
          if (f + 8 > e + 4 + len) throw new ZipError(`${path}: its ZIP64 sizes are cut short`);
          const v = u64(cd, f);
          f += 8;
          return v;
        };
        if (entrySize === U32) entrySize = take();
        if (compressedSize === U32) compressedSize = take();
        if (offset === U32) offset = take();
      }
      e += 4 + len;
    }
    at = next;
    if (path.endsWith('/')) continue; // a folder
    if (offset + 30 + nameLength + compressedSize > cdOffset) throw new ZipError(`${path}: its data runs into the archive's directory`);
    entries.push({ path, method, compressedSize, size: entrySize, offset, encrypted: (flags & 1) !== 0 });
  }
  // entries that share bytes are how some zip bombs multiply one payload: refuse any overlap
  const byOffset = [...entries].sort((x, y) => x.offset - y.offset);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1];
    if (prev.offset + 30 + prev.compressedSize > byOffset[i].offset) {
      throw new ZipError(`entries overlap inside the archive (${prev.path} and ${byOffset[i].path}): a malformed or malicious zip`);
    }
  }
  return entries;
}

/** Why an entry cannot be read before any byte of it is (null: it can be). */
export function entryRefusal(e: ZipEntry): string | null {
  if (e.encrypted) return 'encrypted inside the zip: re-zip it without a password';
  if (e.method !== 0 && e.method !== 8) return `compressed with zip method ${e.method}, which the browser cannot read: re-zip with the usual deflate (or none)`;
  if (e.size > MAX_ENTRY_BYTES) return `claims ${e.size} bytes inflated, over the ${MAX_ENTRY_BYTES / 1024 ** 2} MiB an entry may take`;
  if (e.method === 0 && e.size !== e.compressedSize) return 'a stored entry whose two sizes differ: the zip is damaged';
  if (e.method === 8 && e.size > Math.max(1024, e.compressedSize * MAX_DEFLATE_RATIO)) return 'claims more inflated bytes than deflate can produce from its size: the zip is damaged or malicious';
  return null;
}

/** An entry's bytes: a stored one is a slice of the archive (no copy), a deflated one inflates to exactly its declared size. */
export async function readZipEntry(blob: Blob, e: ZipEntry): Promise<Blob> {
  const refusal = entryRefusal(e);
  if (refusal) throw new ZipError(refusal);
  const local = await read(blob, e.offset, Math.min(blob.size, e.offset + 30));
  if (local.byteLength < 30 || local.getUint32(0, true) !== LOCAL) throw new ZipError('its local header is missing: the zip is damaged');
  const start = e.offset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
  const end = start + e.compressedSize;
  if (end > blob.size) throw new ZipError('its data runs past the end of the archive (cut short?)');
  if (e.method === 0) return blob.slice(start, end);
  const compressed = new Uint8Array(await blob.slice(start, end).arrayBuffer());
  const out = timed(() => inflateBounded(compressed, e.size));
  return new Blob([out]);
}

/** Inflates raw deflate data that must come to exactly `size` bytes; refuses it the moment it runs past. */
export function inflateBounded(compressed: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let written = 0;
  let ended = false;
  const inflate = new Inflate((chunk, final) => {
    if (written + chunk.length > size) throw new ZipError(`inflates past its declared ${size} bytes: a malformed or malicious zip`);
    out.set(chunk, written);
    written += chunk.length;
    if (final) ended = true;
  });
  try {
    for (let at = 0; at < compressed.length && !ended; at += INFLATE_CHUNK) {
      const end = Math.min(compressed.length, at + INFLATE_CHUNK);
      inflate.push(compressed.subarray(at, end), end === compressed.length);
    }
  } catch (err) {
    if (err instanceof ZipError) throw err;
    throw new ZipError(`its deflate data is damaged (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!ended || written !== size) throw new ZipError(`inflates to ${written} bytes, not the ${size} it declares: the zip is damaged`);
  return out;
}
