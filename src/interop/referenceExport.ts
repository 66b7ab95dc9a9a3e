/**
 * A run as the reference's `checkpoints/<name>/` folder: every network's `latest_net_<name>.pth` (exact keys and
 * layouts, loadable with `torch.load(..., weights_only=True)`), `train_opt.txt` and a README with the commands that
 * continue and test the run with the reference.
 */
import type * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../config/runConfig';
import { writePth } from './pth';
import { runModules } from './referenceNets';
import { referenceReadme } from './referenceReadme';
import { trainOptText } from './referenceOptions';
import { stateDictOf } from './torchWeights';

/** Where the run stands, for the file names and the commands. */
export interface ReferenceRunInfo {
  /** The run's name: the folder under `checkpoints/`. */
  name: string;
  datasetName: string;
  /** The epoch in progress (1-based): the reference continues at it (`--epoch_count`). */
  epoch: number;
  step: number;
}

/** One file of the export, its path inside the zip. */
export interface ExportedFile {
  name: string;
  data: ArrayBuffer;
}

/** A name safe as a folder name: the reference's `--name`. */
export const runName = (s: string): string =>
  s.replace(/[^\w.-]+/g, '_').replace(/_+/g, '_').replace(/^[._]+|[._]+$/g, '') || 'gan_studio_run';

/** The run's networks (our names: `netG`, `netG_A`…) as the reference's checkpoint folder. */
export async function referenceCheckpointFiles(models: Readonly<Record<string, tf.LayersModel>>, config: RunConfig, info: ReferenceRunInfo): Promise<ExportedFile[]> {
  const name = runName(info.name);
  const dir = `checkpoints/${name}`;
  const text = (s: string) => new TextEncoder().encode(s).buffer as ArrayBuffer;
  const files: ExportedFile[] = [];
  const layouts = runModules(config.train);
  for (const [ours, modules] of Object.entries(layouts)) {
    const model = models[ours];
    if (!model) throw new Error(`internal: the run has no ${ours}`);
    const file = `latest_net_${ours.slice(3)}`;
    files.push({ name: `${dir}/${file}.pth`, data: writePth(await stateDictOf(model, modules), file).slice().buffer as ArrayBuffer });
  }
  const dataroot = `./datasets/${runName(info.datasetName)}`;
  files.push({ name: `${dir}/train_opt.txt`, data: text(trainOptText(config, { name, dataroot, epoch_count: info.epoch })) });
  files.push({
    name: `${dir}/README.md`,
    data: text(
      referenceReadme({
        name,
        model: config.train.model,
        config,
        epoch_count: info.epoch,
        datasetName: runName(info.datasetName),
        files: files.map((f) => f.name.slice(dir.length + 1)),
        netG: config.train.netG,
        step: info.step,
      }),
    ),
  });
  return files;
}
