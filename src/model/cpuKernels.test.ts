import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { conv2DBackpropFilterCpu, stockConv2DBackpropFilterCpu } from './cpuKernels';
import './index';

describe('CPU Conv2DBackpropFilter', () => {
  const cases = [
    { x: [2, 9, 11, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'valid' as const },
    { x: [1, 8, 8, 4], filter: [4, 4, 4, 2], strides: 2, pad: 'same' as const },
    { x: [2, 7, 6, 2], filter: [7, 7, 2, 3], strides: 1, pad: 'same' as const },
    { x: [1, 10, 10, 6], filter: [4, 4, 6, 1], strides: 1, pad: 'valid' as const },
  ];
  for (const c of cases) {
    it(`equals the stock kernel for x ${c.x.join('×')}, filter ${c.filter.join('×')}, stride ${c.strides}, ${c.pad}`, () => {
      const x = tf.randomNormal(c.x as [number, number, number, number], 0, 1, 'float32', 3) as tf.Tensor4D;
      const y = tf.conv2d(x, tf.zeros(c.filter as [number, number, number, number]) as tf.Tensor4D, c.strides, c.pad);
      const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 4);
      const args = {
        inputs: { x, dy },
        backend: tf.backend(),
        attrs: { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter },
      } as unknown as Parameters<tf.KernelFunc>[0];
      const mine = conv2DBackpropFilterCpu(args);
      const theirs = stockConv2DBackpropFilterCpu!(args) as tf.TensorInfo;
      const a = (tf.backend() as unknown as { readSync(id: unknown): Float32Array }).readSync(mine.dataId);
      const b = (tf.backend() as unknown as { readSync(id: unknown): Float32Array }).readSync(theirs.dataId);
      expect(mine.shape).toEqual(c.filter);
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 4);
      tf.dispose([x, y, dy]);
    });
  }
  it('is the kernel TF.js uses for gradients on the CPU backend', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')?.kernelFunc).toBe(conv2DBackpropFilterCpu);
  });
});
