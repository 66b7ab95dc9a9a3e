/**
 * e2e tests in real Chromium with WebGPU. Uses the system Chromium (Debian's `chromium` package) when it
 * exists, else Playwright's own browser. By default WebGPU runs on SwiftShader (a software GPU) so the
 * tests behave the same on every machine; set E2E_REAL_GPU=1 to use the machine's GPU instead.
 */
import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

const systemChromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

const webgpuFlags = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  ...(process.env.E2E_REAL_GPU
    ? ['--enable-features=Vulkan']
    : [
        '--enable-features=Vulkan',
        '--use-vulkan=swiftshader',
        '--use-webgpu-adapter=swiftshader',
        '--use-angle=swiftshader',
        // SwiftShader spends 0.2–1 s of each tiled kernel's compile on zeroing its workgroup memory, which our kernels
        // write before they read (a read first would see garbage and fail the oracle tests): skipped, as in vitest
        '--enable-dawn-features=disable_workgroup_init',
      ]),
];

const port = Number(process.env.E2E_PORT ?? 4173);

export default defineConfig({
  testDir: './e2e',
  testMatch: '**/*.spec.ts',
  timeout: 180_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  workers: 1,
  reporter: 'list',
  webServer: {
    command: `npx vite build && npx vite preview --port ${port} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 300_000,
  },
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: { executablePath: systemChromium, args: webgpuFlags },
  },
  projects: [{ name: 'chromium-webgpu', use: { browserName: 'chromium' } }],
});
