/** A PyTorch state dict as plain data: the reference's checkpoints in and out, with no PyTorch anywhere. */

/** The dtypes `torch.save` writes for the storages we read (`torch.FloatStorage` is float32, and so on). */
export type TorchDtype = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** Bytes per element of each dtype. */
export const ELEMENT_SIZE: Record<TorchDtype, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** One tensor of a state dict: contiguous, row-major (PyTorch's NCHW / OIHW order), little-endian bytes. */
export interface TorchTensor {
  dtype: TorchDtype;
  shape: number[];
  bytes: Uint8Array;
}

/** A state dict: keys in the file's order. */
export type StateDict = Map<string, TorchTensor>;

/** Elements of a shape (1 for a scalar's `[]`). */
export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A float32 tensor from values (copied). */
export function float32Tensor(shape: number[], values: Float32Array): TorchTensor {
  if (values.length !== numel(shape)) throw new Error(`${values.length} values do not fill shape [${shape.join(', ')}]`);
  return { dtype: 'float32', shape, bytes: new Uint8Array(values.slice().buffer) };
}

/** An int64 scalar (BatchNorm's `num_batches_tracked`). */
export function int64Scalar(value: number): TorchTensor {
  return { dtype: 'int64', shape: [], bytes: new Uint8Array(new BigInt64Array([BigInt(value)]).buffer) };
}

/** The tensor's values as float32 (float64, float16 and bfloat16 converted; integers as numbers). */
export function float32Of(t: TorchTensor): Float32Array {
  const n = numel(t.shape);
  const view = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = readElement(view, t.dtype, i);
  return out;
}

/** Element i of a little-endian buffer of the dtype, as a number. */
function readElement(view: DataView, dtype: TorchDtype, i: number): number {
  switch (dtype) {
    case 'float32':
      return view.getFloat32(4 * i, true);
    case 'float64':
      return view.getFloat64(8 * i, true);
    case 'float16':
      return halfToFloat(view.getUint16(2 * i, true));
    case 'bfloat16':
      return new Float32Array(new Uint32Array([view.getUint16(2 * i, true) << 16]).buffer)[0];
    case 'int64':
      return Number(view.getBigInt64(8 * i, true));
    case 'int32':
      return view.getInt32(4 * i, true);
    case 'int16':
      return view.getInt16(2 * i, true);
    case 'int8':
      return view.getInt8(i);
    case 'uint8':
    case 'bool':
      return view.getUint8(i);
  }
}

/** IEEE half to a number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
