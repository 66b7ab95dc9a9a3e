/**
 * Our generators as ONNX models that behave like the reference's PyTorch networks: input `real` [N, C, H, W],
 * output `fake` [N, C, H, W], N, H and W dynamic. Opset 17, IR version 8, encoded with `onnx-proto`.
 * The TF.js Layers graph (NHWC) is walked layer by layer and rewritten in NCHW, weights in PyTorch's layouts.
 */
import type * as tf from '@tensorflow/tfjs';
// onnx-proto is CommonJS whose `module.exports` holds `onnx`: Node's ESM gives it only as the default export.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Node = import('onnx-proto').onnx.INodeProto;
type Attribute = import('onnx-proto').onnx.IAttributeProto;
type Tensor = import('onnx-proto').onnx.ITensorProto;

/** How batch norm layers are exported. */
export type BatchNormExport =
  /** Running statistics (PyTorch's `eval()`): ONNX BatchNormalization. */
  | 'running-statistics'
  /** The translated batch's statistics over N, H, W, as the studio and the reference translate pix2pix (dropout off). */
  | 'batch-statistics';

/** Options of `generatorToOnnx`. */
export interface OnnxExportOptions {
  /** The graph's name (the run's or network's name). */
  name: string;
  /** `producer_name` in the file; GAN Studio by default. */
  producer?: string;
  /** Batch norm in inference form (running statistics, the default) or with the batch's own statistics. */
  batchNorm?: BatchNormExport;
}

/** The ONNX opset the files use (default domain). */
export const ONNX_OPSET = 17;
/** The ONNX IR version the files declare. */
export const ONNX_IR_VERSION = 8;

/** Layer classes the exporter knows, for the message that refuses any other. */
const KNOWN = [
  'InputLayer', 'Conv2D', 'Conv2DTranspose', 'ZeroPadding2D', 'ReflectionPadding2D', 'CropTopLeft',
  'InstanceNormalization', 'BatchNormalization', 'ReLU', 'LeakyReLU', 'Activation', 'Add', 'Concatenate', 'StepDropout',
];

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const A = onnx.AttributeProto.AttributeType;

const int = (name: string, i: number): Attribute => ({ name, type: A.INT, i });
const ints = (name: string, values: number[]): Attribute => ({ name, type: A.INTS, ints: values });
const float = (name: string, f: number): Attribute => ({ name, type: A.FLOAT, f });
const str = (name: string, s: string): Attribute => ({ name, type: A.STRING, s: new TextEncoder().encode(s) });

// Every JS engine we run on is little-endian, so typed arrays' bytes are ONNX's raw_data as they are.
const floatTensor = (name: string, dims: number[], values: Float32Array): Tensor =>
  ({ name, dims, dataType: FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
const int64Tensor = (name: string, values: (number | bigint)[]): Tensor => {
  const data = new BigInt64Array(values.map((v) => BigInt(v)));
  return { name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer) };
};

/** Largest int64: Slice's "to the end". */
const INT64_MAX = 9223372036854775807n;

/**
 * TF's [kh, kw, a, b] kernel as ONNX's [b, a, kh, kw]: Conv's OIHW from TF's [kh, kw, in, out], ConvTranspose's
 * [in, out, kh, kw] from TF's [kh, kw, out, in]. No spatial flip: both frameworks' transposed conv is conv's adjoint.
 */
function kernelToOnnx(values: Float32Array, [kh, kw, a, b]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < a; i++)
        for (let o = 0; o < b; o++) out[((o * a + i) * kh + y) * kw + x] = values[((y * kw + x) * a + i) * b + o];
  return out;
}

/** TF's `same` padding split [begin, end] for a side divisible by the stride, as PyTorch's explicit padding. */
function samePads(kernel: number, stride: number): [number, number] {
  const total = Math.max(kernel - stride, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** A layer's config value, typed loosely: TF.js's config types are unions of everything. */
type Config = Record<string, unknown>;
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v as number, v as number]);

/** Collects the graph as layers are visited. */
class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  /** Layer name → the ONNX tensor holding its output (layers that export to nothing alias their input). */
  readonly tensorOf = new Map<string, string>();

  node(opType: string, inputs: string[], output: string, attribute: Attribute[] = []): string {
    this.nodes.push({ opType, input: inputs, output: [output], name: output, attribute });
    return output;
  }
  weight(name: string, dims: number[], values: Float32Array): string {
    this.initializers.push(floatTensor(name, dims, values));
    return name;
  }
  ints(name: string, values: (number | bigint)[]): string {
    this.initializers.push(int64Tensor(name, values));
    return name;
  }
}

/** The weights of a layer by their short name (`kernel`, `bias`, `gamma`, `moving_mean`…), values and shape. */
function weightsOf(layer: tf.layers.Layer): Map<string, { values: Float32Array; shape: number[] }> {
  const out = new Map<string, { values: Float32Array; shape: number[] }>();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => {
    const short = w.originalName.split('/').pop()!;
    out.set(short, { values: values[i].dataSync() as Float32Array, shape: values[i].shape });
  });
  return out;
}

/** Appends a fused activation of a conv layer (our convs have none; `linear` adds nothing). */
function activation(g: GraphBuilder, layer: tf.layers.Layer, x: string, kind: unknown, out: string): string {
  switch (kind ?? 'linear') {
    case 'linear':
      return x === out ? x : g.node('Identity', [x], out);
    case 'relu':
      return g.node('Relu', [x], out);
    case 'tanh':
      return g.node('Tanh', [x], out);
    case 'sigmoid':
      return g.node('Sigmoid', [x], out);
    default:
      throw refusal(layer, `activation "${String(kind)}" is not supported (relu, tanh, sigmoid, linear are)`);
  }
}

/** Emits the nodes of one layer; returns its output tensor's name. */
function emitLayer(g: GraphBuilder, layer: tf.layers.Layer, inputs: string[], o: OnnxExportOptions): string {
  const cls = layer.getClassName();
  const c = layer.getConfig() as Config;
  const name = layer.name;
  const x = inputs[0];
  const refuse = (why: string) => refusal(layer, why);
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') throw refuse('only channelsLast layers export');
  switch (cls) {
    case 'Conv2D':
    case 'Conv2DTranspose': {
      const w = weightsOf(layer);
      const kernel = w.get('kernel')!;
      const [kh, kw] = kernel.shape;
      const [sh, sw] = pair(c.strides);
      if (pair(c.dilationRate ?? 1).some((d) => d !== 1)) throw refuse('dilated convolutions are not supported');
      const transposed = cls === 'Conv2DTranspose';
      const dims = [kernel.shape[3], kernel.shape[2], kh, kw];
      const wName = g.weight(`${name}.weight`, dims, kernelToOnnx(kernel.values, kernel.shape));
      const bias = w.get('bias');
      const ins = bias ? [x, wName, g.weight(`${name}.bias`, [bias.shape[0]], bias.values)] : [x, wName];
      const [ht, hb] = c.padding === 'same' ? samePads(kh, sh) : [0, 0];
      const [wl, wr] = c.padding === 'same' ? samePads(kw, sw) : [0, 0];
      const attrs = [ints('kernel_shape', [kh, kw]), ints('strides', [sh, sw]), ints('pads', [ht, wl, hb, wr])];
      // TF's `valid` transposed conv is (in − 1)·s + max(k, s) long: output_padding covers a kernel under its stride
      if (transposed && c.padding !== 'same') {
        attrs.push(ints('output_padding', [Math.max(sh - kh, 0), Math.max(sw - kw, 0)]));
      }
      const linear = (c.activation ?? 'linear') === 'linear';
      const y = g.node(transposed ? 'ConvTranspose' : 'Conv', ins, linear ? name : `${name}.pre`, attrs);
      return activation(g, layer, y, c.activation, name);
    }
    case 'ZeroPadding2D': {
      const [[t, b], [l, r]] = c.padding as [[number, number], [number, number]];
      return g.node('Pad', [x, g.ints(`${name}.pads`, [0, 0, t, l, 0, 0, b, r])], name, [str('mode', 'constant')]);
    }
    case 'ReflectionPadding2D': {
      const p = c.padding as number;
      return g.node('Pad', [x, g.ints(`${name}.pads`, [0, 0, p, p, 0, 0, p, p])], name, [str('mode', 'reflect')]);
    }
    case 'CropTopLeft': {
      const crop = c.crop as number;
      const keepEnd = (c.keepEnd as number | undefined) ?? 0;
      const end = keepEnd === 0 ? INT64_MAX : BigInt(-keepEnd);
      const starts = g.ints(`${name}.starts`, [crop, crop]);
      return g.node('Slice', [x, starts, g.ints(`${name}.ends`, [end, end]), g.ints(`${name}.axes`, [2, 3])], name);
    }
    case 'InstanceNormalization': {
      const ch = channels(layer);
      // ONNX's InstanceNormalization requires scale and B: the reference's has no affine, so 1 and 0.
      const scale = g.weight(`${name}.scale`, [ch], new Float32Array(ch).fill(1));
      const ins = [x, scale, g.weight(`${name}.B`, [ch], new Float32Array(ch))];
      return g.node('InstanceNormalization', ins, name, [float('epsilon', c.epsilon as number)]);
    }
    case 'BatchNormalization':
      return batchNorm(g, layer, x, o.batchNorm ?? 'running-statistics');
    case 'ReLU':
      if (c.maxValue !== null && c.maxValue !== undefined) throw refuse('a capped ReLU is not supported');
      return g.node('Relu', [x], name);
    case 'LeakyReLU':
      return g.node('LeakyRelu', [x], name, [float('alpha', c.alpha as number)]);
    case 'Activation':
      return activation(g, layer, x, c.activation, name);
    case 'Add':
      // ONNX's Add takes two inputs: more are chained
      return inputs
        .slice(1)
        .reduce((acc, y, i) => g.node('Add', [acc, y], i === inputs.length - 2 ? name : `${name}.${i}`), x);
    case 'Concatenate': {
      const axis = c.axis as number;
      if (axis !== -1 && axis !== 3) throw refuse(`only the channel axis can be concatenated, not axis ${axis}`);
      return g.node('Concat', inputs, name, [int('axis', 1)]);
    }
    case 'StepDropout':
      // dropout is off at inference: the layer is the identity
      return x;
    default:
      throw refuse(`GAN Studio exports only ${KNOWN.join(', ')}`);
  }
}

/** The error for a layer the exporter cannot write: names the layer, its class and why. */
const refusal = (layer: tf.layers.Layer, why: string) =>
  new Error(`cannot export layer "${layer.name}" (${layer.getClassName()}) to ONNX: ${why}`);

/** The channel count of a layer's (NHWC) output. */
function channels(layer: tf.layers.Layer): number {
  const shape = layer.outputShape as number[];
  return shape[shape.length - 1];
}

/** Batch norm: ONNX BatchNormalization on the running statistics, or the batch's mean and variance over N, H, W. */
function batchNorm(g: GraphBuilder, layer: tf.layers.Layer, x: string, mode: BatchNormExport): string {
  const c = layer.getConfig() as Config;
  const name = layer.name;
  if (c.axis !== -1 && c.axis !== 3) throw refusal(layer, `it normalises axis ${String(c.axis)}, not channels`);
  const ch = channels(layer);
  const w = weightsOf(layer);
  const gamma = w.get('gamma')?.values ?? new Float32Array(ch).fill(1);
  const beta = w.get('beta')?.values ?? new Float32Array(ch);
  const eps = c.epsilon as number;
  if (mode === 'running-statistics') {
    const ins = [
      x,
      g.weight(`${name}.weight`, [ch], gamma),
      g.weight(`${name}.bias`, [ch], beta),
      g.weight(`${name}.running_mean`, [ch], w.get('moving_mean')!.values),
      g.weight(`${name}.running_var`, [ch], w.get('moving_variance')!.values),
    ];
    return g.node('BatchNormalization', ins, name, [float('epsilon', eps)]);
  }
  // (x − mean) / sqrt(var + eps) · gamma + beta, mean and biased variance over N, H, W, as in training mode
  const axes = [ints('axes', [0, 2, 3]), int('keepdims', 1)];
  const mean = g.node('ReduceMean', [x], `${name}.mean`, axes);
  const centred = g.node('Sub', [x, mean], `${name}.centred`);
  const sq = g.node('Mul', [centred, centred], `${name}.sq`);
  const variance = g.node('ReduceMean', [sq], `${name}.var`, axes);
  const varEps = g.node('Add', [variance, g.weight(`${name}.eps`, [], new Float32Array([eps]))], `${name}.var_eps`);
  const std = g.node('Sqrt', [varEps], `${name}.std`);
  const normed = g.node('Div', [centred, std], `${name}.normed`);
  const scaled = g.node('Mul', [normed, g.weight(`${name}.weight`, [1, ch, 1, 1], gamma)], `${name}.scaled`);
  return g.node('Add', [scaled, g.weight(`${name}.bias`, [1, ch, 1, 1], beta)], name);
}

/**
 * Exports a generator (a single-input, single-output NHWC Layers model) as an ONNX model: input `real`
 * [batch, C, height, width], output `fake` [batch, C', height, width]. Throws naming any layer it cannot express.
 */
export function generatorToOnnx(model: tf.LayersModel, opts: OnnxExportOptions): Uint8Array {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    const has = `${model.inputs.length} and ${model.outputs.length}`;
    throw new Error(`cannot export "${model.name}" to ONNX: a generator has one input and one output, it has ${has}`);
  }
  const g = new GraphBuilder();
  const inputLayer = model.inputLayers[0];
  const outputLayer = model.outputLayers[0];
  g.tensorOf.set(inputLayer.name, 'real');
  // model.layers is in topological order: every layer's inputs are emitted before it
  for (const layer of model.layers) {
    if (layer === inputLayer) continue;
    if (layer.inboundNodes.length !== 1) {
      throw refusal(layer, `it is applied ${layer.inboundNodes.length} times; shared layers are not supported`);
    }
    const inputs = layer.inboundNodes[0].inboundLayers.map((l) => g.tensorOf.get(l.name)!);
    g.tensorOf.set(layer.name, emitLayer(g, layer, inputs, opts));
  }
  const last = g.tensorOf.get(outputLayer.name)!;
  const producer = g.nodes.find((n) => n.output![0] === last);
  const consumed = g.nodes.some((n) => n.input!.includes(last));
  // the last node writes `fake` itself unless another node reads its output too, or there is none (the input)
  if (producer && !consumed) producer.output = ['fake'];
  else g.node('Identity', [last], 'fake');

  // each stride-2 conv halves the sides on the way down, so sides must divide by all of them
  const multiple = model.layers
    .filter((l) => l.getClassName() === 'Conv2D')
    .reduce((m, l) => m * pair((l.getConfig() as Config).strides)[0], 1);
  const inC = channels(inputLayer);
  const outC = channels(outputLayer);
  const dims = (ch: number) => [{ dimParam: 'batch' }, { dimValue: ch }, { dimParam: 'height' }, { dimParam: 'width' }];
  const io = (name: string, ch: number, docString: string) => ({
    name,
    docString,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims(ch) } } },
  });
  const realDoc = `images in [-1, 1], NCHW; height and width multiples of ${multiple}`;
  const proto = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: opts.producer ?? 'GAN Studio',
    docString: `${opts.name}: a pix2pix/CycleGAN generator; real: ${realDoc}; fake: images in [-1, 1], NCHW.`,
    graph: {
      name: opts.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [io('real', inC, realDoc)],
      output: [io('fake', outC, 'images in [-1, 1], NCHW, the size of real')],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}
