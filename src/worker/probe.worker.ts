/// <reference lib="webworker" />
/** Start-up probe: picks the backend in a worker and, if asked, runs one pix2pix step of a tiny model on it. */
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs';
import { createTrainer } from '../model';
import { pickBackend } from './backend';
import type { ProbeCommand, ProbeEvent } from './probeProtocol';

const post = (e: ProbeEvent) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(e);

async function tinyStep(): Promise<{ losses: Record<string, number>; ms: number }> {
  const trainer = createTrainer({ model: 'pix2pix', netG: 'unet_32', ngf: 4, ndf: 4 });
  const [a, b] = [tf.randomUniform([1, 32, 32, 3], -1, 1), tf.randomUniform([1, 32, 32, 3], -1, 1)] as tf.Tensor4D[];
  const t0 = performance.now();
  const losses = trainer.trainStep(a, b);
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(losses)) values[k] = (await v.data())[0];
  const ms = performance.now() - t0;
  tf.dispose([a, b, ...Object.values(losses)]);
  trainer.dispose();
  return { losses: values, ms };
}

self.onmessage = async (ev: MessageEvent<ProbeCommand>) => {
  const cmd = ev.data;
  switch (cmd.type) {
    case 'probe':
      try {
        const report = await pickBackend();
        const step = cmd.trainStep ? await tinyStep() : null;
        post({ type: 'probed', report, stepLosses: step?.losses ?? null, stepMs: step?.ms ?? null });
      } catch (e) {
        post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      }
      break;
  }
};
