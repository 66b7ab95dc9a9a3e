/**
 * A set of the reference's checkpoint files as one import: `.pth` networks (loose, or in a zip / folder of
 * `checkpoints/<name>/`), and its `train_opt.txt` / `opt.txt` if given. Says what it found, what it can do with it
 * (translate; fine-tune; continue the run) and every problem by file name.
 */
import { unzipSync } from 'fflate';
import { defaultRunConfig } from '../config/runConfig';
import type { RunConfig } from '../config/runConfig';
import type { ModelName } from '../model/options';
import { describe as describeNet, importNetwork, modulesOf } from './inferNetwork';
import { referenceKeys, runModules } from './referenceNets';
import type { RefModule } from './referenceNets';
import type { ImportedNet } from './inferNetwork';
import { readPth } from './pth';
import { parseOptionsFile } from './referenceOptions';

/** One file as the user gave it (a folder's files carry their relative path). */
export interface ReferenceFile {
  name: string;
  bytes: Uint8Array;
}

/** What an import holds. */
export interface ReferenceImport {
  model: ModelName;
  /** True when nothing named the model (a lone generator, no options file): `model` is a guess for training. */
  modelGuessed: boolean;
  /** Our names (`netG`, `netG_A`, …) → the network read. */
  nets: Record<string, ImportedNet>;
  /** The run's options: the options file's, or the reference's defaults with what the weights tell. */
  config: RunConfig;
  /** Epochs the files say were trained (`5_net_G.pth`: 5), or null (`latest`). */
  epoch: number | null;
  /** The run's name (`checkpoints/<name>/`, or the options file's `--name`). */
  name: string | null;
  /** True with every network of the model; false: generators only, the discriminators start fresh. */
  complete: boolean;
  /** True with every generator of the model: it can train on (the missing discriminators start fresh). */
  canTrain: boolean;
  /** Lines for people: each network found, what was dropped, what starts fresh. */
  notes: string[];
}

/** The reference's network names in the order its models list them: `nets` holds what it read in this order. */
const NETWORK_ORDER = ['G', 'G_A', 'G_B', 'D', 'D_A', 'D_B'];

/** `<epoch>_net_<name>.pth` as the reference saves networks. */
const NET_FILE = /(?:^|\/)(\w+?)_net_(G|D)(?:_(A|B))?\.pth$/;

/** Unpacks zips (a zipped `checkpoints/<name>/` folder) into their files. */
function expand(files: ReferenceFile[]): ReferenceFile[] {
  return files.flatMap((f) => {
    if (!/\.zip$/i.test(f.name)) return [f];
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(f.bytes);
    } catch {
      throw new Error(`${f.name} is not a readable zip archive: zip the reference's checkpoints/<name>/ folder again`);
    }
    return Object.entries(entries)
      .filter(([n]) => /\.(pth|txt)$/i.test(n) && !n.startsWith('__MACOSX/'))
      .map(([n, bytes]) => ({ name: n, bytes }));
  });
}

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** Reads a set of reference files; throws naming the file for anything that cannot be used (built networks freed). */
export function readReferenceFiles(given: ReferenceFile[]): ReferenceImport {
  const built: ImportedNet[] = [];
  try {
    return readSet(given, built);
  } catch (e) {
    for (const n of built) n.model.dispose();
    throw e;
  }
}

function readSet(given: ReferenceFile[], built: ImportedNet[]): ReferenceImport {
  const files = expand(given);
  const pths = files.filter((f) => /\.pth$/i.test(f.name));
  if (!pths.length) throw new Error(`no .pth file among ${given.map((f) => f.name).join(', ')}: choose the reference's latest_net_G*.pth files (or a zip of its checkpoints/<name>/ folder)`);
  const optFile = files.find((f) => /(^|\/)(train_)?opt\.txt$/.test(f.name));
  const options = optFile ? parseOptionsFile(new TextDecoder().decode(optFile.bytes), baseName(optFile.name)) : null;

  const notes: string[] = [];
  const { chosen, latestAtLeast } = oneEpoch(pths, notes);
  // the reference's names first; a lone file of another name is taken for what its keys say
  const byName = new Map<string, { file: ReferenceFile; epoch: string | null }>();
  for (const f of chosen) {
    const m = NET_FILE.exec(f.name);
    const ref = m ? `${m[2]}${m[3] ? `_${m[3]}` : ''}` : null;
    const key = ref ?? `?${f.name}`;
    const prev = byName.get(key);
    if (prev) throw new Error(`two files for net_${ref}: ${baseName(prev.file.name)} and ${baseName(f.name)}; choose one epoch`);
    byName.set(key, { file: f, epoch: m ? m[1] : null });
  }
  const use_dropout = options ? !options.config.train.no_dropout : undefined;
  const nets: Record<string, ImportedNet> = {};
  const fileOf: Record<string, string> = {};
  const epochs = new Set<string>();
  // in the order the reference lists its networks, generators first
  const rank = (key: string) => NETWORK_ORDER.indexOf(key) >>> 0;
  for (const [key, { file, epoch }] of [...byName].sort(([a], [b]) => rank(a) - rank(b))) {
    const net = importNetwork(readPth(file.bytes, baseName(file.name)), baseName(file.name), { use_dropout });
    built.push(net);
    let ours = key.startsWith('?') ? null : `net${key}`;
    if (!ours) {
      // a file named otherwise: one generator is netG, one discriminator netD
      ours = net.inferred.role === 'G' ? 'netG' : 'netD';
    }
    if (ours.startsWith('netG') !== (net.inferred.role === 'G')) {
      throw new Error(`${baseName(file.name)} holds a ${net.inferred.role === 'G' ? 'generator' : 'discriminator'}, not the ${ours.slice(3)} its name says`);
    }
    if (nets[ours]) throw new Error(`${baseName(file.name)} and ${fileOf[ours]} are both ${ours.slice(3)}: import one of them`);
    nets[ours] = net;
    fileOf[ours] = baseName(file.name);
    if (epoch) epochs.add(epoch);
    notes.push(`${baseName(file.name)}: ${net.summary}${net.dropped.length ? `; dropped ${net.dropped.join(' and ')}` : ''}`);
  }
  if (epochs.size > 1) throw new Error(`the files come from different epochs (${[...epochs].join(', ')}): choose one epoch's files`);
  const numeric = [...epochs].find((e) => /^\d+$/.test(e));
  const epoch = numeric ? Number(numeric) : latestAtLeast;

  const cycle = Object.keys(nets).some((n) => /_(A|B)$/.test(n));
  const model: ModelName = options?.config.train.model ?? (cycle ? 'cycle_gan' : 'pix2pix');
  const modelGuessed = !options && !cycle && !nets.netD;
  // the reference's published CycleGAN models ship one direction as a lone latest_net_G.pth (its test model loads it)
  if (modelGuessed) notes.push('a lone generator: it translates one way (as the reference’s pretrained models and its test model do); fine-tuning trains it as pix2pix on paired data');
  const expected = model === 'cycle_gan' ? ['netG_A', 'netG_B', 'netD_A', 'netD_B'] : ['netG', 'netD'];
  const strays = Object.keys(nets).filter((n) => !expected.includes(n));
  if (strays.length) throw new Error(`${strays.map((s) => s.slice(3)).join(', ')} do not belong to a ${model} run (its networks: ${expected.map((e) => e.slice(3)).join(', ')})`);
  const gens = expected.filter((n) => n.startsWith('netG'));
  if (!gens.some((g) => nets[g])) throw new Error('no generator among the files: import a latest_net_G*.pth to translate with');

  const config = options?.config ?? defaultRunConfig(model);
  const G = nets[gens.find((g) => nets[g])!].inferred;
  const D = Object.values(nets).find((n) => n.inferred.role === 'D')?.inferred;
  const train = { ...config.train };
  if (G.role === 'G') {
    const o = G.options;
    // the weights decide the network; an options file that disagrees is named
    if (options) {
      for (const k of ['netG', 'ngf', 'norm'] as const) {
        if (String(train[k]) !== String(o[k])) throw new Error(`${baseName(optFile!.name)} says --${k} ${train[k]} but the weights are a ${describeNet(G)}`);
      }
    }
    // G_B maps B → A: the run's input_nc is its output
    const reversed = !nets.netG_A && !!nets.netG_B;
    Object.assign(train, { netG: o.netG, ngf: o.ngf, norm: o.norm, input_nc: reversed ? o.output_nc : o.input_nc, output_nc: reversed ? o.input_nc : o.output_nc });
    if (G.dropoutKnown) train.no_dropout = !o.use_dropout;
  }
  if (D?.role === 'D') Object.assign(train, { netD: D.options.netD, ndf: D.options.ndf, n_layers_D: D.options.n_layers_D });
  // every network must be the one the run makes (same norm, channels that chain), or the files mix runs
  const layouts = runModules(train);
  for (const [name, net] of Object.entries(nets)) {
    const keys = (m: RefModule[]) => referenceKeys(m).map((k) => `${k.key} [${k.shape.join(', ')}]`);
    const [want, have] = [keys(layouts[name]), keys(modulesOf(net.inferred))];
    const first = want.find((k, i) => k !== have[i]) ?? have[want.length];
    if (first !== undefined || want.length !== have.length) {
      throw new Error(`${fileOf[name]} is a ${describeNet(net.inferred)}, which does not fit the ${model} run the other files make (it needs ${first ?? 'fewer keys'}): are they from one run?`);
    }
  }
  const complete = expected.every((n) => nets[n]);
  const canTrain = gens.every((n) => nets[n]);
  const missing = expected.filter((n) => !nets[n]);
  if (missing.length) {
    notes.push(
      `${missing.map((m) => m.slice(3)).join(', ')} not among the files: ${missing.every((m) => m.startsWith('netD')) ? 'to fine-tune, the discriminators start fresh, initialised as the reference does (normal, std 0.02)' : 'translation works with what is here; training needs every generator'}`,
    );
  }
  if (complete && epoch === null) notes.push('the file names do not say the epoch (latest): a run from them starts at epoch 1 of the schedule');
  if (!options) notes.push('no train_opt.txt: the other options are the reference’s defaults for ' + model);
  if (G.role === 'G' && !G.dropoutKnown && !options) notes.push(`dropout cannot be read from U-Net weights: the ${model} default (${train.no_dropout ? 'off' : 'on'}) applies`);
  return { model, modelGuessed, nets, config: { ...config, train }, epoch, name: options?.name ?? runFolder(pths[0].name), complete, canTrain, notes };
}

/**
 * A reference folder keeps every saved epoch (`5_net_G_A.pth`, …, `latest_net_G_A.pth`): take `latest`, as its
 * `--continue_train` does, or else the newest; `latest` is at least the newest numbered epoch. Loose files are
 * taken as chosen.
 */
function oneEpoch(pths: ReferenceFile[], notes: string[]): { chosen: ReferenceFile[]; latestAtLeast: number | null } {
  const label = (f: ReferenceFile) => NET_FILE.exec(f.name)?.[1];
  const labels = [...new Set(pths.map(label).filter((l): l is string => !!l))];
  if (!pths.some((f) => f.name.includes('/')) || labels.length < 2) return { chosen: pths, latestAtLeast: null };
  const numbers = labels.filter((l) => /^\d+$/.test(l)).map(Number);
  const newest = numbers.length ? Math.max(...numbers) : null;
  const pick = labels.includes('latest') ? 'latest' : String(newest);
  const latestAtLeast = pick === 'latest' ? newest : null;
  notes.push(`the folder holds epochs ${labels.join(', ')}: using ${pick}${latestAtLeast !== null ? `, taken as epoch ${latestAtLeast} (its newest numbered files)` : ''}`);
  return { chosen: pths.filter((f) => label(f) === pick || !label(f)), latestAtLeast };
}

/** The epoch a run from an import starts at: the next one when every network and the epoch are known, else 1 (fine-tuning). */
export const startEpoch = (r: Pick<ReferenceImport, 'complete' | 'epoch'>): number => (r.complete && r.epoch !== null ? r.epoch + 1 : 1);

/** `checkpoints/<name>/x.pth` → `<name>`. */
function runFolder(path: string): string | null {
  const parts = path.split('/');
  return parts.length >= 2 ? parts[parts.length - 2] : null;
}
