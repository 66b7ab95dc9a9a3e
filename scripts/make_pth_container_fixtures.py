"""Writes the small real .pth files the reader's tests use, and a JSON of what each holds.

Run with a Python that has torch (the tests never need it):
    /usr/bin/python3 scripts/make_pth_container_fixtures.py
Or check a .pth our writer made against a JSON of its values:
    /usr/bin/python3 scripts/make_pth_container_fixtures.py --check file.pth expected.json
"""
import json
import os
import sys
from collections import OrderedDict

import torch

OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'interop', 'fixtures', 'containers')
DTYPES = {torch.float32: 'float32', torch.float64: 'float64', torch.float16: 'float16', torch.bfloat16: 'bfloat16',
          torch.int64: 'int64', torch.int32: 'int32', torch.int16: 'int16', torch.int8: 'int8', torch.uint8: 'uint8',
          torch.bool: 'bool'}


def describe(sd):
    """Each tensor's dtype, shape and values (row-major), as the reader must return them."""
    out = OrderedDict()
    for key, t in sd.items():
        values = t.contiguous().reshape(-1)
        values = values.int() if t.dtype == torch.bool else values
        values = values.float() if t.dtype == torch.bfloat16 else values
        out[key] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'values': values.tolist()}
    return out


def tiny_net():
    """A conv, a batch norm (running stats, an int64 num_batches_tracked scalar) and a transposed conv, seeded."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ConvTranspose2d(2, 1, 2))
    with torch.no_grad():
        net[1].running_mean.uniform_()
        net[1].running_var.uniform_(0.5, 1.5)
        net[1].num_batches_tracked.fill_(7)
    return net.state_dict()


def views():
    """Views that share one storage: torch saves the whole storage, with each view's offset and stride."""
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    return OrderedDict([('column', base[:, 1]), ('transposed', base.t()), ('offset_rows', base[1:]),
                        ('scalar_view', base[2, 3])])


def dtypes():
    """One tensor of each dtype the reader supports (values exact in each)."""
    return OrderedDict([
        ('f64', torch.tensor([[1.5, -2.25], [3e-300, 1e300]], dtype=torch.float64)),
        ('f16', torch.tensor([0.5, -65504.0, 6.1035e-05, 1.0009765625], dtype=torch.float16)),
        ('bf16', torch.tensor([1.0, -3.5, 1024.0], dtype=torch.bfloat16)),
        ('i64', torch.tensor([-(2 ** 40), 3, 2 ** 52], dtype=torch.int64)),
        ('i32', torch.tensor([-7, 2 ** 30], dtype=torch.int32)),
        ('i16', torch.tensor([-300, 300], dtype=torch.int16)),
        ('i8', torch.tensor([-128, 127], dtype=torch.int8)),
        ('u8', torch.tensor([0, 255], dtype=torch.uint8)),
        ('flags', torch.tensor([True, False, True])),
        ('count', torch.tensor(42, dtype=torch.int64)),
    ])


def prefixed():
    """DataParallel's keys: every key starts with 'module.'."""
    return OrderedDict(('module.' + k, v) for k, v in tiny_net().items())


def save(name, obj, legacy=False):
    path = os.path.join(OUT, name)
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return path


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = OrderedDict()
    for name, sd, legacy in [('tiny_zip.pth', tiny_net(), False), ('tiny_legacy.pth', tiny_net(), True),
                             ('views_zip.pth', views(), False), ('views_legacy.pth', views(), True),
                             ('dtypes_zip.pth', dtypes(), False), ('dtypes_legacy.pth', dtypes(), True),
                             ('module_prefixed.pth', prefixed(), False)]:
        save(name, sd, legacy)
        expected[name] = describe(sd)
    # A training checkpoint that wraps the state dict: the reader unwraps 'state_dict'
    save('wrapped_state_dict.pth', {'epoch': 3, 'state_dict': tiny_net()})
    expected['wrapped_state_dict.pth'] = describe(tiny_net())
    # Not a state dict at all: a list of tensors
    save('list_of_tensors.pth', [torch.zeros(2)])
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)), 'bytes')


def check(path, expected_json):
    """Loads a .pth with torch's safe loader and compares every tensor with the JSON."""
    sd = torch.load(path, weights_only=True)
    with open(expected_json) as f:
        expected = json.load(f)
    assert list(sd.keys()) == list(expected.keys()), (list(sd.keys()), list(expected.keys()))
    for key, want in expected.items():
        got = describe({key: sd[key]})[key]
        assert got == want, (key, got, want)
    print(f'{path}: torch {torch.__version__} loaded {len(sd)} tensors with weights_only=True; all equal')


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == '--check':
        check(sys.argv[2], sys.argv[3])
    else:
        main()
