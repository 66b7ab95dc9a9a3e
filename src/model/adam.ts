/**
 * Adam over many variables at once: small variables are taken in chunks of up to 7, and each chunk's gradients,
 * moments and weights are updated as one flat vector, so a step costs about 3 kernels per small variable where
 * TF.js's Adam runs 14; large ones are updated alone, in 12.
 * Same update as PyTorch's Adam (and TF.js's): w -= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps).
 * Saved state has TF.js Adam's layout (`iter`, then each variable's `/m`, then each `/v`), so checkpoints load either way.
 */
import * as tf from '@tensorflow/tfjs';

type NamedWeight = { name: string; tensor: tf.Tensor };

/**
 * Variables per flat vector. The GPU backends concatenate at most ~7 inputs in one program (one per storage buffer
 * binding) and split larger concats recursively, copying each element once per level.
 */
const CHUNK = 7;

/**
 * Variables this large are updated on their own, without concat or slice: on WebGPU (SwiftShader) a concat moves
 * about a tenth as many elements per second as a multiply, so copying big weights costs more than the launches
 * saved (one flat vector for all of pix2pix's weights made its step 20% slower than TF.js's Adam).
 */
const OWN_CHUNK_SIZE = 4096;

/** A chunk of variables and its flat moments. */
export interface Chunk {
  variables: tf.Variable[];
  m: tf.Variable;
  v: tf.Variable;
}

/**
 * FlatAdam's chunks for variables of these sizes, in order, as each chunk's variable indices: consecutive small
 * variables share a chunk (the saved state's order is the chunks' order), large ones have one each.
 */
export function adamChunks(sizes: readonly number[]): number[][] {
  const groups: number[][] = [];
  sizes.forEach((n, i) => {
    const last = groups.at(-1);
    if (n < OWN_CHUNK_SIZE && last && last.length < CHUNK && sizes[last[0]] < OWN_CHUNK_SIZE) last.push(i);
    else groups.push([i]);
  });
  return groups;
}

export class FlatAdam extends tf.Optimizer {
  private readonly chunks: Chunk[] = [];
  private t = 0;

  constructor(
    /** The variables this optimizer updates, in a fixed order (the saved state's order). */
    readonly variables: readonly tf.Variable[],
    public learningRate: number,
    readonly beta1: number,
    readonly beta2: number,
    readonly epsilon: number,
  ) {
    super();
    for (const vs of adamChunks(variables.map((x) => x.size)).map((ix) => ix.map((i) => variables[i]))) {
      const size = vs.reduce((n, x) => n + x.size, 0);
      // tidy frees the zeros that the variables copied
      const zeros = () => tf.tidy(() => tf.variable(tf.zeros([size]), false));
      this.chunks.push({ variables: vs, m: zeros(), v: zeros() });
    }
  }

  static get className(): string {
    return 'FlatAdam';
  }

  /** One Adam step on every variable; each needs a gradient (the trainers differentiate with respect to all of them). */
  override applyGradients(gradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const byName: tf.NamedTensorMap = Array.isArray(gradients) ? Object.fromEntries(gradients.map((g) => [g.name, g.tensor])) : gradients;
    const missing = this.variables.find((x) => !byName[x.name]);
    if (missing) throw new Error(`no gradient for ${missing.name}`);
    const [stepSize, epsHat] = this.advance();
    for (const c of this.chunks) {
      tf.tidy(() => {
        const flat = (ts: tf.Tensor[]) => (ts.length === 1 ? tf.reshape(ts[0], [-1]) : tf.concat(ts.map((x) => tf.reshape(x, [-1]))));
        const g = flat(c.variables.map((x) => byName[x.name]));
        const m = tf.add(tf.mul(c.m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(c.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        c.m.assign(m);
        c.v.assign(v);
        const updated = tf.sub(flat(c.variables), tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsHat)), stepSize));
        if (c.variables.length === 1) {
          c.variables[0].assign(tf.reshape(updated, c.variables[0].shape));
          return;
        }
        let offset = 0;
        for (const x of c.variables) {
          x.assign(tf.reshape(tf.slice(updated, offset, x.size), x.shape));
          offset += x.size;
        }
      });
    }
  }

  /**
   * Counts one step and returns its two scalars [lr·√bc2/bc1, ε·√bc2] (float64 here, so both engines step by the same
   * float32 numbers): lr/bc1 · m / (√v/√bc2 + ε) with √bc2 moved into them. The compiled step calls it directly.
   */
  advance(): [number, number] {
    this.t++;
    this.incrementIterations();
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    return [(this.learningRate * Math.sqrt(bc2)) / bc1, this.epsilon * Math.sqrt(bc2)];
  }

  /** Sets the steps counted: takes back `advance`s of a compiled step whose commands the GPU refused (nothing was updated). */
  setIterations(t: number): void {
    this.t = t;
    this.iterations_ = t;
  }

  /** The flat moments and the variables they cover, chunk by chunk (the compiled step updates them in place). */
  get state(): readonly Readonly<Chunk>[] {
    return this.chunks;
  }

  override async getWeights(): Promise<NamedWeight[]> {
    const split = (suffix: 'm' | 'v') =>
      this.chunks.flatMap((c) => {
        let offset = 0;
        return c.variables.map((x) => {
          const tensor = tf.reshape(tf.slice(c[suffix], offset, x.size), x.shape);
          offset += x.size;
          return { name: `${x.name}/${suffix}`, tensor };
        });
      });
    return [await this.saveIterations(), ...split('m'), ...split('v')];
  }

  override async setWeights(weights: NamedWeight[]): Promise<void> {
    const rest = await this.extractIterations(weights);
    this.t = this.iterations;
    const n = this.variables.length;
    if (rest.length !== 2 * n) throw new Error(`Adam state has ${rest.length / 2} variables; this network has ${n}`);
    rest.forEach((w, i) => {
      const x = this.variables[i % n];
      if (w.tensor.size !== x.size) throw new Error(`Adam state for ${w.name} has ${w.tensor.size} values; the variable has ${x.size}`);
    });
    let first = 0;
    for (const c of this.chunks) {
      const flat = (from: number) => tf.tidy(() => tf.concat(rest.slice(from, from + c.variables.length).map((w) => tf.reshape(w.tensor, [-1]))));
      const m = flat(first);
      const v = flat(n + first);
      c.m.assign(m);
      c.v.assign(v);
      tf.dispose([m, v]);
      first += c.variables.length;
    }
  }

  override dispose(): void {
    for (const c of this.chunks) tf.dispose([c.m, c.v]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}
