/** The exported model package: generators as TF.js Layers models, the custom layers module, a README and its scripts. */
import { zipSync } from 'fflate';
import layersModule from '../model/ganStudioLayers.js?raw';
import { browserSnippet, exportReadme, nodeSnippet, packageJson } from './exportReadme';
import type { ExportInfo } from './exportReadme';

/** One exported file. */
export interface ExportFile {
  name: string;
  data: ArrayBuffer;
}

/**
 * The side multiple a generator needs, read from its exported model.json: 2 to the number of its stride-2
 * convolutions (as `generatorMultiple` counts them on a loaded model).
 */
export function sideMultiple(modelJson: string): number {
  const { modelTopology } = JSON.parse(modelJson) as { modelTopology: { config: { layers: { class_name: string; config: { strides?: number[] } }[] } } };
  const strided = modelTopology.config.layers.filter((l) => l.class_name === 'Conv2D' && l.config.strides?.[0] === 2).length;
  return 2 ** strided;
}

/**
 * Packs the generators' files, the layers module, the README and the scripts it shows (index.html for the browser,
 * translate.mjs and its package.json for Node) into one zip; `extras` (the PyTorch and ONNX exports) keep their paths.
 */
export function modelZip(files: ExportFile[], model: 'pix2pix' | 'cycle_gan', options: string, extras: ExportFile[] = []): Uint8Array {
  const folder = (name: string) => name.replace(/\.(json|weights\.bin)$/, '');
  const generators = [...new Set(files.map((f) => folder(f.name)))];
  const json = files.find((f) => f.name.endsWith('.json'));
  if (!json) throw new Error('nothing to pack: the export has no model.json');
  const pytorchFolder = extras.find((f) => f.name.startsWith('pytorch/'))?.name.split('/').slice(0, 3).join('/');
  const onnx = extras.filter((f) => f.name.startsWith('onnx/')).map((f) => f.name);
  const info: ExportInfo = { generators, model, options, multiple: sideMultiple(new TextDecoder().decode(json.data)), pytorchFolder, onnx };
  const text = (s: string) => new TextEncoder().encode(s);
  const entries: Record<string, Uint8Array> = {
    'README.md': text(exportReadme(info)),
    'gan-studio-layers.js': text(layersModule),
    'index.html': text(browserSnippet(info)),
    'translate.mjs': text(nodeSnippet(info)),
    'package.json': text(packageJson()),
  };
  for (const f of files) entries[`${folder(f.name)}/${f.name}`] = new Uint8Array(f.data);
  for (const f of extras) entries[f.name] = new Uint8Array(f.data);
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
