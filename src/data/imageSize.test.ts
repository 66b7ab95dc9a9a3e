import { describe, expect, it } from 'vitest';
import { readImageSize } from './imageSize';

const bytes = (...parts: (number[] | string)[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
const u32be = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const u16le = (n: number) => [n & 255, (n >>> 8) & 255];
const u32le = (n: number) => [...u16le(n & 0xffff), ...u16le(n >>> 16)];

describe('image size from the header', () => {
  it('PNG', () => {
    expect(readImageSize(bytes([0x89], 'PNG\r\n\x1a\n', u32be(13), 'IHDR', u32be(20000), u32be(15000)))).toEqual({ width: 20000, height: 15000, format: 'png' });
  });
  it('JPEG, skipping APP segments to the SOF', () => {
    const app0 = [0xff, 0xe0, 0, 16, ...new Array(14).fill(0)];
    const sof = [0xff, 0xc2, 0, 17, 8, ...[0x3a, 0x98], ...[0x4e, 0x20], 3, ...new Array(9).fill(0)];
    expect(readImageSize(bytes([0xff, 0xd8], app0, sof))).toEqual({ width: 20000, height: 15000, format: 'jpeg' });
  });
  it('GIF, BMP and WebP', () => {
    expect(readImageSize(bytes('GIF89a', u16le(640), u16le(480)))).toMatchObject({ width: 640, height: 480 });
    expect(readImageSize(bytes('BM', new Array(16).fill(0), u32le(300), u32le(-200 >>> 0)))).toMatchObject({ width: 300, height: 200 });
    expect(readImageSize(bytes('RIFF', u32le(0), 'WEBPVP8X', u32le(10), [0, 0, 0, 0], [0xff, 0x0f, 0], [0x9f, 0x0f, 0]))).toMatchObject({ width: 4096, height: 4000 });
  });
  it('anything else is unknown', () => {
    expect(readImageSize(bytes('hello world, not an image at all'))).toBeNull();
    expect(readImageSize(new Uint8Array(0))).toBeNull();
  });
});
