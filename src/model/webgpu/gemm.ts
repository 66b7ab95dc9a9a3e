/**
 * The tiled GEMM core of our convolutions (implicit GEMM: no im2col buffer). C[m, n] = Σ_k A[m, k] · B[k, n], where a
 * family of kernels (convGemm.ts) says in WGSL how to read A and B and where C goes; this file makes the loop: a
 * workgroup computes a BM × BN tile of C, staging BK-deep slices of A and B in workgroup memory, each invocation
 * holding TM × TN outputs in registers (vec4 along n) and reading the staged slices as vec4s.
 *
 * A family's WGSL declares `struct Cls` with `rows` (the rows of C in this class) and `len` (its reduction length),
 * `fn classOf(z: i32) -> Cls` (a convolution's input gradient splits its rows into stride-parity classes), and
 * `prepA(c, m) -> vec4<i32>` / `loadA(c, r, k) -> f32` (r: prepA's row values, computed once per row and k-slice
 * run), `prepB(c, n)` / `loadB(c, r, k)` the same for B, `loadA4` / `loadB4` (four values along the contiguous
 * side) where `vecA` / `vecB` ask, `outRow(c, m) -> i32` and `storeC(base, n, v)` for C.
 */

/** One tile configuration: the workgroup's tile of C, the depth of a staged slice, and each invocation's outputs. */
export interface Tile {
  bm: number;
  bn: number;
  bk: number;
  tm: number;
  tn: number;
}

/** The configurations a kernel may be tuned over; named for the tuning cache and the benchmark. */
export const TILES = {
  '64x64': { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 },
  '128x64': { bm: 128, bn: 64, bk: 8, tm: 8, tn: 4 },
  '128x128': { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 },
  '64x128': { bm: 64, bn: 128, bk: 16, tm: 4, tn: 8 },
  '32x32': { bm: 32, bn: 32, bk: 8, tm: 4, tn: 4 },
  '128x4': { bm: 128, bn: 4, bk: 8, tm: 4, tn: 4 },
  // few rows (U-Net's inner layers: 1 to 64 output pixels at batch 1), so a tile wastes little on rows past the end
  '16x64': { bm: 16, bn: 64, bk: 16, tm: 4, tn: 4 },
} satisfies Record<string, Tile>;

export type TileName = keyof typeof TILES;

/** Invocations a tile's workgroup has. */
export const threadsOf = (t: Tile): number => (t.bm / t.tm) * (t.bn / t.tn);

/** Words between two k-rows of a staged slice: padded when the tile is filled along k, to spread the banks. */
const strideOf = (side: number, alongK: boolean) => side + (alongK ? 4 : 0);

/** Bytes of workgroup memory a tile stages (the limit a device sets is 16 KiB at least). */
export function sharedBytesOf(t: Tile, aAlongK = true, bAlongK = true): number {
  return (strideOf(t.bm, aAlongK) + strideOf(t.bn, bAlongK)) * t.bk * 4;
}

/** What the GEMM loop needs to know of a family's kernel beyond its WGSL. */
export interface GemmShape {
  /** Rows of C (the largest class's, when there are several). */
  rows: number;
  /** Columns of C. */
  cols: number;
  /** Classes (grid z): 1, or a stride-2 input gradient's 4 parity classes. */
  classes: number;
  /** Reduction parts (split-K): each writes its partial C to scratch (z = class · splits + part); 1 writes C itself. */
  splits: number;
  /** Reduction indices a split covers (a multiple of the tile's bk); unused with one split. */
  chunk: number;
  /** Which way memory is contiguous for A (along its rows m or along k) and for B (along k or its columns n). */
  aAlong: 'm' | 'k';
  bAlong: 'k' | 'n';
  /**
   * Whether A is staged four values at a time along its contiguous side (the family's `loadA4`): four consecutive
   * channels of one tap, so the family's channel count must be a multiple of 4.
   */
  vecA?: boolean;
  /** The same for B (`loadB4`): four consecutive k of one column, or four consecutive columns of one k. */
  vecB?: boolean;
  /** Whether sums start at the family's `initC(n)` (a bias: added first, the order the reference-matched kernels had). */
  init?: boolean;
}

/** Workgroups along x: m-tiles beyond it are looped over by the same workgroups. */
const MAX_X = 32768;

/** The grid of a GEMM kernel: m-tiles (folded at MAX_X), n-tiles, classes × splits. */
export function gemmGrid(g: GemmShape, t: Tile): [number, number, number] {
  return [Math.min(MAX_X, Math.ceil(g.rows / t.bm)), Math.ceil(g.cols / t.bn), g.classes * g.splits];
}

/** Unrolled WGSL lines, one per index. */
const each = (n: number, line: (i: number) => string) => Array.from({ length: n }, (_, i) => line(i)).join('\n');

/**
 * The WGSL entry point of a GEMM over a family's declarations. With several splits, C goes to `scratch` as
 * [class][split][row][col] partial sums (the first split's starting at initC; a second kernel sums them) instead of
 * through `storeC`.
 */
export function gemmMain(g: GemmShape, t: Tile, scratch: string | null): string {
  const T = threadsOf(t);
  const { bm, bn, bk, tm, tn } = t;
  if (bm % tm || bn % tn || tm % 4 || tn % 4) throw new Error(`tile ${bm}x${bn}/${tm}x${tn}: invocation blocks must divide the tile in fours`);
  const SA = strideOf(bm, g.aAlong === 'k');
  const SB = strideOf(bn, g.bAlong === 'k');
  const V = tn / 4;
  /**
   * Stages this invocation's share of a BK-deep slice of A or B into workgroup memory, `w` values a load along the
   * contiguous side (4: the family's `load${which}4`, four k of one row or column, or four rows or columns of one k).
   * `prep` is the rows (columns) prepared once per workgroup tile when an invocation loads few, recomputed per slice
   * when it loads many; `fill` is the per-slice loop (a loop: small shaders compile fast).
   */
  const staging = (which: 'A' | 'B', side: number, stride: number, base: string, alongK: boolean, w: 1 | 4) => {
    const groups = (side * bk) / w;
    const loads = Math.ceil(groups / T);
    const hoist = loads <= 8;
    const whole = groups === loads * T;
    const times = (x: string) => (w === 1 ? x : `(${x}) * ${w}`);
    const slot = alongK ? [`e / ${bk / w}`, times(`e % ${bk / w}`)] : [times(`e % ${side / w}`), `e / ${side / w}`];
    const store =
      w === 1
        ? `        ${which}s[(kk * ${stride} + s) / 4][(kk * ${stride} + s) % 4] = v;`
        : alongK
          ? each(4, (q) => `        ${which}s[((kk + ${q}) * ${stride} + s) / 4][((kk + ${q}) * ${stride} + s) % 4] = v[${q}];`)
          : `        ${which}s[(kk * ${stride} + s) / 4] = v;`;
    const prep = `    var p${which}: array<vec4<i32>, ${loads}>;
    for (var j = 0; j < ${loads}; j++) {
      let e = l + j * ${T};
      p${which}[j] = prep${which}(c, ${base} + ${slot[0]});
    }`;
    const fill = `    for (var j = 0; j < ${loads}; j++) {
      let e = l + j * ${T};
      let s = ${slot[0]};
      let kk = ${slot[1]};
      let k = k0 + kk;
      var v = ${w === 1 ? '0.0' : 'vec4<f32>(0.0)'};
      if (${whole ? '' : `e < ${groups} && `}k < kEnd) { v = load${which}${w === 1 ? '' : '4'}(c, ${hoist ? `p${which}[j]` : `prep${which}(c, ${base} + s)`}, k); }
      ${whole ? '' : `if (e < ${groups}) `}{
${store}
      }
    }`;
    return { prep: hoist ? prep : '', fill };
  };
  const A = staging('A', bm, SA, 'm0', g.aAlong === 'k', g.vecA ? 4 : 1);
  const B = staging('B', bn, SB, 'n0', g.bAlong === 'k', g.vecB ? 4 : 1);
  return `var<workgroup> As: array<vec4<f32>, ${(SA * bk) / 4}>;
var<workgroup> Bs: array<vec4<f32>, ${(SB * bk) / 4}>;

@compute @workgroup_size(${T})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let l = i32(li);
  let z = i32(wg.z);
  let split = z % ${g.splits};
  let c = classOf(z / ${g.splits});
  let kBegin = ${g.splits > 1 ? `split * ${g.chunk}` : '0'};
  let kEnd = ${g.splits > 1 ? `min(c.len, kBegin + ${g.chunk})` : 'c.len'};
  let n0 = i32(wg.y) * ${bn};
  let tx = l % ${bn / tn};
  let ty = l / ${bn / tn};
  for (var m0 = i32(wg.x) * ${bm}; m0 < c.rows; m0 += i32(ng.x) * ${bm}) {
${A.prep}
${B.prep}
    var acc: array<vec4<f32>, ${tm * V}>;
${g.init ? `    for (var v = 0; v < ${V}${g.splits > 1 ? ' && split == 0' : ''}; v++) {
      let n = n0 + tx * ${tn} + 4 * v;
      let start = vec4<f32>(initC(n), initC(n + 1), initC(n + 2), initC(n + 3));
      for (var i = 0; i < ${tm}; i++) { acc[i * ${V} + v] = start; }
    }` : ''}
    for (var k0 = kBegin; k0 < kEnd; k0 += ${bk}) {
${A.fill}
${B.fill}
      workgroupBarrier();
      for (var kk = 0; kk < ${bk}; kk++) {
${each(tm / 4, (a) => `        let a${a} = As[(kk * ${SA} + ty * ${tm}) / 4 + ${a}];`)}
${each(V, (v) => `        let b${v} = Bs[(kk * ${SB} + tx * ${tn}) / 4 + ${v}];`)}
${each(tm, (i) => each(V, (v) => `        acc[${i * V + v}] = fma(vec4<f32>(a${Math.floor(i / 4)}[${i % 4}]), b${v}, acc[${i * V + v}]);`))}
      }
      workgroupBarrier();
    }
    for (var i = 0; i < ${tm}; i++) {
      let m = m0 + ty * ${tm} + i;
      if (m >= c.rows) { break; }
      let base = ${scratch ? `(z * ${g.rows} + m) * ${g.cols}` : 'outRow(c, m)'};
      for (var q = 0; q < ${tn}; q++) {
        let n = n0 + tx * ${tn} + q;
        if (n < ${g.cols}) { ${scratch ? `${scratch}[base + n] = acc[i * ${V} + q / 4][q % 4];` : `storeC(base, n, acc[i * ${V} + q / 4][q % 4]);`} }
      }
    }
  }
}`;
}
