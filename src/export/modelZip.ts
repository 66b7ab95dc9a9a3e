/** The exported model package: generators as TF.js Layers models, the custom layers module, and a README. */
import { zipSync } from 'fflate';
import layersModule from '../model/ganStudioLayers.js?raw';

/** One exported file. */
export interface ExportFile {
  name: string;
  data: ArrayBuffer;
}

/** The README that travels with an exported model. */
export function exportReadme(generators: string[], model: 'pix2pix' | 'cycle_gan', options: string): string {
  const first = generators[0];
  return `# GAN Studio export

${model === 'pix2pix' ? 'A pix2pix generator' : 'CycleGAN generators'} trained in GAN Studio, as TensorFlow.js Layers models:
${generators.map((g) => `- \`${g}/${g}.json\` + \`${g}/${g}.weights.bin\`: ${describe(g)}`).join('\n')}

Options (the reference's names): \`${options}\`

## Load and translate

The models use custom layers (reflection padding, instance normalisation...). Register them first with
\`gan-studio-layers.js\` from this folder, then load as usual:

\`\`\`js
import * as tf from '@tensorflow/tfjs';
import { registerGanStudioLayers } from './gan-studio-layers.js';

registerGanStudioLayers(tf);
const netG = await tf.loadLayersModel('${first}/${first}.json'); // a URL in the browser; tf.io.fromMemory(...) in Node

// input: NHWC float32 in [-1, 1]; sides a multiple of ${model === 'pix2pix' ? "2^downsamplings (256 for unet_256)" : '4'}
const x = tf.browser.fromPixels(image).toFloat().div(127.5).sub(1).expandDims();
const y = netG.apply(x, { training: ${model === 'pix2pix'} }); // pix2pix runs as in training (paper); CycleGAN either way
const rgb = y.squeeze().add(1).mul(127.5).clipByValue(0, 255).toInt();
await tf.browser.toPixels(rgb, canvas);
\`\`\`
`;
}

const describe = (g: string) =>
  g === 'netG_A' ? 'A → B' : g === 'netG_B' ? 'B → A' : 'input → output';

/** Packs the generators' files, the layers module and the README into one zip. */
export function modelZip(files: ExportFile[], model: 'pix2pix' | 'cycle_gan', options: string): Uint8Array {
  const generators = [...new Set(files.map((f) => f.name.replace(/\.(json|weights\.bin)$/, '')))];
  const entries: Record<string, Uint8Array> = {
    'README.md': new TextEncoder().encode(exportReadme(generators, model, options)),
    'gan-studio-layers.js': new TextEncoder().encode(layersModule),
  };
  for (const f of files) entries[`${f.name.replace(/\.(json|weights\.bin)$/, '')}/${f.name}`] = new Uint8Array(f.data);
  // weights barely compress; level 1 keeps the main thread quick
  return zipSync(entries, { level: 1 });
}

/** Starts a browser download of bytes. */
export function download(name: string, data: BlobPart, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
