/**
 * `tf.mirrorPad`'s gradient as PyTorch's ReflectionPad2d has it. TF.js's own only slices the middle out of dy, so the
 * gradient that reaches a padded border (a mirrored copy of an inner row or column) is dropped: every ResNet
 * generator's reflection padding trained on a wrong gradient. Here each pad strip is folded back onto the rows or
 * columns it copied.
 */
import * as tf from '@tensorflow/tfjs';

/** Sums a padded axis of g back onto the unpadded one: `before` and `after` strips, mirrored, onto their sources. */
function foldAxis(g: tf.Tensor, axis: number, before: number, after: number, size: number, mode: 'reflect' | 'symmetric'): tf.Tensor {
  if (before === 0 && after === 0) return g;
  const at = (start: number, length: number) => {
    const begin = g.shape.map((_, i) => (i === axis ? start : 0));
    const shape = g.shape.map((d, i) => (i === axis ? length : d));
    return tf.slice(g, begin, shape);
  };
  // strip placed at [from, from + length) of the unpadded axis, zeros elsewhere
  const place = (strip: tf.Tensor, from: number) => {
    const pads = g.shape.map((_, i) => (i === axis ? [from, size - from - strip.shape[axis]] : [0, 0])) as [number, number][];
    return tf.pad(strip, pads);
  };
  // reflect: padded index -k copies k (k = 1..before) and size-1+k copies size-1-k; symmetric: -k copies k-1, and so on
  const shift = mode === 'reflect' ? 1 : 0;
  let out = at(before, size);
  if (before > 0) out = tf.add(out, place(tf.reverse(at(0, before), axis), shift));
  if (after > 0) out = tf.add(out, place(tf.reverse(at(before + size, after), axis), size - after - shift));
  return out;
}

tf.registerGradient({
  kernelName: 'MirrorPad',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { paddings, mode } = attrs as unknown as { paddings: [number, number][]; mode: 'reflect' | 'symmetric' };
    return {
      x: () => paddings.reduce((g, [before, after], axis) => foldAxis(g, axis, before, after, x.shape[axis], mode), dy as tf.Tensor),
    };
  },
});
