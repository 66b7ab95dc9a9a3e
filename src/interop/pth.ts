/** PyTorch `.pth` files: read both formats `torch.save` writes (zip and legacy), write the zip one. */
import { unzipSync } from 'fflate';
import { PickleWriter, PyDict, PyGlobal, PyTuple, STORAGE_DTYPES, unpickle, type Rebuilder, type UnpickleOptions } from './pickle';
import { ELEMENT_SIZE, numel, type StateDict, type TorchDtype } from './stateDict';
import { storedZip } from './storedZip';

/** One storage of the file: its dtype and element count from the pickle, its bytes once read. */
interface StorageRecord {
  key: string;
  dtype: TorchDtype;
  numel: number;
  bytes?: Uint8Array;
}

/** What a persistent id resolves to: a storage, or (legacy) a view into one at an element offset. */
class StorageRef {
  constructor(
    readonly record: StorageRecord,
    readonly offset: number,
  ) {}
}

/** A tensor as the pickle describes it; its bytes are gathered once every storage is read. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

// 0x1950a86a20f9469cfc6c as LONG1 after PROTO: how every legacy torch.save file begins.
const LEGACY_MAGIC = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;

/** Reads a `.pth` state dict (zip or legacy format); every refusal names the file and what to do. */
export function readPth(bytes: Uint8Array, fileName: string): StateDict {
  if (bytes.length === 0) throw new Error(`${fileName} is empty (0 bytes): not a PyTorch checkpoint; download or save it again`);
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5)) return readZip(bytes, fileName);
  if (bytes[0] === 0x80 && LEGACY_MAGIC.every((b, i) => bytes[2 + i] === b)) return readLegacy(bytes, fileName);
  if (bytes.length > 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar') {
    throw new Error(
      `${fileName} is an old tar-format PyTorch checkpoint (before PyTorch 0.4), which is not supported: load it with an old torch and ` +
        're-save it with a recent one: torch.save(torch.load(path), path) with torch >= 1.6',
    );
  }
  if (bytes[0] === 0x80) {
    // a bare pickle: read it with the same refusals, so a malicious one is named for what it calls
    const refuse = () => {
      throw new Error(`${fileName} is a bare Python pickle, not a file torch.save wrote`);
    };
    unpickle(bytes, 0, { fileName, persistentLoad: refuse, rebuild: refuse });
    refuse();
  }
  throw new Error(`${fileName} is not a PyTorch checkpoint (it is neither a zip archive nor a legacy torch.save file); pick a .pth file that torch.save wrote`);
}

/** The zip format (PyTorch >= 1.6): `<prefix>/data.pkl` plus raw storages in `<prefix>/data/<key>`. */
function readZip(bytes: Uint8Array, fileName: string): StateDict {
  let files: Record<string, Uint8Array>;
  // only torch's records, and no more than the file could hold stored: a crafted zip cannot claim gigabytes
  let claimed = 0;
  const budget = byteBudget(bytes);
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        if (!/^[^/]+\/(data\.pkl|data\/[^/]+|version|byteorder)$/.test(f.name)) return false;
        claimed += f.originalSize;
        if (claimed > budget) throw new Error(`${fileName} claims ${claimed} bytes unpacked from ${bytes.length}: not a file torch.save wrote`);
        return true;
      },
    });
  } catch (e) {
    if ((e as Error).message.startsWith(fileName)) throw e;
    if (!hasEndOfCentralDirectory(bytes)) {
      throw new Error(`${fileName} is cut short: its zip archive has no central directory (the file ends after ${bytes.length} bytes); download it again`);
    }
    throw new Error(`${fileName} is a damaged zip archive (${(e as Error).message}); download or save it again`);
  }
  const pkl = Object.keys(files).find((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (!pkl) {
    throw new Error(`${fileName} is a zip archive but not a torch.save file (it has no <folder>/data.pkl); pick the .pth file itself`);
  }
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const records = new Map<string, StorageRecord>();
  const value = unpickleWithStorages(files[pkl], 0, fileName, records, (pid) => {
    const [record] = storageFromPid(pid, fileName, 4);
    return new StorageRef(record, 0);
  }).value;
  for (const record of records.values()) record.bytes = files[`${prefix}data/${record.key}`];
  return stateDictOf(value, fileName, byteBudget(bytes));
}

/** Bytes a state dict read from a file may add up to: views may share a storage, never by much. */
const byteBudget = (file: Uint8Array): number => 4 * file.length + (1 << 20);

/** True when the last 64 kB hold a zip end-of-central-directory record. */
function hasEndOfCentralDirectory(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557); i--) {
    if (bytes[i] === 0x50 && bytes[i + 1] === 0x4b && bytes[i + 2] === 5 && bytes[i + 3] === 6) return true;
  }
  return false;
}

/** The legacy format: magic, protocol, sys_info, the object, the storage keys, then each storage's count and bytes. */
function readLegacy(bytes: Uint8Array, fileName: string): StateDict {
  const noPid = (): never => {
    throw new Error(`${fileName} is not a readable checkpoint: its header names a storage`);
  };
  const header = (start: number) => unpickleWithStorages(bytes, start, fileName, new Map(), noPid);
  const magic = header(0);
  if (magic.value !== MAGIC_NUMBER) throw new Error(`${fileName} is not a PyTorch checkpoint (a legacy header with the wrong magic number)`);
  const protocol = header(magic.end);
  if (protocol.value !== 1001) throw new Error(`${fileName} uses torch.save protocol ${typeof protocol.value === 'number' || typeof protocol.value === 'bigint' ? String(protocol.value) : aType(protocol.value)}, not 1001; re-save it with a recent torch`);
  const sysInfo = header(protocol.end);
  const littleEndian = !(sysInfo.value instanceof PyDict) || sysInfo.value.entries.get('little_endian') !== false;

  const records = new Map<string, StorageRecord>();
  const views = new Map<string, StorageRef>();
  const obj = unpickleWithStorages(bytes, sysInfo.end, fileName, records, (pid) => {
    const [record, view] = storageFromPid(pid, fileName, 5);
    if (!(view instanceof PyTuple)) return new StorageRef(record, 0);
    // An old storage view: (view_key, element offset, size) into the root storage
    const [viewKey, offset] = view.items;
    if (typeof viewKey !== 'string' || !isCount(offset)) throw new Error(`${fileName} is not a readable checkpoint: a storage view without a key and an offset`);
    const ref = views.get(viewKey) ?? new StorageRef(record, offset);
    views.set(viewKey, ref);
    return ref;
  });
  const keys = header(obj.end);
  if (!Array.isArray(keys.value)) throw new Error(`${fileName} is not a readable checkpoint: its storage list is ${aType(keys.value)}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value) {
    if (typeof key !== 'string') throw new Error(`${fileName} is not a readable checkpoint: its storage list holds ${aType(key)}`);
    const record = records.get(key);
    if (!record) throw new Error(`${fileName} is not a readable checkpoint: it stores storage '${key}', which no tensor names`);
    const size = ELEMENT_SIZE[record.dtype];
    if (pos + 8 > bytes.length) throw new Error(`${fileName} is cut short: storage '${record.key}' starts past the end of the file (${bytes.length} bytes); download it again`);
    const count = Number(view.getBigInt64(pos, true));
    pos += 8;
    if (count < 0 || pos + count * size > bytes.length) {
      throw new Error(`${fileName} is cut short: storage '${record.key}' needs ${count * size} bytes at byte ${pos} but the file ends at byte ${bytes.length}; download it again`);
    }
    record.bytes = bytes.slice(pos, pos + count * size);
    if (!littleEndian) swapBytes(record.bytes, size);
    pos += count * size;
  }
  return stateDictOf(obj.value, fileName, byteBudget(bytes));
}

/** Unpickles with torch's tensor rebuilders, collecting storages in `records`. */
function unpickleWithStorages(
  bytes: Uint8Array,
  start: number,
  fileName: string,
  records: Map<string, StorageRecord>,
  persistentLoad: (pid: unknown) => StorageRef,
): { value: unknown; end: number } {
  const opts: UnpickleOptions = {
    fileName,
    persistentLoad: (pid) => {
      const ref = persistentLoad(pid);
      const known = records.get(ref.record.key);
      if (known && known.dtype !== ref.record.dtype) throw new Error(`${fileName} is not a readable checkpoint: storage '${ref.record.key}' is named with two dtypes`);
      if (known) return new StorageRef(known, ref.offset);
      records.set(ref.record.key, ref.record);
      return ref;
    },
    rebuild: (fn, args) => rebuild(fn, args, fileName),
  };
  return unpickle(bytes, start, opts);
}

/** Reads ('storage', torch.XStorage, key, location, numel[, view]) into a record (not yet holding bytes). */
function storageFromPid(pid: unknown, fileName: string, minLength: number): [StorageRecord, unknown] {
  const items = pid instanceof PyTuple ? pid.items : [];
  const [kind, type, key, , count, view] = items;
  if (items.length < minLength || kind !== 'storage' || !(type instanceof PyGlobal) || !Object.hasOwn(STORAGE_DTYPES, type.name) || typeof key !== 'string' || !isCount(count)) {
    throw new Error(`${fileName} is not a readable checkpoint: a persistent id that is not a torch storage`);
  }
  const dtype = STORAGE_DTYPES[type.name as keyof typeof STORAGE_DTYPES];
  return [{ key, dtype, numel: count }, view];
}

/** A whole number ≥ 0 that indexes safely (offsets, sizes, strides from the file). */
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Our implementations of torch._utils' rebuilders: they only record where a tensor's elements are. */
function rebuild(fn: Rebuilder, args: readonly unknown[], fileName: string): TensorRef {
  const bad = (): never => {
    throw new Error(`${fileName} is not a readable checkpoint: ${fn} is called with arguments torch never writes`);
  };
  if (fn === 'torch._utils._rebuild_parameter') return args[0] instanceof TensorRef ? args[0] : bad();
  const [storage, offset, size, stride] = args;
  const ints = (t: unknown): number[] =>
    t instanceof PyTuple && t.items.every(isCount) ? (t.items as number[]) : bad();
  if (!(storage instanceof StorageRef) || !isCount(offset)) return bad();
  const shape = ints(size);
  const strides = ints(stride);
  if (shape.length !== strides.length) return bad();
  return new TensorRef(storage, offset, [...shape], [...strides]);
}

/** The top object as a state dict (a `state_dict` entry unwrapped), each tensor gathered into contiguous bytes. */
function stateDictOf(value: unknown, fileName: string, budget: number): StateDict {
  let dict = value;
  if (dict instanceof PyDict && dict.entries.get('state_dict') instanceof PyDict) dict = dict.entries.get('state_dict');
  if (!(dict instanceof PyDict)) throw new Error(`${fileName} holds ${aType(value)}, not a state dict of tensors`);
  const out: StateDict = new Map();
  let total = 0;
  for (const [key, t] of dict.entries) {
    if (typeof key !== 'string' || !(t instanceof TensorRef)) {
      const name = typeof key === 'string' ? JSON.stringify(key) : `keyed by ${aType(key)}`;
      throw new Error(`${fileName} holds ${aType(dict)} whose entry ${name} is ${aType(t)}, not a state dict of tensors`);
    }
    // stride-0 or repeated views could make a small file unpack to gigabytes
    total += numel(t.size) * ELEMENT_SIZE[t.storage.record.dtype];
    if (!Number.isSafeInteger(total) || total > budget) throw new Error(`${fileName} is not a readable checkpoint: its tensors add up to more than the file could hold`);
    out.set(key, { dtype: t.storage.record.dtype, shape: t.size, bytes: gather(t, key, fileName) });
  }
  return out;
}

/** Copies a tensor's elements, by offset and stride, into contiguous row-major bytes. */
function gather(t: TensorRef, key: string, fileName: string): Uint8Array {
  const { record } = t.storage;
  const size = ELEMENT_SIZE[record.dtype];
  if (!record.bytes) {
    throw new Error(`${fileName} is damaged: tensor '${key}' names storage record ${record.key}, which the file does not hold; download or save it again`);
  }
  const n = numel(t.size);
  if (n === 0) return new Uint8Array(0);
  const start = t.storage.offset + t.offset;
  const last = t.size.reduce((acc, d, i) => acc + (d - 1) * t.stride[i], start);
  const have = Math.floor(record.bytes.length / size);
  if (last >= have) {
    throw new Error(
      `${fileName} is damaged: tensor '${key}' needs ${last + 1} elements of storage ${record.key} but the file holds ${have}; download or save it again`,
    );
  }
  const src = record.bytes;
  const contiguous = t.size.every((d, i) => d === 1 || t.stride[i] === numel(t.size.slice(i + 1)));
  if (contiguous) return src.slice(start * size, (start + n) * size);
  const out = new Uint8Array(n * size);
  const index = new Array<number>(t.size.length).fill(0);
  let element = start;
  for (let i = 0; i < n; i++) {
    out.set(src.subarray(element * size, (element + 1) * size), i * size);
    // Advance the row-major index like an odometer, moving the source element by the strides
    for (let d = t.size.length - 1; d >= 0; d--) {
      element += t.stride[d];
      if (++index[d] < t.size[d]) break;
      element -= t.stride[d] * t.size[d];
      index[d] = 0;
    }
  }
  return out;
}

/** Reverses each element's bytes in place (a legacy file from a big-endian machine). */
function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/** "a list", "an int", "an OrderedDict": a value's type with its article, for messages. */
function aType(v: unknown): string {
  const name = typeName(v);
  return `${/^[aeiouAEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
}

/** A Python-ish name of a value's type, for messages. */
function typeName(v: unknown): string {
  if (v instanceof PyDict) return v.ordered ? 'OrderedDict' : 'dict';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof TensorRef) return 'tensor';
  if (v instanceof StorageRef) return 'storage';
  if (v instanceof PyGlobal) return v.name;
  if (Array.isArray(v)) return 'list';
  if (v === null) return 'None';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return { string: 'str', boolean: 'bool', bigint: 'int' }[typeof v as string] ?? typeof v;
}

/** The storage class torch names for each dtype. */
const STORAGE_OF = Object.fromEntries(Object.entries(STORAGE_DTYPES).map(([name, dtype]) => [dtype, name.slice('torch.'.length)])) as Record<
  TorchDtype,
  string
>;

/** Writes what torch.save(state_dict) of PyTorch >= 1.6 writes: a zip `<archiveName>/…` that torch.load(weights_only=True) reads. */
export function writePth(sd: StateDict, archiveName: string): Uint8Array {
  if (!/^[^/\\]+$/.test(archiveName)) throw new Error(`"${archiveName}" cannot name a .pth archive folder (it must be one name, no slashes)`);
  const w = new PickleWriter();
  w.op(0x80, 2).global('collections', 'OrderedDict').op(0x29, 0x52);
  w.memoize();
  const entries = [...sd.entries()];
  // Python's pickler writes dict items in batches of 1000: MARK ... SETITEMS, or SETITEM for a batch of one
  for (let b = 0; b < entries.length; b += 1000) {
    const batch = entries.slice(b, b + 1000);
    if (batch.length > 1) w.op(0x28);
    batch.forEach(([key, t], j) => {
      const n = numel(t.shape);
      if (t.bytes.length !== n * ELEMENT_SIZE[t.dtype]) throw new Error(`${key}: ${t.bytes.length} bytes do not fill shape [${t.shape.join(', ')}] of ${t.dtype}`);
      const strides = t.shape.map((_, i) => numel(t.shape.slice(i + 1).map((d) => Math.max(d, 1))));
      w.str(key).global('torch._utils', '_rebuild_tensor_v2').op(0x28);
      w.op(0x28).interned('storage').global('torch', STORAGE_OF[t.dtype]).str(String(b + j)).interned('cpu').int(n).op(0x74);
      w.memoize();
      w.op(0x51).int(0).intTuple(t.shape).intTuple(strides).op(0x89);
      w.global('collections', 'OrderedDict').op(0x29, 0x52);
      w.memoize();
      w.op(0x74);
      w.memoize();
      w.op(0x52);
      w.memoize();
    });
    w.op(batch.length > 1 ? 0x75 : 0x73);
  }
  w.op(0x2e);
  const records: [string, Uint8Array][] = [
    ['data.pkl', w.bytes()],
    ['byteorder', new TextEncoder().encode('little')],
  ];
  // torch writes storages in the sorted order of their keys, as strings
  const keys = entries.map((_, i) => String(i)).sort();
  for (const key of keys) records.push([`data/${key}`, entries[Number(key)][1].bytes]);
  records.push(['version', new TextEncoder().encode('3\n')]);
  return storedZip(records.map(([name, data]) => [`${archiveName}/${name}`, data]));
}
