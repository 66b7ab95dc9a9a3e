/**
 * What an exported model package says and runs: its README, and the browser page and Node script the README
 * shows, which also travel as files (index.html, translate.mjs, package.json) so they run as they are.
 */
import { version as tfjsVersion } from '@tensorflow/tfjs/dist/version';

/** What the README needs to know about the exported generators. */
export interface ExportInfo {
  /** Generator names, each a folder `name/name.json` + `name/name.weights.bin`. */
  generators: string[];
  model: 'pix2pix' | 'cycle_gan';
  /** The run's options as reference flags. */
  options: string;
  /** Image sides the generators take: 2 to the number of their stride-2 convolutions. */
  multiple: number;
  /** The run's other exports in the zip: `pytorch/checkpoints/<name>/` and `onnx/` (absent: none). */
  pytorchFolder?: string;
  onnx?: string[];
}

/** TF.js as a browser module from a CDN, the version the studio was built with. */
export const TFJS_MODULE_URL = `https://cdn.jsdelivr.net/npm/@tensorflow/tfjs@${tfjsVersion}/dist/tf.fesm.min.js`;

// pix2pix runs as in training, as the paper (and the studio) does: dropout and batch statistics at test time
const training = (model: ExportInfo['model']) => model === 'pix2pix';

/** The browser page: pick an image, see it and its translation. */
export function browserSnippet({ generators, model, multiple }: ExportInfo): string {
  const g = generators[0];
  return `<!doctype html>
<meta charset="utf-8">
<title>GAN Studio model: translate an image</title>
<p><input type="file" accept="image/*" id="file" aria-label="Image to translate"> <span id="status">Loading the model…</span></p>
<canvas id="input" title="input"></canvas> <canvas id="output" title="output"></canvas>
<script type="module">
  import * as tf from '${TFJS_MODULE_URL}';
  import { registerGanStudioLayers, runAtAnySize } from './gan-studio-layers.js';

  registerGanStudioLayers(tf);
  const netG = await tf.loadLayersModel('${g}/${g}.json');${generators.length > 1 ? ` // ${generators[1]}/${generators[1]}.json: ${describe(generators[1])}` : ''}
  const status = document.getElementById('status');
  status.textContent = 'Choose an image.';

  document.getElementById('file').addEventListener('change', async (event) => {
    const image = await createImageBitmap(event.target.files[0]);
    const pixels = tf.browser.fromPixels(image);
    const output = tf.tidy(() => {
      const x = tf.sub(tf.div(tf.cast(pixels, 'float32'), 127.5), 1); // [-1, 1]
      // any size: pads by reflection to a multiple of ${multiple}, then crops the result back
      const y = runAtAnySize(tf, netG, x, ${multiple}, { training: ${training(model)} });
      return tf.cast(tf.clipByValue(tf.round(tf.mul(tf.add(y, 1), 127.5)), 0, 255), 'int32');
    });
    await tf.browser.toPixels(pixels, document.getElementById('input'));
    await tf.browser.toPixels(output, document.getElementById('output'));
    tf.dispose([pixels, output]);
    status.textContent = \`Translated \${image.width}×\${image.height}.\`;
  });
</script>
`;
}

/** The Node script: reads a binary PPM, writes its translation as one. */
export function nodeSnippet({ generators, model, multiple }: ExportInfo): string {
  const g = generators[0];
  return `// node translate.mjs input.ppm output.ppm: ${describe(g)} on one image of any size (TF.js's CPU backend)
import { readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { registerGanStudioLayers, runAtAnySize } from './gan-studio-layers.js';

const [input, output] = process.argv.slice(2);
if (!input || !output) throw new Error('usage: node translate.mjs input.ppm output.ppm');

registerGanStudioLayers(tf);
// the model's files, read from beside this script${generators.length > 1 ? ` (${generators[1]}/: ${describe(generators[1])})` : ''}
const file = (path) => readFileSync(new URL(path, import.meta.url));
const json = JSON.parse(file('${g}/${g}.json'));
const weights = Buffer.concat(json.weightsManifest.flatMap((group) => group.paths.map((p) => file(\`${g}/\${p}\`))));
const netG = await tf.loadLayersModel(
  tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }),
);

const { width, height, rgb } = readPpm(input);
const result = tf.tidy(() => {
  const x = tf.sub(tf.div(tf.tensor3d(rgb, [height, width, 3], 'float32'), 127.5), 1); // [-1, 1]
  // any size: pads by reflection to a multiple of ${multiple}, then crops the result back
  const y = runAtAnySize(tf, netG, x, ${multiple}, { training: ${training(model)} });
  return tf.clipByValue(tf.round(tf.mul(tf.add(y, 1), 127.5)), 0, 255);
});
writePpm(output, width, height, await result.data());
console.log(\`translated \${input} (\${width}×\${height}) to \${output}\`);

/** An 8-bit binary PPM: "P6", width, height, 255 (# comments allowed), one whitespace, then RGB bytes. */
function readPpm(path) {
  const bytes = readFileSync(path);
  const header = /^P6\\s+(?:#.*\\s+)*(\\d+)\\s+(?:#.*\\s+)*(\\d+)\\s+(?:#.*\\s+)*(\\d+)\\s/.exec(bytes.toString('latin1', 0, 1024));
  const [width, height, max] = header ? header.slice(1).map(Number) : [0, 0, 0];
  const rgb = bytes.subarray(header ? header[0].length : 0).subarray(0, width * height * 3);
  if (!header || max !== 255 || rgb.length < width * height * 3) {
    throw new Error(\`\${path}: not an 8-bit binary PPM (P6); convert the image first, e.g. magick \${path} \${path.replace(/\\.\\w+$/, '')}.ppm\`);
  }
  return { width, height, rgb };
}

function writePpm(path, width, height, rgb) {
  writeFileSync(path, Buffer.concat([Buffer.from(\`P6\\n\${width} \${height}\\n255\\n\`), Uint8Array.from(rgb)]));
}
`;
}

/** package.json for the Node script: ES modules, and the TF.js it was written against. */
export function packageJson(): string {
  return `${JSON.stringify({ name: 'gan-studio-model', private: true, type: 'module', dependencies: { '@tensorflow/tfjs': `^${tfjsVersion}` } }, null, 2)}\n`;
}

const describe = (g: string) => (g === 'netG_A' ? 'A → B' : g === 'netG_B' ? 'B → A' : 'input → output');

/** The README that travels with an exported model. */
export function exportReadme(info: ExportInfo): string {
  const { generators, model, options, multiple } = info;
  const downs = Math.round(Math.log2(multiple));
  return `# GAN Studio export

${model === 'pix2pix' ? 'A pix2pix generator' : 'CycleGAN generators'} trained in GAN Studio, as TensorFlow.js Layers models:
${generators.map((g) => `- \`${g}/${g}.json\` + \`${g}/${g}.weights.bin\`: ${describe(g)}`).join('\n')}

Options (the reference's names): \`${options}\`

## What the models need
- **Custom layers** (reflection padding, instance normalisation…): call \`registerGanStudioLayers(tf)\` from
  \`gan-studio-layers.js\` (in this folder) once, before \`tf.loadLayersModel\`.
- **Pixels** as float32 in [-1, 1] (\`byte / 127.5 - 1\`), RGB, NHWC; the output is the same.
- **Sides a multiple of ${multiple}**: the generator halves the image ${downs} times. For any other size,
  \`runAtAnySize(tf, netG, image, ${multiple})\` from \`gan-studio-layers.js\` pads by reflection to the multiple and
  crops the result back, as the studio's own translation does.
- \`training: ${training(model)}\`: ${model === 'pix2pix' ? 'pix2pix generators run as in training, as the paper does (dropout and batch statistics at test time)' : 'CycleGAN generators run in inference mode'}, as in the studio.

## In the browser: \`index.html\`
Serve this folder over HTTP (\`npx http-server\`, or \`python3 -m http.server\`; a \`file://\` page cannot fetch the
model) and open \`index.html\`: it loads TF.js from a CDN, and shows the image you choose beside its translation.

\`\`\`html
${browserSnippet(info)}\`\`\`

## In Node: \`translate.mjs\`
\`npm install\` here (it installs \`@tensorflow/tfjs\`, from \`package.json\`), then
\`node translate.mjs photo.ppm translated.ppm\`. Node has no image decoder of its own, so the script reads and
writes binary PPM, which any converter makes (\`magick photo.jpg photo.ppm\`); to read PNG or JPEG directly, get
the RGB bytes from a decoder package instead (\`sharp(file).removeAlpha().raw().toBuffer()\`, or
\`tf.node.decodeImage\` of \`@tensorflow/tfjs-node\`).

\`\`\`js
${nodeSnippet(info)}\`\`\`
${otherFormats(info)}`;
}

/** The README's section on the PyTorch and ONNX exports beside the TF.js one. */
function otherFormats({ pytorchFolder, onnx }: ExportInfo): string {
  const parts: string[] = [];
  if (pytorchFolder) {
    parts.push(`- \`${pytorchFolder}/\`: the run as the reference's (PyTorch) checkpoint folder: every network's \`.pth\`,
  \`train_opt.txt\`, and a README with the \`python train.py … --continue_train\` and \`python test.py\` commands.`);
  }
  if (onnx?.length) {
    parts.push(`- ${onnx.map((f) => `\`${f}\``).join(', ')}: each generator as ONNX (opset 17): input \`real\`, output \`fake\`, float32
  NCHW in [-1, 1], any batch, sides a multiple as above (no padding inside: pad as \`runAtAnySize\` does).`);
  }
  return parts.length ? `\n## Also in this zip\n${parts.join('\n')}\n` : '';
}
