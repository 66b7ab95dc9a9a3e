// Shared by the bench scripts: serve the built app and launch Chromium with WebGPU (SwiftShader unless REAL_GPU=1).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

/** Whether the run uses the machine's GPU rather than SwiftShader. */
export const realGpu = !!process.env.REAL_GPU;

/** Serves dist/ on the port; returns the server process. */
export async function serve(port) {
  const server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 2500));
  return server;
}

/** System Chromium when present (else Playwright's), with WebGPU enabled. */
export function launch() {
  const executablePath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  const software = realGpu ? [] : ['--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader'];
  return chromium.launch({ executablePath, args: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--no-sandbox', ...software] });
}
