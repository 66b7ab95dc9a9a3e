/** A dataset's name as the user knows it: the folder or zip they gave, or both domain folders. Pure: paths only. */
import type { SourceFile } from './dataset';
import { isImagePath } from './layout';

const segments = (path: string) => path.replace(/\\/g, '/').replace(/^\.?\//, '').split('/').filter(Boolean);

/** The zip (without .zip) or the folder that holds all these files; null for loose files. */
export function folderName(files: SourceFile[]): string | null {
  if (files.length === 1 && /\.zip$/i.test(files[0].path)) return (segments(files[0].path).at(-1) ?? files[0].path).replace(/\.zip$/i, '');
  const tops = new Set(files.map((f) => (segments(f.path).length > 1 ? segments(f.path)[0] : '')));
  const [top] = tops;
  return tops.size === 1 && top ? top : null;
}

/** The folder or zip name, or how many loose files (images) they are. */
function nameOf(files: SourceFile[]): string {
  if (files.length === 0) return 'nothing';
  const kind = files.every((f) => isImagePath(f.path)) ? 'image' : 'file';
  return folderName(files) ?? `${files.length} ${kind}${files.length === 1 ? '' : 's'}`;
}

/** "horses ↔ zebras" for files given as Domain A and Domain B; else the folder or zip name. */
export function datasetName(files: SourceFile[]): string {
  const A = files.filter((f) => f.role === 'A');
  const B = files.filter((f) => f.role === 'B');
  if (A.length || B.length) return `${nameOf(A)} ↔ ${nameOf(B)}`;
  return nameOf(files);
}
