/** Gathers files from the page's inputs and drops, keeping their folder paths (browser only). */
import type { SourceFile } from './dataset';

/** Files from an `<input type=file>` (with `webkitdirectory`, paths include the picked folder). */
export function fromFileList(list: FileList | File[], role?: 'A' | 'B'): SourceFile[] {
  return Array.from(list).map((file) => ({ path: file.webkitRelativePath || file.name, blob: file, role }));
}

/** Files from a drop: folders are walked recursively through the entries API; `onCount` hears how many so far. */
export async function fromDataTransfer(dt: DataTransfer, role?: 'A' | 'B', onCount: (files: number) => void = () => {}): Promise<SourceFile[]> {
  const entries = Array.from(dt.items)
    .map((item) => (item.kind === 'file' ? item.webkitGetAsEntry?.() : null))
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return fromFileList(Array.from(dt.files), role);
  const out: SourceFile[] = [];
  for (const entry of entries) await walk(entry, out, role, onCount);
  onCount(out.length);
  return out;
}

async function walk(entry: FileSystemEntry, out: SourceFile[], role: 'A' | 'B' | undefined, onCount: (files: number) => void): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path: entry.fullPath.replace(/^\//, ''), blob: file, role });
    // a folder of 50,000 images takes a while to walk: say how far it is, every 500 files
    if (out.length % 500 === 0) onCount(out.length);
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns at most ~100 entries per call: read until it returns none
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, out, role, onCount);
  }
}
