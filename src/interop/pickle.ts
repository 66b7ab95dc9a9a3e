/** A restricted Python unpickler (it refuses every global a state dict does not need) and a small protocol-2 pickle writer. */

/** Storage classes `torch.save` names in persistent ids, with the dtype each holds. */
export const STORAGE_DTYPES = {
  'torch.FloatStorage': 'float32',
  'torch.DoubleStorage': 'float64',
  'torch.HalfStorage': 'float16',
  'torch.BFloat16Storage': 'bfloat16',
  'torch.LongStorage': 'int64',
  'torch.IntStorage': 'int32',
  'torch.ShortStorage': 'int16',
  'torch.CharStorage': 'int8',
  'torch.ByteStorage': 'uint8',
  'torch.BoolStorage': 'bool',
} as const;

/** The functions a state dict's pickle calls: the tensor rebuilders of `torch._utils`. */
export const REBUILDERS = ['torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor', 'torch._utils._rebuild_parameter'] as const;

/** A tensor rebuilder's name. */
export type Rebuilder = (typeof REBUILDERS)[number];

/** Every global a state dict may name: PyTorch's `weights_only` set, less what a state dict never holds. */
export type AllowedGlobal = 'collections.OrderedDict' | Rebuilder | keyof typeof STORAGE_DTYPES;

const ALLOWED = new Set<string>(['collections.OrderedDict', ...REBUILDERS, ...Object.keys(STORAGE_DTYPES)]);

/** An allowed Python global, by name only: nothing is ever looked up from the file. */
export class PyGlobal {
  constructor(readonly name: AllowedGlobal) {}
}

/** A Python tuple (lists are JS arrays). */
export class PyTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** Keys a Python dict from a checkpoint may have. */
export type PyKey = string | number | bigint | boolean | null;

/** A Python dict or OrderedDict, keys in insertion order. */
export class PyDict {
  readonly entries = new Map<PyKey, unknown>();
  /** What BUILD set on it (a state dict's `_metadata`), kept but unused. */
  attrs: unknown = undefined;
  constructor(readonly ordered: boolean) {}
}

/** Thrown when the pickle runs past the end of its bytes: the file was cut short. */
export class PickleTruncated extends Error {}

/** What the unpickler needs from its caller: the file's name for messages, and the two hooks into torch's formats. */
export interface UnpickleOptions {
  fileName: string;
  /** Resolves a BINPERSID id (torch's storage tuples). */
  persistentLoad: (pid: unknown, at: number) => unknown;
  /** Our own implementation of a tensor rebuilder, called by REDUCE. */
  rebuild: (fn: Rebuilder, args: readonly unknown[], at: number) => unknown;
}

// Opcode names, for messages about the ones we do not run.
const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS',
  0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/** Reads one pickle starting at `start`; returns its object and the offset just past its STOP. */
export function unpickle(bytes: Uint8Array, start: number, opts: UnpickleOptions): { value: unknown; end: number } {
  const file = opts.fileName;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let at = start;

  const fail = (what: string): Error => new Error(`${file} is not a readable checkpoint: ${what} at byte ${at}`);
  const need = (n: number, what: string): number => {
    // a negative length (BINSTRING's is signed) would move backwards and loop
    if (!Number.isSafeInteger(n) || n < 0) throw fail(`${what} has a length of ${n}`);
    if (n > bytes.length - pos) {
      throw new PickleTruncated(`${file} is cut short: ${what} of ${n} bytes at byte ${at} runs past the end of the file (${bytes.length} bytes); download it again`);
    }
    const p = pos;
    pos += n;
    return p;
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw fail('a pickle opcode pops an empty stack');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw fail('a pickle opcode reads an empty stack');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const outer = metastack.pop();
    if (!outer) throw fail('a pickle opcode needs a MARK that is not there');
    stack = outer;
    return items;
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) need(bytes.length - pos + 1, 'a GLOBAL name');
    const s = latin1.decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const global = (module: string, name: string): PyGlobal => {
    const full = `${module}.${name}`;
    if (!ALLOWED.has(full)) {
      throw new Error(`${file} is not a plain state dict: it names the Python global ${full}, which a checkpoint never needs (refused; nothing in the file was run)`);
    }
    return new PyGlobal(full as AllowedGlobal);
  };
  const setItems = (dict: unknown, items: unknown[]): void => {
    if (!(dict instanceof PyDict)) throw fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2) throw fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      if (k !== null && typeof k === 'object') throw fail('a dict key that is not a string or number');
      dict.entries.set(k as PyKey, items[i + 1]);
    }
  };
  const str = (n: number, what: string, decoder: TextDecoder): string => {
    const p = need(n, what);
    return decoder.decode(bytes.subarray(p, p + n));
  };
  const raw = (n: number, what: string): Uint8Array => {
    const p = need(n, what);
    return bytes.slice(p, p + n);
  };
  const u32 = (): number => view.getUint32(need(4, 'a length'), true);
  const u64 = (): number => Number(view.getBigUint64(need(8, 'a length'), true));

  for (;;) {
    at = pos;
    const op = bytes[need(1, 'the next opcode')];
    switch (op) {
      case 0x80: // PROTO
        need(1, 'a protocol number');
        break;
      case 0x95: // FRAME: framing only groups opcodes; its length is not needed
        need(8, 'a frame length');
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x63: { // GLOBAL
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw fail('STACK_GLOBAL with a name that is not a string');
        stack.push(global(module, name));
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        stack.push(opts.persistentLoad(pid, at));
        break;
      }
      case 0x52: { // REDUCE: only our own implementations of allowed globals run
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal) || !(args instanceof PyTuple)) throw fail('REDUCE on something that is not an allowed function');
        if (fn.name === 'collections.OrderedDict') {
          if (args.items.length) throw fail('OrderedDict called with arguments');
          stack.push(new PyDict(true));
        } else if ((REBUILDERS as readonly string[]).includes(fn.name)) {
          stack.push(opts.rebuild(fn.name as Rebuilder, args.items, at));
        } else {
          throw fail(`a call of ${fn.name}, which a state dict never makes`);
        }
        break;
      }
      case 0x62: { // BUILD: a state dict's _metadata, or a tensor's Python attributes (unused)
        const state = pop();
        const inst = top();
        if (inst instanceof PyDict) inst.attrs = state;
        else if (inst === null || typeof inst !== 'object' || inst instanceof PyGlobal || inst instanceof PyTuple || Array.isArray(inst)) {
          throw fail('BUILD on something that is not a dict or tensor');
        }
        break;
      }
      case 0x7d: stack.push(new PyDict(false)); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x74: { const items = popMark(); stack.push(new PyTuple(items)); break; } // TUPLE (popMark swaps the stack first)
      case 0x85: stack.push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); stack.push(new PyTuple([pop(), b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); stack.push(new PyTuple([pop(), b, c])); break; } // TUPLE3
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x61: { // APPEND
        const item = pop();
        const list = top();
        if (!Array.isArray(list)) throw fail('APPEND to something that is not a list');
        list.push(item);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw fail('APPENDS to something that is not a list');
        for (const item of items) list.push(item); // not push(...items): a huge spread overflows the call stack
        break;
      }
      case 0x71: memo.set(bytes[need(1, 'a memo key')], top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const key = op === 0x68 ? bytes[need(1, 'a memo key')] : u32();
        if (!memo.has(key)) throw fail(`a pickle reads memo entry ${key}, which was never stored`);
        stack.push(memo.get(key));
        break;
      }
      case 0x4a: stack.push(view.getInt32(need(4, 'an int'), true)); break; // BININT
      case 0x4b: stack.push(bytes[need(1, 'an int')]); break; // BININT1
      case 0x4d: stack.push(view.getUint16(need(2, 'an int'), true)); break; // BININT2
      case 0x8a: { // LONG1: little-endian two's complement
        const n = bytes[need(1, 'a long length')];
        const p = need(n, 'a long');
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[p + i]);
        if (n && bytes[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: stack.push(view.getFloat64(need(8, 'a float'), false)); break; // BINFLOAT (big-endian)
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x58: stack.push(str(u32(), 'a string', utf8)); break; // BINUNICODE
      case 0x8c: stack.push(str(bytes[need(1, 'a string length')], 'a string', utf8)); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(str(u64(), 'a string', utf8)); break; // BINUNICODE8
      // Python 2's byte strings: a legacy checkpoint's keys, read as text
      case 0x55: stack.push(str(bytes[need(1, 'a string length')], 'a string', latin1)); break; // SHORT_BINSTRING
      case 0x54: stack.push(str(view.getInt32(need(4, 'a length'), true), 'a string', latin1)); break; // BINSTRING
      case 0x43: stack.push(raw(bytes[need(1, 'a bytes length')], 'a bytes object')); break; // SHORT_BINBYTES
      case 0x42: stack.push(raw(u32(), 'a bytes object')); break; // BINBYTES
      case 0x8e: stack.push(raw(u64(), 'a bytes object')); break; // BINBYTES8
      default: {
        const name = OPCODE_NAMES[op] ?? 'an unknown opcode';
        throw new Error(`${file} is not a plain state dict: its pickle uses ${name} (0x${op.toString(16).padStart(2, '0')}) at byte ${at}, which torch.save never writes for a state dict; re-save it with torch.save(model.state_dict(), path)`);
      }
    }
  }
}

/** Writes protocol-2 pickle opcodes as Python's pickler does, memo entries included. */
export class PickleWriter {
  private buf = new Uint8Array(1024);
  private len = 0;
  private nextMemo = 0;
  private readonly named = new Map<string, number>();

  /** The pickle so far. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /** Raw bytes. */
  private put(...parts: (number | Uint8Array)[]): void {
    for (const p of parts) {
      const n = typeof p === 'number' ? 1 : p.length;
      if (this.len + n > this.buf.length) {
        const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
        grown.set(this.buf.subarray(0, this.len));
        this.buf = grown;
      }
      if (typeof p === 'number') this.buf[this.len] = p;
      else this.buf.set(p, this.len);
      this.len += n;
    }
  }

  /** One opcode (or several). */
  op(...codes: number[]): this {
    this.put(...codes);
    return this;
  }

  /** Stores the top of the stack in the next memo slot (BINPUT / LONG_BINPUT) and returns the slot. */
  memoize(): number {
    const i = this.nextMemo++;
    if (i < 256) this.put(0x71, i);
    else this.put(0x72, le32(i));
    return i;
  }

  /** Pushes a memoized value again (BINGET / LONG_BINGET). */
  get(i: number): this {
    if (i < 256) this.put(0x68, i);
    else this.put(0x6a, le32(i));
    return this;
  }

  /** Pushes something Python memoizes once and then reuses (a global, an interned string): `write` runs the first time only. */
  once(key: string, write: () => void): this {
    const slot = this.named.get(key);
    if (slot !== undefined) return this.get(slot);
    write();
    this.named.set(key, this.memoize());
    return this;
  }

  /** GLOBAL module\nname\n, memoized by name. */
  global(module: string, name: string): this {
    return this.once(`global:${module}.${name}`, () => this.put(0x63, ascii(`${module}\n${name}\n`)));
  }

  /** A str (BINUNICODE), memoized as Python does for a new string object. */
  str(s: string): this {
    this.unicode(s);
    this.memoize();
    return this;
  }

  /** A str Python pickles as one shared object ('storage', 'cpu'): written once, then BINGET. */
  interned(s: string): this {
    return this.once(`str:${s}`, () => this.unicode(s));
  }

  /** BINUNICODE without a memo entry. */
  private unicode(s: string): void {
    const b = new TextEncoder().encode(s);
    this.put(0x58, le32(b.length), b);
  }

  /** An int as Python's protocol 2 writes it. */
  int(n: number): this {
    if (!Number.isSafeInteger(n)) throw new Error(`${n} is not an integer a pickle can hold here`);
    if (n >= 0 && n < 256) this.put(0x4b, n);
    else if (n >= 0 && n < 65536) this.put(0x4d, n & 0xff, n >> 8);
    else if (n >= -(2 ** 31) && n < 2 ** 31) this.put(0x4a, le32(n));
    else this.put(...long1(BigInt(n)));
    return this;
  }

  /** A tuple of ints as Python writes it: EMPTY_TUPLE, TUPLE1-3, or MARK ... TUPLE, memoized unless empty. */
  intTuple(values: readonly number[]): this {
    if (values.length === 0) return this.op(0x29);
    if (values.length > 3) this.op(0x28);
    for (const v of values) this.int(v);
    this.op(values.length > 3 ? 0x74 : 0x84 + values.length);
    this.memoize();
    return this;
  }
}

/** A uint32 / int32, little-endian. */
function le32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n | 0, true);
  return b;
}

/** LONG1 with the fewest two's complement bytes, as Python's encode_long. */
function long1(v: bigint): number[] {
  const out: number[] = [];
  for (let x = v; ; x >>= 8n) {
    out.push(Number(x & 0xffn));
    const rest = x >> 8n;
    if ((rest === 0n && !(out[out.length - 1] & 0x80)) || (rest === -1n && out[out.length - 1] & 0x80)) break;
  }
  return [0x8a, out.length, ...out];
}

/** ASCII bytes of a string. */
function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
