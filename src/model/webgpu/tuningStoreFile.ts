/** The tuner's store in Node (benchmarks, tests): one JSON file, by default ~/.cache/gan-studio/kernel-tuning.json. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { GemmConfig } from './convGemm';
import type { TuningStore } from './tuning';

/** Where the file lives: GAN_STUDIO_TUNING, else the user's cache folder. */
export const defaultTuningFile = (): string => process.env.GAN_STUDIO_TUNING ?? join(homedir(), '.cache', 'gan-studio', 'kernel-tuning.json');

/** The whole file as an object (empty when missing or unreadable: the tuner then times again). */
function readAll(path: string): Record<string, GemmConfig> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, GemmConfig>) : {};
  } catch {
    return {};
  }
}

export function fileTuningStore(path = defaultTuningFile()): TuningStore {
  return {
    async load(keys) {
      const all = readAll(path);
      return new Map(keys.filter((k) => Object.hasOwn(all, k)).map((k) => [k, all[k]]));
    },
    async save(entries) {
      const all = { ...readAll(path), ...Object.fromEntries(entries) };
      mkdirSync(dirname(path), { recursive: true });
      // written whole then renamed: a crash mid-write leaves the old file, never half a file
      writeFileSync(`${path}.tmp`, JSON.stringify(all, null, 1));
      renameSync(`${path}.tmp`, path);
    },
  };
}
