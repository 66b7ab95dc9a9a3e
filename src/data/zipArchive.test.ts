import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { inflateBounded, MAX_ENTRY_BYTES, readZipDirectory, readZipEntry, ZipError } from './zipArchive';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + ((i >> 5) & 3)) % 251);
const text = async (b: Blob) => new Uint8Array(await b.arrayBuffer());

/** Offsets of every central-directory header in a zip. */
const centralHeaders = (zip: Uint8Array) => {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const at: number[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) if (v.getUint32(i, true) === 0x02014b50) at.push(i);
  return { v, at };
};

const refusal = (p: Promise<unknown>) => p.then(() => '', (e: unknown) => (e instanceof ZipError ? e.message : `not a ZipError: ${String(e)}`));

describe('a zip read by random access', () => {
  it('lists its files from the directory (folders left out) and reads stored and deflated entries back exactly', async () => {
    const a = bytes(5000, 1);
    const b = new Uint8Array(20000).fill(7);
    const zip = zipSync({ 'horse2zebra/trainA/1.jpg': [a, { level: 0 }], 'horse2zebra/trainB/2.png': [b, { level: 9 }], 'horse2zebra/testA/': new Uint8Array(0) });
    const entries = await readZipDirectory(new Blob([zip]));
    expect(entries.map((e) => [e.path, e.method, e.size])).toEqual([
      ['horse2zebra/trainA/1.jpg', 0, 5000],
      ['horse2zebra/trainB/2.png', 8, 20000],
    ]);
    expect(await text(await readZipEntry(new Blob([zip]), entries[0]))).toEqual(a);
    expect(await text(await readZipEntry(new Blob([zip]), entries[1]))).toEqual(b);
  });
  it('reads a ZIP64 directory (over 65,535 entries or 4 GiB: the reference\'s largest datasets)', async () => {
    const plain = zipSync({ 'trainA/1.jpg': [bytes(300, 2), { level: 0 }], 'trainB/2.jpg': [bytes(400, 3), { level: 6 }] });
    const v = new DataView(plain.buffer);
    const eocd = plain.length - 22;
    const count = v.getUint16(eocd + 10, true);
    const cdSize = v.getUint32(eocd + 12, true);
    const cdOffset = v.getUint32(eocd + 16, true);
    // [entries][directory][ZIP64 end record][its locator][an end record whose fields say "see ZIP64"]
    const z64 = new DataView(new ArrayBuffer(56 + 20 + 22));
    z64.setUint32(0, 0x06064b50, true);
    z64.setBigUint64(4, 44n, true);
    z64.setBigUint64(24, BigInt(count), true);
    z64.setBigUint64(32, BigInt(count), true);
    z64.setBigUint64(40, BigInt(cdSize), true);
    z64.setBigUint64(48, BigInt(cdOffset), true);
    z64.setUint32(56, 0x07064b50, true);
    z64.setBigUint64(56 + 8, BigInt(eocd), true);
    z64.setUint32(56 + 16, 1, true);
    z64.setUint32(76, 0x06054b50, true);
    z64.setUint16(76 + 8, 0xffff, true);
    z64.setUint16(76 + 10, 0xffff, true);
    z64.setUint32(76 + 12, 0xffffffff, true);
    z64.setUint32(76 + 16, 0xffffffff, true);
    const zip = new Blob([plain.slice(0, eocd), new Uint8Array(z64.buffer)]);
    const entries = await readZipDirectory(zip);
    expect(entries.map((e) => e.path)).toEqual(['trainA/1.jpg', 'trainB/2.jpg']);
    expect(await text(await readZipEntry(zip, entries[1]))).toEqual(bytes(400, 3));
  });
  it('a bomb that declares 1 KiB but inflates to 64 MiB is cut off at once (within about 1 MiB of output)', async () => {
    const zip = zipSync({ 'trainA/bomb.png': [new Uint8Array(64 * 1024 ** 2), { level: 9 }] });
    const { v, at } = centralHeaders(zip);
    v.setUint32(at[0] + 24, 1024, true); // the declared (inflated) size
    const [entry] = await readZipDirectory(new Blob([zip]));
    const t0 = performance.now();
    expect(await refusal(readZipEntry(new Blob([zip]), entry))).toMatch(/inflates past its declared 1024 bytes/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
  it('an entry that inflates to less than it declares is damaged, not padded', () => {
    const zip = zipSync({ 'x.png': [bytes(3000, 4), { level: 6 }] });
    const { v, at } = centralHeaders(zip);
    const size = v.getUint32(at[0] + 20, true);
    const start = 30 + v.getUint16(at[0] + 28, true);
    expect(() => inflateBounded(zip.subarray(start, start + size), 4000)).toThrow(/inflates to 3000 bytes, not the 4000/);
  });
  it('entries that overlap inside the archive are refused before anything inflates', async () => {
    const zip = zipSync({ 'a.png': [bytes(2000, 5), { level: 0 }], 'b.png': [bytes(2000, 6), { level: 0 }] });
    const { v, at } = centralHeaders(zip);
    v.setUint32(at[1] + 42, v.getUint32(at[0] + 42, true), true); // b's local header offset := a's
    expect(await refusal(readZipDirectory(new Blob([zip])))).toMatch(/entries overlap inside the archive \(a\.png and b\.png\)/);
  });
  it('declared sizes past the ceiling, or past what deflate can make, are refused by name without reading', async () => {
    const zip = zipSync({ 'huge.png': [bytes(1000, 7), { level: 6 }] });
    const { v, at } = centralHeaders(zip);
    v.setUint32(at[0] + 24, 0xfffffff0, true);
    const [entry] = await readZipDirectory(new Blob([zip]));
    expect(entry.size).toBeGreaterThan(MAX_ENTRY_BYTES);
    expect(await refusal(readZipEntry(new Blob([zip]), entry))).toMatch(/claims 4294967280 bytes inflated, over the 1024 MiB/);
    v.setUint32(at[0] + 24, 600 * 1024 ** 2, true);
    const [again] = await readZipDirectory(new Blob([zip]));
    expect(await refusal(readZipEntry(new Blob([zip]), again))).toMatch(/more inflated bytes than deflate can produce/);
  });
  it('a cut-short archive, a directory past the end and an encrypted entry each say so', async () => {
    const zip = zipSync({ 'a.png': [bytes(500, 8), { level: 0 }] });
    expect(await refusal(readZipDirectory(new Blob([zip.slice(0, zip.length - 10)])))).toMatch(/no end-of-archive record/);
    const moved = zip.slice();
    new DataView(moved.buffer).setUint32(moved.length - 22 + 16, moved.length, true);
    expect(await refusal(readZipDirectory(new Blob([moved])))).toMatch(/directory points past the end/);
    const locked = zip.slice();
    const { v, at } = centralHeaders(locked);
    v.setUint16(at[0] + 8, 1, true);
    const [entry] = await readZipDirectory(new Blob([locked]));
    expect(await refusal(readZipEntry(new Blob([locked]), entry))).toMatch(/encrypted inside the zip/);
  });
});
