import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { PickleWriter, unpickle } from './pickle';
import { readPth, writePth } from './pth';
import { float32Of, float32Tensor, int64Scalar, type StateDict, type TorchTensor } from './stateDict';
import { storedZip } from './storedZip';

const DIR = join(__dirname, 'fixtures', 'containers');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, name)));
type Expected = Record<string, Record<string, { dtype: string; shape: number[]; values: number[] }>>;
const EXPECTED = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Expected;
const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

/** A tensor's values at full precision (float64 and int64 too). */
function valuesOf(t: TorchTensor): number[] {
  const b = t.bytes.slice().buffer;
  if (t.dtype === 'float64') return Array.from(new Float64Array(b));
  if (t.dtype === 'int64') return Array.from(new BigInt64Array(b), Number);
  return Array.from(float32Of(t));
}

/** Rebuilds a torch zip without or with changed entries. */
function rezip(bytes: Uint8Array, change: (files: Record<string, Uint8Array>) => void): Uint8Array {
  const files = unzipSync(bytes);
  change(files);
  return storedZip(Object.entries(files));
}

describe('readPth reads what real torch.save (1.13) wrote', () => {
  it.each(Object.keys(EXPECTED))('%s: keys in file order, dtypes, shapes and values', (name) => {
    const sd = readPth(fixture(name), name);
    const want = EXPECTED[name];
    expect([...sd.keys()]).toEqual(Object.keys(want));
    for (const [key, w] of Object.entries(want)) {
      const t = sd.get(key)!;
      expect({ key, dtype: t.dtype, shape: t.shape }).toEqual({ key, dtype: w.dtype, shape: w.shape });
      expect(valuesOf(t)).toEqual(w.values);
    }
  });

  it("views of one storage (a column, a transpose, rows at an offset, a scalar) come out contiguous, in both formats", () => {
    for (const name of ['views_zip.pth', 'views_legacy.pth']) {
      const sd = readPth(fixture(name), name);
      expect(valuesOf(sd.get('column')!)).toEqual([1, 5, 9]);
      expect(valuesOf(sd.get('transposed')!)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
      expect(sd.get('offset_rows')!.shape).toEqual([2, 4]);
      expect(valuesOf(sd.get('offset_rows')!)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
      expect(sd.get('scalar_view')).toMatchObject({ shape: [], dtype: 'float32' });
      expect(valuesOf(sd.get('scalar_view')!)).toEqual([11]);
    }
  });

  it("keeps DataParallel's module. prefix as is, and BatchNorm's num_batches_tracked as an int64 scalar", () => {
    const sd = readPth(fixture('module_prefixed.pth'), 'module_prefixed.pth');
    expect([...sd.keys()][0]).toBe('module.0.weight');
    expect(sd.get('module.1.num_batches_tracked')).toMatchObject({ dtype: 'int64', shape: [] });
    expect(valuesOf(sd.get('module.1.num_batches_tracked')!)).toEqual([7]);
  });

  it("a legacy file from a big-endian machine (little_endian False) is read with each element's bytes swapped", () => {
    const bytes = fixture('tiny_legacy.pth');
    const at = Buffer.from(bytes).indexOf('little_endian') + 'little_endian'.length;
    expect([bytes[at], bytes[at + 2]]).toEqual([0x71, 0x88]); // BINPUT n, NEWTRUE
    const flipped = bytes.slice();
    flipped[at + 2] = 0x89;
    const le = readPth(bytes, 'a.pth').get('0.weight')!;
    const be = readPth(flipped, 'a.pth').get('0.weight')!;
    expect(be.bytes.subarray(0, 4)).toEqual(le.bytes.slice(0, 4).reverse());
  });
});

describe('writePth writes what torch.save(state_dict) writes', () => {
  it('round trip: float32 and an int64 scalar come back bit-identical, keys in order', () => {
    const weights = Float32Array.from([1.5, -0, NaN, 3e-39, Infinity, -7.25]);
    const sd: StateDict = new Map([
      ['model.1.weight', float32Tensor([2, 3], weights)],
      ['model.2.num_batches_tracked', int64Scalar(123456789)],
      ['empty', float32Tensor([0, 4], new Float32Array(0))],
    ]);
    const back = readPth(writePth(sd, 'latest_net_G'), 'latest_net_G.pth');
    expect([...back.keys()]).toEqual([...sd.keys()]);
    for (const [key, t] of sd) expect(back.get(key)).toEqual(t);
  });

  it.each(['dtypes_zip.pth', 'module_prefixed.pth'])("%s: data.pkl and every storage byte-identical to torch's own", (name) => {
    const theirs = unzipSync(fixture(name));
    const ours = unzipSync(writePth(readPth(fixture(name), name), name.replace('.pth', '')));
    for (const [entry, data] of Object.entries(theirs)) expect({ entry, data: ours[entry] }).toEqual({ entry, data });
  });

  it("lays the zip out as torch does: stored entries, data aligned to 64 bytes, version 3, byteorder little, storages in key order", () => {
    const sd: StateDict = new Map(Array.from({ length: 12 }, (_, i) => [`w${i}`, float32Tensor([i + 1], new Float32Array(i + 1).fill(i))]));
    const bytes = writePth(sd, 'latest_net_D');
    const names: string[] = [];
    const view = new DataView(bytes.buffer);
    for (let at = 0; view.getUint32(at, true) === 0x04034b50; ) {
      const nameLength = view.getUint16(at + 26, true);
      const extra = view.getUint16(at + 28, true);
      expect(view.getUint16(at + 8, true)).toBe(0); // stored, not deflated
      names.push(strFromU8(bytes.subarray(at + 30, at + 30 + nameLength)));
      const data = at + 30 + nameLength + extra;
      expect(data % 64).toBe(0);
      at = data + view.getUint32(at + 18, true);
    }
    const storages = ['0', '1', '10', '11', '2', '3', '4', '5', '6', '7', '8', '9'].map((k) => `latest_net_D/data/${k}`);
    expect(names).toEqual(['latest_net_D/data.pkl', 'latest_net_D/byteorder', ...storages, 'latest_net_D/version']);
    const files = unzipSync(bytes);
    expect(strFromU8(files['latest_net_D/version'])).toBe('3\n');
    expect(strFromU8(files['latest_net_D/byteorder'])).toBe('little');
    expect(valuesOf(readPth(bytes, 'x.pth').get('w10')!)).toEqual(new Array(11).fill(10));
  });
});

describe('readPth refuses bad files with a message that names the file and the fix', () => {
  // PROTO 2, GLOBAL 'os\nsystem\n', BINUNICODE 'echo pwned', TUPLE1, REDUCE, STOP
  const evil = Uint8Array.from([0x80, 2, 0x63, ...ascii('os\nsystem\n'), 0x58, 10, 0, 0, 0, ...ascii('echo pwned'), 0x85, 0x52, 0x2e]);
  const refusal = 'is not a plain state dict: it names the Python global os.system, which a checkpoint never needs (refused; nothing in the file was run)';

  it('a malicious legacy-style pickle (GLOBAL os system + REDUCE)', () => {
    // torch's own magic, protocol and sys_info pickles, then the evil object pickle
    const real = fixture('tiny_legacy.pth');
    const opts = { fileName: 'x', persistentLoad: () => null, rebuild: () => null };
    let headerEnd = 0;
    for (let i = 0; i < 3; i++) headerEnd = unpickle(real, headerEnd, opts).end;
    const legacy = Uint8Array.from([...real.subarray(0, headerEnd), ...evil]);
    expect(() => readPth(legacy, 'latest_net_G.pth')).toThrow(`latest_net_G.pth ${refusal}`);
  });

  it('the same pickle as data.pkl in a zip', () => {
    const zip = storedZip([['archive/data.pkl', evil], ['archive/version', Uint8Array.from(ascii('3\n'))]]);
    expect(() => readPth(zip, 'latest_net_G.pth')).toThrow(`latest_net_G.pth ${refusal}`);
  });

  it('a negative string length (which would loop) and tensors that would unpack to gigabytes', () => {
    expect(() => readPth(Uint8Array.from([0x80, 2, 0x54, 0xfb, 0xff, 0xff, 0xff, 0x2e]), 'loop.pth')).toThrow('loop.pth is not a readable checkpoint: a string has a length of -5');
    // one float, seen through a 100000×100000 view of stride 0
    const w = new PickleWriter();
    w.op(0x80, 2).global('collections', 'OrderedDict').op(0x29, 0x52, 0x28);
    w.str('w').global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    w.op(0x28).interned('storage').global('torch', 'FloatStorage').str('0').interned('cpu').int(1).op(0x74, 0x51);
    w.int(0).intTuple([100000, 100000]).intTuple([0, 0]).op(0x89).global('collections', 'OrderedDict').op(0x29, 0x52, 0x74, 0x52, 0x75, 0x2e);
    const zip = storedZip([['a/data.pkl', w.bytes()], ['a/data/0', new Uint8Array(4)]]);
    expect(() => readPth(zip, 'bomb.pth')).toThrow('bomb.pth is not a readable checkpoint: its tensors add up to more than the file could hold');
  });

  it('the same pickle alone, renamed .pth', () => {
    expect(() => readPth(evil, 'latest_net_G.pth')).toThrow(`latest_net_G.pth ${refusal}`);
    const harmless = Uint8Array.from([0x80, 2, 0x4b, 7, 0x2e]);
    expect(() => readPth(harmless, 'seven.pth')).toThrow('seven.pth is a bare Python pickle, not a file torch.save wrote');
  });

  it('builtins.eval through STACK_GLOBAL in a zip', () => {
    const short = (s: string) => [0x8c, s.length, ...ascii(s)];
    const pkl = Uint8Array.from([0x80, 4, ...short('builtins'), ...short('eval'), 0x93, ...short('1'), 0x85, 0x52, 0x2e]);
    expect(() => readPth(storedZip([['m/data.pkl', pkl]]), 'm.pth')).toThrow('m.pth is not a plain state dict: it names the Python global builtins.eval');
  });

  it('a zip cut short', () => {
    const bytes = fixture('tiny_zip.pth');
    expect(() => readPth(bytes.subarray(0, bytes.length >> 1), 'latest_net_G.pth')).toThrow(
      /^latest_net_G\.pth is cut short: its zip archive has no central directory .*; download it again$/,
    );
  });

  it('a legacy file cut inside a storage, and inside its pickle', () => {
    const bytes = fixture('tiny_legacy.pth');
    expect(() => readPth(bytes.subarray(0, bytes.length - 2), '5_net_G.pth')).toThrow(/^5_net_G\.pth is cut short: storage '\d+' needs \d+ bytes .*; download it again$/);
    expect(() => readPth(bytes.subarray(0, bytes.length - 5), '5_net_G.pth')).toThrow(/^5_net_G\.pth is cut short: storage '\d+' starts past the end of the file \(\d+ bytes\); download it again$/);
    expect(() => readPth(bytes.subarray(0, 200), '5_net_G.pth')).toThrow(/^5_net_G\.pth is cut short: .* runs past the end of the file \(200 bytes\); download it again$/);
  });

  it('a text file renamed .pth, and an empty file', () => {
    const text = Uint8Array.from(ascii('--name horse2zebra --model cycle_gan\n'));
    expect(() => readPth(text, 'opt.pth')).toThrow('opt.pth is not a PyTorch checkpoint (it is neither a zip archive nor a legacy torch.save file)');
    expect(() => readPth(new Uint8Array(0), 'latest_net_G.pth')).toThrow('latest_net_G.pth is empty (0 bytes): not a PyTorch checkpoint');
  });

  it('an old tar-format checkpoint: not supported, and how to re-save it', () => {
    const tar = new Uint8Array(1024);
    tar.set(ascii('storages'), 0);
    tar.set(ascii('ustar'), 257);
    expect(() => readPth(tar, 'old.pth')).toThrow(/^old\.pth is an old tar-format PyTorch checkpoint .* not supported: .*torch\.save\(torch\.load\(path\), path\)/);
  });

  it('a storage record missing from the zip, and one smaller than its tensor', () => {
    const bytes = fixture('tiny_zip.pth');
    const missing = rezip(bytes, (files) => delete files['tiny_zip/data/0']);
    expect(() => readPth(missing, 'tiny.pth')).toThrow("tiny.pth is damaged: tensor '0.weight' names storage record 0, which the file does not hold; download or save it again");
    const short = rezip(bytes, (files) => (files['tiny_zip/data/0'] = files['tiny_zip/data/0'].subarray(0, 40)));
    expect(() => readPth(short, 'tiny.pth')).toThrow("tiny.pth is damaged: tensor '0.weight' needs 18 elements of storage 0 but the file holds 10; download or save it again");
  });

  it('a checkpoint of something else: a list, or a dict of non-tensors', () => {
    expect(() => readPth(fixture('list_of_tensors.pth'), 'list.pth')).toThrow('list.pth holds a list, not a state dict of tensors');
    const epochOnly = writePth(new Map(), 'x');
    const files = unzipSync(epochOnly);
    // {'epoch': 3} in place of the empty OrderedDict
    files['x/data.pkl'] = Uint8Array.from([0x80, 2, 0x7d, 0x58, 5, 0, 0, 0, ...ascii('epoch'), 0x4b, 3, 0x73, 0x2e]);
    expect(() => readPth(storedZip(Object.entries(files)), 'ckpt.pth')).toThrow('ckpt.pth holds a dict whose entry "epoch" is an int, not a state dict of tensors');
  });
});
