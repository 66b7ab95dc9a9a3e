/**
 * A faster CPU `Conv2DBackpropFilter`. The stock CPU kernel reads every element through
 * `TensorBuffer.get`, which made the filter gradient ~95% of a training step on the CPU fallback;
 * this one walks flat arrays with output channels innermost. Same sums, accumulated in float64.
 */
import * as tf from '@tensorflow/tfjs';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type CpuBackend = {
  data: { get(id: tf.DataId): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
};
interface FilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

const stock = tf.getKernel('Conv2DBackpropFilter', 'cpu');

/** dW[r, c, i, o] = Σ over batch and output positions of x[b, y·s + r − pad, x·s + c − pad, i] · dy[b, y, x, o]. */
export function conv2DBackpropFilterCpu(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as FilterAttrs;
  if (attrs.dataFormat === 'NCHW' && stock) return stock.kernelFunc(args) as tf.TensorInfo;
  const backend = args.backend as unknown as CpuBackend;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: ci, outHeight, outWidth, outChannels: co } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const xv = backend.data.get(x.dataId).values;
  const dyv = backend.data.get(dy.dataId).values;
  const dW = new Float64Array(fh * fw * ci * co);
  for (let b = 0; b < batchSize; b++) {
    for (let yR = 0; yR < outHeight; yR++) {
      for (let yC = 0; yC < outWidth; yC++) {
        const dyOff = ((b * outHeight + yR) * outWidth + yC) * co;
        for (let wR = 0; wR < fh; wR++) {
          const xR = yR * sh + wR - top;
          if (xR < 0 || xR >= inHeight) continue;
          for (let wC = 0; wC < fw; wC++) {
            const xC = yC * sw + wC - left;
            if (xC < 0 || xC >= inWidth) continue;
            const xOff = ((b * inHeight + xR) * inWidth + xC) * ci;
            const wOff = (wR * fw + wC) * ci * co;
            for (let d1 = 0; d1 < ci; d1++) {
              const xval = xv[xOff + d1];
              if (xval === 0) continue;
              const base = wOff + d1 * co;
              for (let d2 = 0; d2 < co; d2++) dW[base + d2] += xval * dyv[dyOff + d2];
            }
          }
        }
      }
    }
  }
  return backend.makeTensorInfo(info.filterShape, 'float32', Float32Array.from(dW));
}

/** The stock kernel, kept for tests that compare against it. */
export const stockConv2DBackpropFilterCpu = stock?.kernelFunc ?? null;

if (stock) {
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'cpu', kernelFunc: conv2DBackpropFilterCpu as tf.KernelFunc });
}
