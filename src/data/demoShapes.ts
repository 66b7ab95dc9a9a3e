/**
 * Synthetic images for demos and tests, generated in code (no downloads): flat shapes on a background.
 * Pixels are NHWC float32 in [-1, 1], the engine's input range.
 */

/** A deterministic random source (mulberry32), so a seed always draws the same images. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An RGB colour in [-1, 1]. */
export type Rgb = [number, number, number];

/** A colour mapping applied pixel by pixel. */
export type ColourMap = (rgb: Rgb) => Rgb;

/** The demo's A → B mapping: rotate the channels (R, G, B) → (B, R, G), a recolouring no single brightness change can fake. */
export const rotateChannels: ColourMap = ([r, g, b]) => [b, r, g];

/** Per-channel [low, high] ranges the shapes' colours are drawn from. */
export type Palette = [[number, number], [number, number], [number, number]];

/** Any colour. */
export const ANY_COLOUR: Palette = [[-1, 1], [-1, 1], [-1, 1]];
/** Warm colours (much red, little blue): after `rotateChannels` they become greens, so the two domains differ. */
export const WARM: Palette = [[0.2, 1], [-1, 1], [-1, -0.2]];

/** Draws `count` images of `side`×`side` with one to three discs and boxes each, into one flat NHWC array. */
export function drawShapes(count: number, side: number, seed: number, palette: Palette = ANY_COLOUR): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(count * side * side * 3);
  const colour = (): Rgb => palette.map(([lo, hi]) => lo + rand() * (hi - lo)) as Rgb;
  for (let n = 0; n < count; n++) {
    const background: Rgb = [-0.8 + rand() * 0.3, -0.8 + rand() * 0.3, -0.8 + rand() * 0.3];
    const shapes = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => ({
      disc: rand() < 0.5,
      cx: rand() * side,
      cy: rand() * side,
      r: side * (0.12 + rand() * 0.2),
      colour: colour(),
    }));
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        let c = background;
        for (const s of shapes) {
          const inside = s.disc
            ? (x + 0.5 - s.cx) ** 2 + (y + 0.5 - s.cy) ** 2 <= s.r ** 2
            : Math.abs(x + 0.5 - s.cx) <= s.r && Math.abs(y + 0.5 - s.cy) <= s.r * 0.7;
          if (inside) c = s.colour;
        }
        out.set(c, ((n * side + y) * side + x) * 3);
      }
    }
  }
  return out;
}

/** Applies a colour mapping to every pixel of a flat RGB array (returns a new array). */
export function mapColours(pixels: Float32Array, map: ColourMap): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i += 3) out.set(map([pixels[i], pixels[i + 1], pixels[i + 2]]), i);
  return out;
}
