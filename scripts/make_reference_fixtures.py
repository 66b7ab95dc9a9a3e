"""Makes the reference-network fixtures of src/interop/fixtures/nets/ with real PyTorch (1.13 here).

The networks below are written from the reference's definitions (junyanz/pytorch-CycleGAN-and-pix2pix,
models/networks.py): the same nn.Sequential layouts, so state_dict() gives the reference's keys. Tests never need
Python; rerun with `/usr/bin/python3 scripts/make_reference_fixtures.py` to remake the files.
"""
import collections
import functools
import json
import os

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'interop', 'fixtures', 'nets')


def norm_layer_of(norm, old_instance=False):
    if norm == 'batch':
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if norm == 'instance':
        # before PyTorch 0.4 InstanceNorm2d tracked running statistics: old checkpoints carry them
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=old_instance)
    return lambda c: nn.Identity()


class ResnetBlock(nn.Module):
    def __init__(self, dim, norm_layer, use_dropout, use_bias):
        super().__init__()
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=use_bias), norm_layer(dim), nn.ReLU(True)]
        if use_dropout:
            layers += [nn.Dropout(0.5)]
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=use_bias), norm_layer(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, ngf, norm, use_dropout, n_blocks, old_instance=False):
        super().__init__()
        nl = norm_layer_of(norm, old_instance)
        b = norm == 'instance'
        m = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, bias=b), nl(ngf), nn.ReLU(True)]
        for i in range(2):
            c = ngf * 2 ** i
            m += [nn.Conv2d(c, c * 2, 3, stride=2, padding=1, bias=b), nl(c * 2), nn.ReLU(True)]
        for _ in range(n_blocks):
            m += [ResnetBlock(ngf * 4, nl, use_dropout, b)]
        for i in range(2):
            c = ngf * 2 ** (2 - i)
            m += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=b), nl(c // 2), nn.ReLU(True)]
        m += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*m)

    def forward(self, x):
        return self.model(x)


class UnetBlock(nn.Module):
    def __init__(self, outer_nc, inner_nc, input_nc=None, sub=None, outermost=False, innermost=False, nl=None, b=False, use_dropout=False):
        super().__init__()
        self.outermost = outermost
        input_nc = input_nc or outer_nc
        downconv = nn.Conv2d(input_nc, inner_nc, 4, stride=2, padding=1, bias=b)
        if outermost:
            m = [downconv, sub, nn.ReLU(True), nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1), nn.Tanh()]
        elif innermost:
            m = [nn.LeakyReLU(0.2, True), downconv, nn.ReLU(True), nn.ConvTranspose2d(inner_nc, outer_nc, 4, stride=2, padding=1, bias=b), nl(outer_nc)]
        else:
            m = [nn.LeakyReLU(0.2, True), downconv, nl(inner_nc), sub, nn.ReLU(True),
                 nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1, bias=b), nl(outer_nc)]
            if use_dropout:
                m += [nn.Dropout(0.5)]
        self.model = nn.Sequential(*m)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, num_downs, ngf, norm, use_dropout):
        super().__init__()
        nl = norm_layer_of(norm)
        b = norm == 'instance'
        u = UnetBlock(ngf * 8, ngf * 8, innermost=True, nl=nl, b=b)
        for _ in range(num_downs - 5):
            u = UnetBlock(ngf * 8, ngf * 8, sub=u, nl=nl, b=b, use_dropout=use_dropout)
        u = UnetBlock(ngf * 4, ngf * 8, sub=u, nl=nl, b=b)
        u = UnetBlock(ngf * 2, ngf * 4, sub=u, nl=nl, b=b)
        u = UnetBlock(ngf, ngf * 2, sub=u, nl=nl, b=b)
        self.model = UnetBlock(output_nc, ngf, input_nc=input_nc, sub=u, outermost=True, nl=nl, b=b)

    def forward(self, x):
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf, n_layers, norm):
        super().__init__()
        nl = norm_layer_of(norm)
        b = norm == 'instance'
        s = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        prev = 1
        for n in range(1, n_layers + 1):
            mult = min(2 ** n, 8)
            s += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=2 if n < n_layers else 1, padding=1, bias=b), nl(ndf * mult), nn.LeakyReLU(0.2, True)]
            prev = mult
        s += [nn.Conv2d(ndf * prev, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*s)

    def forward(self, x):
        return self.model(x)


class PixelDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf, norm):
        super().__init__()
        nl = norm_layer_of(norm)
        b = norm == 'instance'
        self.net = nn.Sequential(nn.Conv2d(input_nc, ndf, 1), nn.LeakyReLU(0.2, True), nn.Conv2d(ndf, ndf * 2, 1, bias=b),
                                 nl(ndf * 2), nn.LeakyReLU(0.2, True), nn.Conv2d(ndf * 2, 1, 1, bias=b))

    def forward(self, x):
        return self.net(x)


def make_G(netG, ngf, norm, use_dropout, input_nc=3, output_nc=3, old_instance=False):
    if netG.startswith('resnet'):
        return ResnetGenerator(input_nc, output_nc, ngf, norm, use_dropout, int(netG[7]), old_instance)
    return UnetGenerator(input_nc, output_nc, {'unet_128': 7, 'unet_256': 8}[netG], ngf, norm, use_dropout)


def make_D(netD, ndf, norm, input_nc=3, n_layers=3):
    if netD == 'pixel':
        return PixelDiscriminator(input_nc, ndf, norm)
    return NLayerDiscriminator(input_nc, ndf, 3 if netD == 'basic' else n_layers, norm)


def params(net):
    return sum(p.numel() for p in net.parameters())


def keys_fixture():
    """Every option's state-dict keys and shapes at the reference's full size."""
    out = {}
    for netG in ['resnet_9blocks', 'resnet_6blocks', 'unet_256', 'unet_128']:
        for norm in ['instance', 'batch', 'none']:
            for dropout in [False, True]:
                net = make_G(netG, 64, norm, dropout)
                out[f'G {netG} {norm} {"dropout" if dropout else "no_dropout"}'] = {
                    'params': params(net), 'keys': [[k, list(v.shape)] for k, v in net.state_dict().items()]}
    for netD, n_layers, input_nc in [('basic', 3, 3), ('basic', 3, 6), ('n_layers', 2, 3), ('n_layers', 5, 3), ('pixel', 3, 3)]:
        for norm in ['instance', 'batch', 'none']:
            net = make_D(netD, 64, norm, input_nc, n_layers)
            out[f'D {netD} {n_layers} {input_nc} {norm}'] = {
                'params': params(net), 'keys': [[k, list(v.shape)] for k, v in net.state_dict().items()]}
    with open(os.path.join(OUT, 'reference-keys.json'), 'w') as f:
        json.dump(out, f, separators=(',', ':'))


def randomize(net, seed):
    """Weights and batch-norm statistics away from their init, so every tensor's layout is tested."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if t.dtype.is_floating_point:
                v = torch.randn(t.shape, generator=g) * 0.2
                t.copy_(v.abs() + 0.5 if name.endswith('running_var') else v)
            elif name.endswith('num_batches_tracked'):
                t.fill_(7)


def save(sd, name, legacy=False):
    torch.save(sd, os.path.join(OUT, name), _use_new_zipfile_serialization=not legacy)


def tiny_fixtures():
    """Tiny networks (ngf 4) with the output PyTorch gives on a fixed input, in eval mode."""
    cases = [
        # file, builder, input size, format, state-dict transform
        ('resnet_9blocks_instance_dropout_G.pth', lambda: make_G('resnet_9blocks', 4, 'instance', True), 16, False, None),
        ('resnet_6blocks_batch_G_legacy.pth', lambda: make_G('resnet_6blocks', 4, 'batch', False), 12, True, None),
        ('resnet_6blocks_none_G.pth', lambda: make_G('resnet_6blocks', 4, 'none', False, 3, 1), 8, False, None),
        ('unet_128_batch_G_legacy.pth', lambda: make_G('unet_128', 4, 'batch', True), 128, True, None),
        ('unet_256_instance_G.pth', lambda: make_G('unet_256', 2, 'instance', False, 1, 3), 256, False, None),
        ('old_instance_norm_G.pth', lambda: make_G('resnet_6blocks', 4, 'instance', False, old_instance=True), 8, True, None),
        ('dataparallel_G.pth', lambda: make_G('resnet_6blocks', 4, 'instance', False), 8, False, 'module'),
        ('basic_instance_D.pth', lambda: make_D('basic', 4, 'instance', 6), 32, False, None),
        ('n_layers_2_batch_D_legacy.pth', lambda: make_D('n_layers', 4, 'batch', 3, 2), 16, True, None),
        ('pixel_none_D.pth', lambda: make_D('pixel', 4, 'none', 3), 8, False, None),
    ]
    index = {}
    for i, (name, build, size, legacy, transform) in enumerate(cases):
        torch.manual_seed(100 + i)
        net = build()
        randomize(net, 200 + i)
        net.eval()
        in_nc = next(iter(net.state_dict().values())).shape[1]
        x = torch.rand(1, in_nc, size, size, generator=torch.Generator().manual_seed(300 + i)) * 2 - 1
        sd = net.state_dict()
        if name.startswith('old_instance'):
            # the reference deletes an old InstanceNorm's running statistics on load: its output uses each image's own
            net = make_G('resnet_6blocks', 4, 'instance', False)
            net.load_state_dict({k: v for k, v in sd.items() if k in net.state_dict()})
            net.eval()
        with torch.no_grad():
            y = net(x)
        if transform == 'module':
            sd = collections.OrderedDict(('module.' + k, v) for k, v in sd.items())
        save(sd, name, legacy)
        stem = name[:-4]
        x.numpy().astype('<f4').tofile(os.path.join(OUT, f'{stem}.input.bin'))
        y.numpy().astype('<f4').tofile(os.path.join(OUT, f'{stem}.output.bin'))
        index[name] = {'input': list(x.shape), 'output': list(y.shape), 'legacy': legacy}
    with open(os.path.join(OUT, 'tiny.json'), 'w') as f:
        json.dump(index, f, indent=1)


def cycle_gan_run():
    """A tiny CycleGAN run as the reference leaves it: checkpoints/tiny_cyclegan/ with four nets and train_opt.txt."""
    d = os.path.join(OUT, 'tiny_cyclegan')
    os.makedirs(d, exist_ok=True)
    for i, name in enumerate(['G_A', 'G_B', 'D_A', 'D_B']):
        torch.manual_seed(500 + i)
        net = make_G('resnet_6blocks', 4, 'instance', False) if name[0] == 'G' else make_D('basic', 4, 'instance', 3)
        randomize(net, 600 + i)
        save(net.state_dict(), os.path.join('tiny_cyclegan', f'3_net_{name}.pth'))
    # train_opt.txt as the reference's print_options writes it: sorted, '{:>25}: {:<30}{}', defaults noted
    opts = dict(batch_size=1, beta1=0.5, checkpoints_dir='./checkpoints', continue_train=False, crop_size=16, dataroot='./datasets/tiny',
                dataset_mode='unaligned', direction='AtoB', display_env='main', display_freq=400, display_id=1, display_ncols=4,
                display_port=8097, display_server='http://localhost', display_winsize=256, epoch='latest', epoch_count=1,
                gan_mode='lsgan', gpu_ids='0', init_gain=0.02, init_type='normal', input_nc=3, isTrain=True, lambda_A=10.0,
                lambda_B=10.0, lambda_identity=0.5, load_iter=0, load_size=16, lr=0.0002, lr_decay_iters=50, lr_policy='linear',
                max_dataset_size=float('inf'), model='cycle_gan', n_epochs=5, n_epochs_decay=5, n_layers_D=3, name='tiny_cyclegan',
                ndf=4, netD='basic', netG='resnet_6blocks', ngf=4, no_dropout=True, no_flip=False, no_html=False, norm='instance',
                num_threads=4, output_nc=3, phase='train', pool_size=50, preprocess='resize_and_crop', print_freq=100,
                save_by_iter=False, save_epoch_freq=5, save_latest_freq=5000, serial_batches=False, suffix='', update_html_freq=1000,
                use_wandb=False, verbose=False)
    defaults = dict(crop_size=256, dataroot=None, load_size=286, n_epochs=100, n_epochs_decay=100, name='experiment_name', ndf=64,
                    netG='resnet_9blocks', ngf=64)
    lines = ['----------------- Options ---------------']
    for k, v in sorted(opts.items()):
        comment = '\t[default: %s]' % str(defaults[k]) if k in defaults and v != defaults[k] else ''
        lines.append('{:>25}: {:<30}{}'.format(str(k), str(v), comment))
    lines.append('----------------- End -------------------')
    with open(os.path.join(d, 'train_opt.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    keys_fixture()
    tiny_fixtures()
    cycle_gan_run()
    print('torch', torch.__version__, 'wrote', sorted(os.listdir(OUT)))
