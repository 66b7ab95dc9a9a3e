/** The preview grid: the fixed preview images and their current translations, as the reference's visuals name them. */
import * as tf from '@tensorflow/tfjs';
import type { Trainer } from '../model';
import type { LoadedDataset } from './datasetLoader';
import { centredPlan, ImageStore } from './imageStore';
import type { Part } from './imageStore';
import { pictures } from './pictures';
import type { PreviewRow, RunConfig } from './protocol';

/** Rows of input, output (and target or reconstruction) for each preview image. */
export async function previewRows(t: Trainer, d: LoadedDataset, config: RunConfig): Promise<PreviewRow[]> {
  const crop = config.data.preprocess.includes('crop') ? config.data.crop_size : null;
  const rows: PreviewRow[] = [];
  const cut = (store: ImageStore, i: number, part: Part) => {
    const { width, height } = store.partSize(i, part);
    return tf.expandDims(store.cut(i, part, centredPlan(width, height, crop))) as tf.Tensor4D;
  };
  const previewA = new ImageStore(d.previewA);
  const previewB = d.previewB.length ? new ImageStore(d.previewB) : null;
  for (let i = 0; i < previewA.length; i++) {
    if (t.config.model === 'pix2pix') {
      const swap = config.data.direction === 'BtoA';
      const left = d.aligned ? cut(previewA, i, 'left') : cut(previewA, i, 'whole');
      const right = d.aligned ? cut(previewA, i, 'right') : previewB ? cut(previewB, i % previewB.length, 'whole') : left.clone();
      const [input, target] = swap ? [right, left] : [left, right];
      const output = t.translate(input, 'AtoB');
      rows.push({ direction: 'AtoB', labels: ['input', 'output', 'target'], pictures: await pictures([input, output, target]) });
      tf.dispose([left, right, output]);
    } else {
      const realA = cut(previewA, i, 'whole');
      const fakeB = t.translate(realA, 'AtoB', { eval: true });
      const recA = t.translate(fakeB, 'BtoA', { eval: true });
      rows.push({ direction: 'AtoB', labels: ['real_A', 'fake_B', 'rec_A'], pictures: await pictures([realA, fakeB, recA]) });
      tf.dispose([realA, fakeB, recA]);
    }
  }
  if (previewB && t.config.model === 'cycle_gan') {
    for (let i = 0; i < previewB.length; i++) {
      const realB = cut(previewB, i, 'whole');
      const fakeA = t.translate(realB, 'BtoA', { eval: true });
      const recB = t.translate(fakeA, 'AtoB', { eval: true });
      rows.push({ direction: 'BtoA', labels: ['real_B', 'fake_A', 'rec_B'], pictures: await pictures([realB, fakeA, recB]) });
      tf.dispose([realB, fakeA, recB]);
    }
  }
  return rows;
}
