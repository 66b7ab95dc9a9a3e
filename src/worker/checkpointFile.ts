/** A whole run as one file (zip): checkpoint, loss history and dataset, to move a run between machines. */
import { unzipSync, zipSync } from 'fflate';
import type { Checkpoint, SavedTensor } from './checkpointStore';
import type { DataSource } from './protocol';

const FORMAT = 'gan-studio-checkpoint';

type Groups = Pick<Checkpoint, 'weights' | 'optimizers' | 'pools'>;
type TensorSpec = Omit<SavedTensor, 'data'> & { group: keyof Groups; key: string; file: string };

/** Packs a checkpoint and its dataset into zip bytes. */
export async function packCheckpoint(c: Checkpoint, source: DataSource): Promise<Uint8Array> {
  const entries: Record<string, Uint8Array> = {};
  const tensors: TensorSpec[] = [];
  for (const group of ['weights', 'optimizers', 'pools'] as const) {
    for (const [key, list] of Object.entries(c[group])) {
      for (const t of list) {
        const file = `tensors/${tensors.length}.bin`;
        entries[file] = new Uint8Array(t.data);
        tensors.push({ group, key, file, name: t.name, shape: t.shape, dtype: t.dtype });
      }
    }
  }
  let dataset: unknown = source;
  if (source.kind === 'files') {
    const files = [];
    for (const [i, f] of source.files.entries()) {
      const file = `dataset/${i}`;
      entries[file] = new Uint8Array(await f.blob.arrayBuffer());
      files.push({ path: f.path, role: f.role, file });
    }
    dataset = { kind: 'files', mode: source.mode, files };
  }
  const { weights: _w, optimizers: _o, pools: _p, ...meta } = c;
  entries['checkpoint.json'] = new TextEncoder().encode(JSON.stringify({ format: FORMAT, version: 1, ...meta, tensors, dataset }));
  return zipSync(entries, { level: 0 });
}

/** Reads a file made by `packCheckpoint`; throws a readable error for anything else. */
export function unpackCheckpoint(bytes: Uint8Array): { checkpoint: Checkpoint; source: DataSource } {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch {
    throw new Error('not a GAN Studio checkpoint file (it is not a zip archive)');
  }
  const metaBytes = entries['checkpoint.json'];
  if (!metaBytes) throw new Error('not a GAN Studio checkpoint file (no checkpoint.json inside)');
  const meta = JSON.parse(new TextDecoder().decode(metaBytes));
  if (meta.format !== FORMAT) throw new Error('not a GAN Studio checkpoint file (unknown format)');
  const groups: Groups = { weights: {}, optimizers: {}, pools: {} };
  for (const t of meta.tensors as TensorSpec[]) {
    const data = entries[t.file];
    if (!data) throw new Error(`the checkpoint file is incomplete: ${t.file} is missing`);
    (groups[t.group][t.key] ??= []).push({ name: t.name, shape: t.shape, dtype: t.dtype, data: data.slice().buffer as ArrayBuffer });
  }
  const { format: _f, version: _v, tensors: _t, dataset, ...rest } = meta;
  const source: DataSource =
    dataset.kind === 'demo'
      ? dataset
      : {
          kind: 'files',
          mode: dataset.mode,
          files: (dataset.files as { path: string; role?: 'A' | 'B'; file: string }[]).map((f) => ({
            path: f.path,
            role: f.role,
            blob: new Blob([entries[f.file] as Uint8Array<ArrayBuffer>]),
          })),
        };
  return { checkpoint: { ...rest, ...groups } as Checkpoint, source };
}
