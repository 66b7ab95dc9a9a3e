import { describe, expect, it, vi } from 'vitest';
import { PickleTruncated, PickleWriter, PyDict, PyGlobal, PyTuple, unpickle, type UnpickleOptions } from './pickle';

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const u32 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const binunicode = (s: string): number[] => [0x58, ...u32(s.length), ...ascii(s)];

/** Options whose hooks record whether they were ever called. */
function spies(): UnpickleOptions & { persistentLoad: ReturnType<typeof vi.fn>; rebuild: ReturnType<typeof vi.fn> } {
  return { fileName: 'latest_net_G.pth', persistentLoad: vi.fn(() => 'storage'), rebuild: vi.fn(() => 'tensor') };
}

const read = (bytes: number[], opts = spies()) => unpickle(Uint8Array.from(bytes), 0, opts).value;

describe('unpickle refuses every global a state dict does not need', () => {
  it('refuses os.system at its GLOBAL, before the REDUCE that would call it, naming it', () => {
    const opts = spies();
    // PROTO 2, GLOBAL 'os\nsystem\n', BINUNICODE 'echo pwned', TUPLE1, REDUCE, STOP
    const evil = [0x80, 2, 0x63, ...ascii('os\nsystem\n'), ...binunicode('echo pwned'), 0x85, 0x52, 0x2e];
    expect(() => read(evil, opts)).toThrow(
      'latest_net_G.pth is not a plain state dict: it names the Python global os.system, which a checkpoint never needs (refused; nothing in the file was run)',
    );
    expect(opts.rebuild).not.toHaveBeenCalled();
    expect(opts.persistentLoad).not.toHaveBeenCalled();
  });

  it.each(['posix.system', 'subprocess.Popen', 'builtins.exec', 'torch.load', 'collections.defaultdict'])('refuses %s', (full) => {
    const dot = full.lastIndexOf('.');
    const bytes = [0x80, 2, 0x63, ...ascii(`${full.slice(0, dot)}\n${full.slice(dot + 1)}\n`), 0x29, 0x52, 0x2e];
    expect(() => read(bytes)).toThrow(`it names the Python global ${full}, which a checkpoint never needs`);
  });

  it('refuses builtins.eval named through STACK_GLOBAL (protocol 4, with FRAME and MEMOIZE)', () => {
    const short = (s: string) => [0x8c, s.length, ...ascii(s)];
    const bytes = [0x80, 4, 0x95, ...u32(30), 0, 0, 0, 0, ...short('builtins'), 0x94, ...short('eval'), 0x94, 0x93, 0x94, ...short('1+1'), 0x85, 0x52, 0x2e];
    expect(() => read(bytes)).toThrow('it names the Python global builtins.eval, which a checkpoint never needs (refused; nothing in the file was run)');
  });

  it('names an opcode torch.save never writes, with its byte offset', () => {
    // INST 'os system' at byte 3 (after PROTO and MARK)
    expect(() => read([0x80, 2, 0x28, 0x69, ...ascii('os\nsystem\n'), 0x2e])).toThrow(
      'latest_net_G.pth is not a plain state dict: its pickle uses INST (0x69) at byte 3, which torch.save never writes for a state dict',
    );
  });

  it('passes allowed globals to our own rebuilders only, never calls a storage class', () => {
    const opts = spies();
    const v = read([0x80, 2, 0x63, ...ascii('torch._utils\n_rebuild_parameter\n'), 0x4e, 0x85, 0x52, 0x2e], opts);
    expect(v).toBe('tensor');
    expect(opts.rebuild).toHaveBeenCalledWith('torch._utils._rebuild_parameter', [null], 37); // REDUCE's offset: PROTO 2, GLOBAL 1 + 32, NONE, TUPLE1
    expect(() => read([0x80, 2, 0x63, ...ascii('torch\nFloatStorage\n'), 0x29, 0x52, 0x2e])).toThrow(
      'a call of torch.FloatStorage, which a state dict never makes at byte',
    );
  });
});

describe('unpickle guards against a malformed or cut pickle', () => {
  it('an empty stack: a clear error with the offset', () => {
    expect(() => read([0x80, 2, 0x52, 0x2e])).toThrow('latest_net_G.pth is not a readable checkpoint: a pickle opcode pops an empty stack at byte 2');
  });

  it('a memo key never stored', () => {
    expect(() => read([0x80, 2, 0x68, 9, 0x2e])).toThrow('a pickle reads memo entry 9, which was never stored at byte 2');
  });

  it('SETITEMS without a MARK', () => {
    expect(() => read([0x80, 2, 0x7d, 0x75, 0x2e])).toThrow('a pickle opcode needs a MARK that is not there at byte 3');
  });

  it('a string longer than the file is "cut short", not an allocation', () => {
    const bytes = [0x80, 2, 0x58, 0xff, 0xff, 0xff, 0xff, 0x61, 0x2e];
    expect(() => read(bytes)).toThrow(PickleTruncated);
    expect(() => read(bytes)).toThrow('latest_net_G.pth is cut short: a string of 4294967295 bytes at byte 2 runs past the end of the file (9 bytes); download it again');
  });

  it('a pickle without its STOP is cut short', () => {
    expect(() => read([0x80, 2, 0x4b, 1])).toThrow('latest_net_G.pth is cut short: the next opcode of 1 bytes at byte 4');
  });
});

describe('unpickle reads what torch.save writes', () => {
  it('dicts keep their order; lists, tuples, floats, bools, None, bytes and Python 2 strings', () => {
    const bytes = [
      0x80, 2, 0x7d, 0x71, 0, 0x28,
      ...binunicode('b'), 0x5d, 0x28, 0x88, 0x89, 0x4e, 0x65,
      ...binunicode('a'), 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, // 1.5, big-endian
      0x55, 3, ...ascii('key'), 0x43, 2, 7, 8,
      0x75, ...binunicode('t'), 0x4b, 1, 0x4b, 2, 0x86, 0x73, 0x2e,
    ];
    const v = read(bytes) as PyDict;
    expect(v).toBeInstanceOf(PyDict);
    expect([...v.entries.keys()]).toEqual(['b', 'a', 'key', 't']);
    expect(v.entries.get('b')).toEqual([true, false, null]);
    expect(v.entries.get('a')).toBe(1.5);
    expect(v.entries.get('key')).toEqual(Uint8Array.from([7, 8]));
    expect(v.entries.get('t')).toEqual(new PyTuple([1, 2]));
  });

  it("LONG1: torch's legacy magic number as a bigint, small longs as numbers", () => {
    const magic = [0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
    expect(read(magic)).toBe(0x1950a86a20f9469cfc6cn);
    expect(read([0x80, 2, 0x8a, 2, 0x00, 0xff, 0x2e])).toBe(-256);
  });

  it('an OrderedDict is made by our code from the allowed global, with _metadata kept apart by BUILD', () => {
    const bytes = [0x80, 2, 0x63, ...ascii('collections\nOrderedDict\n'), 0x29, 0x52, ...binunicode('k'), 0x4b, 5, 0x73, 0x7d, 0x62, 0x2e];
    const v = read(bytes) as PyDict;
    expect(v.ordered).toBe(true);
    expect([...v.entries]).toEqual([['k', 5]]);
    expect(v.attrs).toBeInstanceOf(PyDict);
  });
});

describe('PickleWriter', () => {
  it("writes ints as Python's protocol 2 does, and they read back", () => {
    const values = [0, 255, 256, 65535, 65536, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 40), 2 ** 53 - 1];
    const w = new PickleWriter().op(0x80, 2, 0x28);
    for (const v of values) w.int(v);
    const bytes = w.op(0x74, 0x2e).bytes();
    expect(bytes.subarray(3, 5)).toEqual(Uint8Array.from([0x4b, 0])); // BININT1 0
    expect(Array.from(bytes.subarray(7, 10))).toEqual([0x4d, 0, 1]); // BININT2 256
    expect((unpickle(bytes, 0, spies()).value as PyTuple).items).toEqual(values);
  });

  it('memoizes globals and interned strings once, then reads them with BINGET', () => {
    const w = new PickleWriter().op(0x80, 2, 0x28);
    w.global('torch', 'FloatStorage').interned('cpu').global('torch', 'FloatStorage').interned('cpu').str('x').intTuple([2, 3]).intTuple([]);
    const bytes = w.op(0x74, 0x2e).bytes();
    const text = new TextDecoder('latin1').decode(bytes);
    expect(text.split('FloatStorage').length - 1).toBe(1);
    expect(text.split('cpu').length - 1).toBe(1);
    const items = (unpickle(bytes, 0, spies()).value as PyTuple).items;
    expect(items[0]).toEqual(new PyGlobal('torch.FloatStorage'));
    expect(items[0]).toBe(items[2]);
    expect(items.slice(3)).toEqual(['cpu', 'x', new PyTuple([2, 3]), new PyTuple([])]);
  });
});
