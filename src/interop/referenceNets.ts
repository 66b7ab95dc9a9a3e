/**
 * The reference's networks as its state dicts name them: every module that holds parameters or buffers, in
 * `state_dict()` order, with its key prefix and shapes (facts from the reference's `networks.py`: `nn.Sequential`
 * indices count every module, ReLU, padding and dropout included, so the prefixes below count them too).
 */
import { unetDowns } from '../model/options';
import type { DiscriminatorOptions, GeneratorOptions, Norm, TrainConfig } from '../model/options';

/** One module of the reference's network that the state dict has keys for (or, for instance norm, may have). */
export interface RefModule {
  /** Key prefix without the trailing dot: `model.1`, `model.model.1.model.2`. */
  prefix: string;
  /** `conv`: Conv2d; `convT`: ConvTranspose2d; `batch`: BatchNorm2d; `instance`: InstanceNorm2d (no keys of its own). */
  kind: 'conv' | 'convT' | 'batch' | 'instance';
  /** Channels in (for a norm: its channels). */
  inC: number;
  /** Channels out (for a norm: its channels). */
  outC: number;
  /** Kernel side (1 for a norm). */
  k: number;
  /** Whether a conv has a bias. */
  bias: boolean;
}

/** One key of a state dict with the shape the reference gives it. */
export interface RefKey {
  key: string;
  shape: number[];
}

/** The reference's `use_bias`: true only under instance norm. */
const useBias = (norm: Norm) => norm === 'instance';

/** The list builder shared by the networks: a norm module where the reference puts one (`none` is an Identity, no keys). */
class Modules {
  readonly list: RefModule[] = [];
  conv(prefix: string, inC: number, outC: number, k: number, bias: boolean) {
    this.list.push({ prefix, kind: 'conv', inC, outC, k, bias });
  }
  convT(prefix: string, inC: number, outC: number, k: number, bias: boolean) {
    this.list.push({ prefix, kind: 'convT', inC, outC, k, bias });
  }
  norm(prefix: string, channels: number, norm: Norm) {
    if (norm !== 'none') this.list.push({ prefix, kind: norm, inC: channels, outC: channels, k: 1, bias: false });
  }
}

/** `define_G`'s network for these options, as state-dict modules. */
export function generatorModules(o: GeneratorOptions): RefModule[] {
  const downs = unetDowns(o.netG);
  return downs === null ? resnetModules(o, o.netG === 'resnet_6blocks' ? 6 : 9) : unetModules(o, downs);
}

/** `ResnetGenerator`: one `nn.Sequential` named `model`. */
function resnetModules(o: GeneratorOptions, n_blocks: number): RefModule[] {
  const m = new Modules();
  const bias = useBias(o.norm);
  const { ngf } = o;
  // 0 pad, 1 conv, 2 norm, 3 relu; then two downsamplings of (conv, norm, relu)
  m.conv('model.1', o.input_nc, ngf, 7, bias);
  m.norm('model.2', ngf, o.norm);
  m.conv('model.4', ngf, ngf * 2, 3, bias);
  m.norm('model.5', ngf * 2, o.norm);
  m.conv('model.7', ngf * 2, ngf * 4, 3, bias);
  m.norm('model.8', ngf * 4, o.norm);
  // each ResnetBlock: conv_block = pad, conv, norm, relu, [dropout], pad, conv, norm
  const second = o.use_dropout ? 6 : 5;
  for (let b = 0; b < n_blocks; b++) {
    const p = `model.${10 + b}.conv_block`;
    m.conv(`${p}.1`, ngf * 4, ngf * 4, 3, bias);
    m.norm(`${p}.2`, ngf * 4, o.norm);
    m.conv(`${p}.${second}`, ngf * 4, ngf * 4, 3, bias);
    m.norm(`${p}.${second + 1}`, ngf * 4, o.norm);
  }
  const j = 10 + n_blocks;
  m.convT(`model.${j}`, ngf * 4, ngf * 2, 3, bias);
  m.norm(`model.${j + 1}`, ngf * 2, o.norm);
  m.convT(`model.${j + 3}`, ngf * 2, ngf, 3, bias);
  m.norm(`model.${j + 4}`, ngf, o.norm);
  // j+6 pad, j+7 the last conv (always biased), j+8 tanh
  m.conv(`model.${j + 7}`, ngf, o.output_nc, 7, true);
  return m.list;
}

/** `UnetGenerator`: nested `UnetSkipConnectionBlock`s, each an `nn.Sequential` named `model`. */
function unetModules(o: GeneratorOptions, num_downs: number): RefModule[] {
  const m = new Modules();
  const bias = useBias(o.norm);
  const { ngf } = o;
  // (outer_nc, inner_nc) from the outermost level inwards
  const levels: [number, number][] = [
    [o.output_nc, ngf],
    [ngf, ngf * 2],
    [ngf * 2, ngf * 4],
    [ngf * 4, ngf * 8],
    ...Array.from({ length: num_downs - 5 }, (): [number, number] => [ngf * 8, ngf * 8]),
    [ngf * 8, ngf * 8],
  ];
  const level = (i: number, p: string) => {
    const [outer, inner] = levels[i];
    if (i === 0) {
      // outermost: 0 downconv, 1 submodule, 2 uprelu, 3 upconv (biased), 4 tanh
      m.conv(`${p}.0`, o.input_nc, inner, 4, bias);
      level(1, `${p}.1.model`);
      m.convT(`${p}.3`, inner * 2, outer, 4, true);
    } else if (i === levels.length - 1) {
      // innermost: 0 downrelu, 1 downconv, 2 uprelu, 3 upconv, 4 upnorm
      m.conv(`${p}.1`, outer, inner, 4, bias);
      m.convT(`${p}.3`, inner, outer, 4, bias);
      m.norm(`${p}.4`, outer, o.norm);
    } else {
      // 0 downrelu, 1 downconv, 2 downnorm, 3 submodule, 4 uprelu, 5 upconv, 6 upnorm, [7 dropout]
      m.conv(`${p}.1`, outer, inner, 4, bias);
      m.norm(`${p}.2`, inner, o.norm);
      level(i + 1, `${p}.3.model`);
      m.convT(`${p}.5`, inner * 2, outer, 4, bias);
      m.norm(`${p}.6`, outer, o.norm);
    }
  };
  level(0, 'model.model');
  return m.list;
}

/** `define_D`'s network for these options, as state-dict modules. */
export function discriminatorModules(o: DiscriminatorOptions): RefModule[] {
  const m = new Modules();
  const bias = useBias(o.norm);
  if (o.netD === 'pixel') {
    // `net`: 0 conv (biased), 1 lrelu, 2 conv, 3 norm, 4 lrelu, 5 conv
    m.conv('net.0', o.input_nc, o.ndf, 1, true);
    m.conv('net.2', o.ndf, o.ndf * 2, 1, bias);
    m.norm('net.3', o.ndf * 2, o.norm);
    m.conv('net.5', o.ndf * 2, 1, 1, bias);
    return m.list;
  }
  const n_layers = o.netD === 'basic' ? 3 : o.n_layers_D;
  // `model`: conv (biased), lrelu; then per layer (conv, norm, lrelu); then the last conv (biased)
  m.conv('model.0', o.input_nc, o.ndf, 4, true);
  let i = 2;
  let nf_prev = 1;
  for (let n = 1; n <= n_layers; n++) {
    const nf_mult = Math.min(2 ** n, 8);
    m.conv(`model.${i}`, o.ndf * nf_prev, o.ndf * nf_mult, 4, bias);
    m.norm(`model.${i + 1}`, o.ndf * nf_mult, o.norm);
    i += 3;
    nf_prev = nf_mult;
  }
  m.conv(`model.${i}`, o.ndf * nf_prev, 1, 4, true);
  return m.list;
}

/** The state-dict keys of these modules with their shapes, in `state_dict()` order. */
export function referenceKeys(modules: readonly RefModule[]): RefKey[] {
  return modules.flatMap((mod): RefKey[] => {
    const { prefix: p, inC, outC, k } = mod;
    switch (mod.kind) {
      case 'conv':
        return [{ key: `${p}.weight`, shape: [outC, inC, k, k] }, ...(mod.bias ? [{ key: `${p}.bias`, shape: [outC] }] : [])];
      case 'convT':
        return [{ key: `${p}.weight`, shape: [inC, outC, k, k] }, ...(mod.bias ? [{ key: `${p}.bias`, shape: [outC] }] : [])];
      case 'batch':
        return [
          { key: `${p}.weight`, shape: [outC] },
          { key: `${p}.bias`, shape: [outC] },
          { key: `${p}.running_mean`, shape: [outC] },
          { key: `${p}.running_var`, shape: [outC] },
          { key: `${p}.num_batches_tracked`, shape: [] },
        ];
      case 'instance':
        return [];
    }
  });
}

/** Parameters as `net.parameters()` counts them (no running statistics). */
export function referenceParams(modules: readonly RefModule[]): number {
  return referenceKeys(modules)
    .filter((k) => !/running_|num_batches/.test(k.key))
    .reduce((n, k) => n + k.shape.reduce((a, b) => a * b, 1), 0);
}

/** The networks of a run by our names (`netG_A`…), as the reference's `model_names` (`G_A`…) build them. */
export function runModules(t: TrainConfig): Record<string, RefModule[]> {
  const g = (input_nc: number, output_nc: number) =>
    generatorModules({ input_nc, output_nc, ngf: t.ngf, netG: t.netG, norm: t.norm, use_dropout: !t.no_dropout });
  const d = (input_nc: number) => discriminatorModules({ input_nc, ndf: t.ndf, netD: t.netD, n_layers_D: t.n_layers_D, norm: t.norm });
  if (t.model === 'pix2pix') return { netG: g(t.input_nc, t.output_nc), netD: d(t.input_nc + t.output_nc) };
  return { netG_A: g(t.input_nc, t.output_nc), netG_B: g(t.output_nc, t.input_nc), netD_A: d(t.output_nc), netD_B: d(t.input_nc) };
}
