/** Placeholder page until the studio's panels land: shows which backend and adapter the training worker gets. */
import { useEffect, useState } from 'react';
import type { ProbeEvent } from '../worker/probeProtocol';

export function App() {
  const [probe, setProbe] = useState<ProbeEvent | null>(null);

  useEffect(() => {
    const worker = new Worker(new URL('../worker/probe.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<ProbeEvent>) => setProbe(e.data);
    worker.onerror = (e) => setProbe({ type: 'error', message: e.message || 'the worker failed to start' });
    const withStep = new URLSearchParams(location.search).has('probeStep');
    worker.postMessage({ type: 'probe', trainStep: withStep });
    return () => worker.terminate();
  }, []);

  return (
    <main className="app">
      <h1>GAN Studio</h1>
      <p>Train pix2pix and CycleGAN on your own GPU, in this tab. Your images never leave it.</p>
      <section aria-label="Backend" className="card">
        <h2>Training backend</h2>
        {probe === null && <p>Starting the training worker…</p>}
        {probe?.type === 'error' && <p role="alert">Could not start TF.js: {probe.message}</p>}
        {probe?.type === 'probed' && (
          <dl>
            <dt>Backend</dt>
            <dd data-testid="backend">{probe.report.backend}</dd>
            <dt>Adapter</dt>
            <dd data-testid="adapter">{probe.report.adapter?.description ?? 'none'}</dd>
            {probe.report.adapter?.software && (
              <dd className="warn" data-testid="software-warning">
                This is a software GPU: training will be tens of times slower than on a real graphics card.
              </dd>
            )}
            {probe.stepLosses && (
              <>
                <dt>Test step</dt>
                <dd data-testid="step">
                  {Object.entries(probe.stepLosses)
                    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
                    .join(' · ')}{' '}
                  in {probe.stepMs?.toFixed(0)} ms
                </dd>
              </>
            )}
          </dl>
        )}
      </section>
    </main>
  );
}
