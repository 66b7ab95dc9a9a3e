/** The studio page: data, run controls, progress, previews and saved runs, all fed by the training worker. */
import { useEffect, useMemo, useState } from 'react';
import { useStudio } from '../store/studio';
import { TrainingClient } from '../worker/client';
import { DataPanel } from './DataPanel';
import { ExportPanel } from './ExportPanel';
import { LossCharts } from './LossCharts';
import { OptionsPanel } from './OptionsPanel';
import { toQuery } from '../config/runConfig';
import { presetConfig } from '../config/presets';
import { PreviewGrid } from './PreviewGrid';
import { RunsPanel } from './RunsPanel';
import { TrainPanel } from './TrainPanel';

declare global {
  interface Window {
    /** Test hook (only with ?test in the URL): the store, to read status without scraping pixels. */
    __studio?: { store: typeof useStudio; client: TrainingClient; presetConfig: typeof presetConfig };
  }
}

export function App() {
  const client = useMemo(() => new TrainingClient(), []);
  const backend = useStudio((s) => s.backend);
  const error = useStudio((s) => s.error);
  const [forced] = useState(() => new URLSearchParams(location.search).get('backend'));

  useEffect(() => {
    const off = client.on((e) => useStudio.getState().apply(e));
    client.send({ type: 'init', backend: (forced as 'webgpu' | 'webgl' | 'cpu' | null) ?? undefined });
    client.send({ type: 'listRuns' });
    // the Model card shows the compiled step's memory, which the worker counts for each config
    client.send(useStudio.getState().countMemoryCommand());
    if (new URLSearchParams(location.search).has('test')) window.__studio = { store: useStudio, client, presetConfig };
    // the options live in the URL, so a setup can be shared as a link
    const offUrl = useStudio.subscribe((s, prev) => {
      if (s.config === prev.config) return;
      client.send(s.countMemoryCommand());
      const keep = new URLSearchParams(location.search);
      const next = new URLSearchParams(toQuery(s.config));
      for (const k of ['test', 'backend', 'preset', 'budget']) if (keep.has(k)) next.set(k, keep.get(k)!);
      history.replaceState(null, '', `${location.pathname}?${next}`);
    });
    // a run never loses more than a few seconds: save when the page is hidden (a closing or reloading page is hidden
    // first, so this covers it too), and ask before closing while steps are unsaved (the worker dies with the page)
    const onVisibility = () => document.visibilityState === 'hidden' && client.send({ type: 'save' });
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      const s = useStudio.getState();
      const unsaved = s.runState === 'running' || s.runState === 'starting' || (s.progress?.step ?? 0) > (s.lastCheckpoint?.step ?? 0);
      if (!unsaved) return;
      e.preventDefault();
      e.returnValue = ''; // older browsers show the prompt only with this set
    };
    document.addEventListener('visibilitychange', onVisibility);
    addEventListener('beforeunload', onBeforeUnload);
    return () => {
      off();
      offUrl();
      document.removeEventListener('visibilitychange', onVisibility);
      removeEventListener('beforeunload', onBeforeUnload);
    };
  }, [client, forced]);

  return (
    <main className="app">
      <header className="top">
        <div>
          <h1>GAN Studio</h1>
          <p className="muted">Train pix2pix and CycleGAN on your own GPU, in this tab. Your images never leave it.</p>
        </div>
        <div className="backend" aria-label="Backend">
          {backend ? (
            <>
              <span data-testid="backend">{backend.backend}</span>
              <span className="muted" data-testid="adapter">
                {backend.backend === 'webgpu' ? (backend.adapter?.description ?? 'unknown adapter') : backend.backend === 'cpu' ? 'no GPU in use' : 'GPU through WebGL'}
              </span>
              {backend.backend === 'webgpu' && backend.adapter?.software && (
                <span className="warn" data-testid="software-warning">
                  Software GPU: training will be tens of times slower than on a real graphics card.
                </span>
              )}
              {backend.failed.length > 0 && (
                <span className="warn">Fell back: {backend.failed.map((f) => `${f.backend} (${f.reason})`).join('; ')}</span>
              )}
            </>
          ) : (
            <span className="muted">Starting the training worker…</span>
          )}
        </div>
      </header>
      {error && (
        <div role="alert" className="error">
          {error} <button onClick={() => useStudio.getState().clearError()}>Dismiss</button>
        </div>
      )}
      <div className="grid">
        <DataPanel client={client} />
        <OptionsPanel />
        <TrainPanel client={client} />
        <ExportPanel client={client} />
        <RunsPanel client={client} />
      </div>
      <LossCharts />
      <PreviewGrid />
    </main>
  );
}
