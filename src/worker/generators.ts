/** The generators outside training: exported as TF.js Layers files, loaded back from them, and run on any image. */
import * as tf from '@tensorflow/tfjs';
import { generatorMultiple, runAtAnySize } from '../model';
import type { Trainer } from '../model';
import { pictures, pictureTensor } from './pictures';
import type { Picture } from './protocol';

/** A generator loaded from exported files, for translation without training. */
export interface ImportedGenerator {
  model: tf.LayersModel;
  multiple: number;
  name: string;
}

/** The run's generators as TF.js Layers models: model.json and weights per generator. */
export async function saveGenerators(t: Trainer): Promise<{ name: string; data: ArrayBuffer }[]> {
  const files: { name: string; data: ArrayBuffer }[] = [];
  for (const [name, model] of Object.entries(t.models)) {
    if (!name.startsWith('netG')) continue;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const { weightData, ...rest } = artifacts;
        const json = { ...rest, weightsManifest: [{ paths: [`${name}.weights.bin`], weights: artifacts.weightSpecs }] };
        delete (json as { weightSpecs?: unknown }).weightSpecs;
        files.push({ name: `${name}.json`, data: new TextEncoder().encode(JSON.stringify(json)).buffer as ArrayBuffer });
        files.push({ name: `${name}.weights.bin`, data: tf.io.concatenateArrayBuffers(weightData!) });
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  }
  return files;
}

/** Loads an exported generator (model.json + weights files). */
export async function loadGenerator(files: File[]): Promise<ImportedGenerator> {
  const json = files.find((f) => f.name.endsWith('.json'));
  if (!json) throw new Error('choose the model’s .json file together with its .weights.bin file(s)');
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.browserFiles([json, ...files.filter((f) => f !== json)]));
  } catch (e) {
    throw new Error(`could not load ${json.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { model, multiple: generatorMultiple(model), name: json.name.replace(/\.json$/, '') };
}

/** Translates one picture of any size, with the run's generator or an imported one. */
export async function translatePicture(image: Picture, direction: 'AtoB' | 'BtoA', by: { trainer: Trainer } | { imported: ImportedGenerator }): Promise<Picture> {
  const x = pictureTensor(image);
  const y =
    'imported' in by
      ? runAtAnySize(by.imported.model, x, by.imported.multiple, true)
      : by.trainer.translate(x, direction, { eval: by.trainer.config.model === 'cycle_gan' });
  const [p] = await pictures([y]);
  tf.dispose([x, y]);
  return p;
}
