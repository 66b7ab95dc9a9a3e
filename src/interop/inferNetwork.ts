/**
 * Which of the reference's networks a state dict is, read from its keys and shapes alone (the published pretrained
 * models come without an options file), then checked key by key against that network's full layout.
 */
import { createDiscriminator, createGenerator } from '../model/networks';
import { NET_G } from '../model/options';
import type { DiscriminatorOptions, GeneratorOptions, NetG, Norm } from '../model/options';
import type { StateDict } from './stateDict';
import { discriminatorModules, generatorModules, referenceParams } from './referenceNets';
import type { RefModule } from './referenceNets';
import { checkStateDict, loadStateDict, withoutModulePrefix } from './torchWeights';
import type * as tf from '@tensorflow/tfjs';

/** A network read from a state dict: what it is and what was found on the way. */
export type InferredNet =
  | { role: 'G'; options: GeneratorOptions; dropoutKnown: boolean }
  | { role: 'D'; options: DiscriminatorOptions; dropoutKnown: true };

/** A network read from a file, built as our model, with its weights set. */
export interface ImportedNet {
  inferred: InferredNet;
  model: tf.LayersModel;
  /** One line for people: `resnet_9blocks generator, ngf 64, instance norm, 3 → 3 channels, 11,378,179 parameters`. */
  summary: string;
  /** What was dropped as the reference drops it. */
  dropped: string[];
}

/** Keys without DataParallel's `module.` prefix. */
const stripped = (sd: StateDict): StateDict => new Map([...sd].map(([k, v]) => [withoutModulePrefix(k), v]));

/** The norm a network was built with: batch norm has weight + running stats, instance norm gives convs a bias. */
function normOf(sd: StateDict, normPrefix: string, convPrefix: string): Norm {
  if (sd.has(`${normPrefix}.weight`) && sd.has(`${normPrefix}.running_mean`)) return 'batch';
  return sd.has(`${convPrefix}.bias`) ? 'instance' : 'none';
}

/** Reads the architecture and options of the network in a state dict; throws naming the file when it is none of ours. */
export function inferNetwork(raw: StateDict, fileName: string): InferredNet {
  const sd = stripped(raw);
  const shape = (key: string) => sd.get(key)!.shape;
  if (sd.has('model.model.0.weight')) {
    let levels = 1;
    for (let p = 'model.model.1.model'; sd.has(`${p}.1.weight`); p = `${p}.3.model`) levels++;
    const netG = `unet_${2 ** levels}` as NetG;
    if (!NET_G.includes(netG)) throw new Error(`${fileName} is a U-Net with ${levels} downsamplings; the studio builds unet_32 to unet_256 (5 to 8)`);
    const [ngf, input_nc] = shape('model.model.0.weight');
    const output_nc = sd.get('model.model.3.weight')?.shape[1] ?? 3;
    const norm = normOf(sd, 'model.model.1.model.2', 'model.model.1.model.1');
    return { role: 'G', options: { netG, ngf, input_nc, output_nc, norm, use_dropout: false }, dropoutKnown: false };
  }
  if (sd.has('model.1.weight') && sd.has('model.10.conv_block.1.weight')) {
    let n_blocks = 0;
    while (sd.has(`model.${10 + n_blocks}.conv_block.1.weight`)) n_blocks++;
    if (n_blocks !== 6 && n_blocks !== 9) throw new Error(`${fileName} is a ResNet generator with ${n_blocks} blocks; the reference's --netG has resnet_6blocks and resnet_9blocks`);
    const [ngf, input_nc] = shape('model.1.weight');
    const output_nc = sd.get(`model.${10 + n_blocks + 7}.weight`)?.shape[0] ?? 3;
    // with dropout the block's second conv sits at 6 (its norm at 7); without, 6 is that conv's norm
    const use_dropout = sd.get('model.10.conv_block.6.weight')?.shape.length === 4;
    const norm = normOf(sd, 'model.2', 'model.1');
    return { role: 'G', options: { netG: `resnet_${n_blocks}blocks` as NetG, ngf, input_nc, output_nc, norm, use_dropout }, dropoutKnown: true };
  }
  if (sd.has('net.0.weight')) {
    const [ndf, input_nc] = shape('net.0.weight');
    return { role: 'D', options: { netD: 'pixel', ndf, input_nc, n_layers_D: 3, norm: normOf(sd, 'net.3', 'net.2') }, dropoutKnown: true };
  }
  if (sd.has('model.0.weight') && shape('model.0.weight').length === 4 && shape('model.0.weight')[2] === 4) {
    let convs = 1;
    while (sd.has(`model.${2 + 3 * (convs - 1)}.weight`) && shape(`model.${2 + 3 * (convs - 1)}.weight`).length === 4) convs++;
    const n_layers = convs - 2;
    if (n_layers < 1) throw new Error(`${fileName} looks like a PatchGAN discriminator but has only ${convs} convolutions`);
    const [ndf, input_nc] = shape('model.0.weight');
    const netD = n_layers === 3 ? 'basic' : 'n_layers';
    return { role: 'D', options: { netD, ndf, input_nc, n_layers_D: n_layers, norm: normOf(sd, 'model.3', 'model.2') }, dropoutKnown: true };
  }
  const first = [...raw.keys()].slice(0, 3).join(', ');
  throw new Error(
    `${fileName} is not a pix2pix or CycleGAN network of the reference: its keys (${first || 'none'}${raw.size > 3 ? ', …' : ''}) match no --netG or --netD. Choose a latest_net_G*.pth or latest_net_D*.pth file.`,
  );
}

/** The reference modules of an inferred network. */
export const modulesOf = (n: InferredNet): RefModule[] => (n.role === 'G' ? generatorModules(n.options) : discriminatorModules(n.options));

/** Lists a few names, and how many more. */
const few = (names: string[]) => (names.length > 4 ? `${names.slice(0, 4).join(', ')} and ${names.length - 4} more` : names.join(', '));

/**
 * Builds our network for a state dict and loads it, strictly: any missing, unexpected or mis-shaped key fails,
 * named. `options` overrides what the keys cannot tell (dropout, from an options file).
 */
export function importNetwork(sd: StateDict, fileName: string, override: { use_dropout?: boolean } = {}): ImportedNet {
  let inferred = inferNetwork(sd, fileName);
  if (inferred.role === 'G' && override.use_dropout !== undefined && !inferred.dropoutKnown) {
    inferred = { ...inferred, options: { ...inferred.options, use_dropout: override.use_dropout } };
  }
  const modules = modulesOf(inferred);
  const check = checkStateDict(sd, modules);
  const problems = [
    check.missing.length ? `missing ${few(check.missing)}` : '',
    check.unexpected.length ? `unexpected ${few(check.unexpected)}` : '',
    check.misshaped.length ? `mis-shaped ${few(check.misshaped.map((m) => `${m.key} [${m.found.join(', ')}] (expected [${m.expected.join(', ')}])`))}` : '',
  ].filter(Boolean);
  if (problems.length) throw new Error(`${fileName} does not fit the reference's ${describe(inferred)}: ${problems.join('; ')}`);
  const model = inferred.role === 'G' ? createGenerator(inferred.options) : createDiscriminator(inferred.options);
  try {
    loadStateDict(model, modules, check.clean);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { inferred, model, summary: `${describe(inferred)}, ${referenceParams(modules).toLocaleString('en-US')} parameters`, dropped: check.dropped };
}

/** `resnet_9blocks generator, ngf 64, instance norm, 3 → 3 channels`. */
export function describe(n: InferredNet): string {
  if (n.role === 'G') {
    const o = n.options;
    const dropout = n.dropoutKnown ? (o.use_dropout ? ', dropout' : '') : '';
    return `${o.netG} generator, ngf ${o.ngf}, ${o.norm} norm${dropout}, ${o.input_nc} → ${o.output_nc} channels`;
  }
  const o = n.options;
  const name = o.netD === 'n_layers' ? `n_layers (${o.n_layers_D})` : o.netD;
  return `${name} discriminator, ndf ${o.ndf}, ${o.norm} norm, ${o.input_nc} input channels`;
}
