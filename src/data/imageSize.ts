/**
 * Reads an image's width and height from its first bytes (PNG, JPEG, GIF, BMP, WebP), so a huge photo
 * can be downscaled while it is decoded instead of after. Returns null when the header is not one of these.
 */
export function readImageSize(bytes: Uint8Array): { width: number; height: number; format: string } | null {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const has = (n: number) => bytes.length >= n;
  const ascii = (at: number, s: string) => has(at + s.length) && [...s].every((c, i) => bytes[at + i] === c.charCodeAt(0));
  if (has(24) && bytes[0] === 0x89 && ascii(1, 'PNG')) return { width: v.getUint32(16), height: v.getUint32(20), format: 'png' };
  if (ascii(0, 'GIF8') && has(10)) return { width: v.getUint16(6, true), height: v.getUint16(8, true), format: 'gif' };
  if (ascii(0, 'BM') && has(26)) return { width: Math.abs(v.getInt32(18, true)), height: Math.abs(v.getInt32(22, true)), format: 'bmp' };
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP') && has(30)) {
    if (ascii(12, 'VP8 ')) return { width: v.getUint16(26, true) & 0x3fff, height: v.getUint16(28, true) & 0x3fff, format: 'webp' };
    if (ascii(12, 'VP8L')) {
      const b = v.getUint32(21, true);
      return { width: (b & 0x3fff) + 1, height: ((b >> 14) & 0x3fff) + 1, format: 'webp' };
    }
    if (ascii(12, 'VP8X')) {
      const w = bytes[24] | (bytes[25] << 8) | (bytes[26] << 16);
      const h = bytes[27] | (bytes[28] << 8) | (bytes[29] << 16);
      return { width: w + 1, height: h + 1, format: 'webp' };
    }
  }
  if (has(4) && bytes[0] === 0xff && bytes[1] === 0xd8) {
    // Walk the JPEG markers to the first start-of-frame (SOF0..SOF15 except DHT, JPG, DAC).
    let at = 2;
    while (has(at + 9)) {
      if (bytes[at] !== 0xff) return null;
      const marker = bytes[at + 1];
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xff) {
        at += marker === 0xff ? 1 : 2;
        continue;
      }
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: v.getUint16(at + 7), height: v.getUint16(at + 5), format: 'jpeg' };
      }
      at += 2 + v.getUint16(at + 2);
    }
  }
  return null;
}
