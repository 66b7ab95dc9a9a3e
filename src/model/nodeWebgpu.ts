/**
 * Test and benchmark helper: gives plain Node a WebGPU (Dawn, from the `webgpu` package) so TF.js's
 * webgpu backend runs outside a browser. Not part of the app bundle.
 */
import { existsSync } from 'node:fs';

/** Where Debian's Chromium keeps its SwiftShader Vulkan driver: a software GPU for machines without one. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Installs `navigator.gpu` and registers TF.js's webgpu backend. Returns null when it works,
 * or why it cannot (no `webgpu` package, no Vulkan loader, no adapter).
 * `zeroWorkgroupMemory: false` (the tests) lets Dawn skip zeroing workgroup memory, as browsers never do: on
 * SwiftShader that zeroing is most of a tiled kernel's compile time (0.2–1 s of each; our kernels write that memory
 * before they read it, and a read before a write would then see garbage, not zeros, and fail the oracle tests).
 */
export async function enableNodeWebGPU({ zeroWorkgroupMemory = true } = {}): Promise<string | null> {
  // Use a real GPU's Vulkan driver when one is set up; otherwise SwiftShader if Chromium brought it.
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  let gpu: GPU;
  try {
    const { create, globals } = (await import('webgpu')) as { create(flags: string[]): GPU; globals: object };
    Object.assign(globalThis, globals);
    gpu = create(zeroWorkgroupMemory ? [] : ['enable-dawn-features=disable_workgroup_init']);
  } catch (e) {
    return `the webgpu package could not load: ${e instanceof Error ? e.message : String(e)}`;
  }
  const adapter = await gpu.requestAdapter();
  if (!adapter) return 'no WebGPU adapter (needs a Vulkan driver: libvulkan1 plus a GPU driver or Chromium’s SwiftShader)';
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator!, 'gpu', { value: gpu, configurable: true });
  // The backend registers itself only if navigator.gpu exists when it is first imported.
  await import('@tensorflow/tfjs-backend-webgpu');
  return null;
}
