/** Export the trained generator(s), and translate any image with them. */
import { useEffect, useRef, useState } from 'react';
import { download, modelZip } from '../export/modelZip';
import type { ExportFile } from '../export/modelZip';
import { commandLineFlags } from '../config/runConfig';
import { useStudio } from '../store/studio';
import type { TrainingClient } from '../worker/client';
import type { Picture } from '../worker/protocol';

export function ExportPanel({ client }: { client: TrainingClient }) {
  const runState = useStudio((s) => s.runState);
  const runModel = useStudio((s) => s.runModel);
  const config = useStudio((s) => s.config);
  const hasModel = runState === 'running' || runState === 'paused' || runState === 'stopped' || runState === 'done';
  const [busy, setBusy] = useState<string | null>(null);
  const [direction, setDirection] = useState<'AtoB' | 'BtoA'>('AtoB');
  const [result, setResult] = useState<Picture | null>(null);
  const [imported, setImported] = useState<string | null>(null);
  const [useImported, setUseImported] = useState(false);
  const canvas = useRef<HTMLCanvasElement>(null);

  // one request at a time: the next 'weights' / 'translated' event answers it
  const request = <T,>(send: () => void, pick: (e: Parameters<Parameters<TrainingClient['on']>[0]>[0]) => T | undefined) =>
    new Promise<T>((resolve, reject) => {
      const off = client.on((e) => {
        if (e.type === 'error') {
          off();
          reject(new Error(e.message));
        }
        const v = pick(e);
        if (v !== undefined) {
          off();
          resolve(v);
        }
      });
      send();
    });

  const weights = () => request<ExportFile[]>(() => client.send({ type: 'exportWeights' }), (e) => (e.type === 'weights' ? e.files : undefined));

  const exportFiles = async () => {
    setBusy('Exporting…');
    try {
      for (const f of await weights()) download(f.name, f.data, f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    } finally {
      setBusy(null);
    }
  };
  const exportZip = async () => {
    setBusy('Packing…');
    try {
      const zip = modelZip(await weights(), runModel ?? config.train.model, commandLineFlags(config));
      download('gan-studio-model.zip', zip as Uint8Array<ArrayBuffer>, 'application/zip');
    } finally {
      setBusy(null);
    }
  };

  const translate = async (file: File) => {
    setBusy('Translating…');
    try {
      const bitmap = await createImageBitmap(file);
      const c = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = c.getContext('2d')!;
      ctx.drawImage(bitmap, 0, 0);
      const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
      const image: Picture = { width: bitmap.width, height: bitmap.height, data };
      const requestId = Date.now();
      const out = await request<Picture>(
        () => client.send({ type: 'translate', image, direction, requestId, useImported: useImported || !hasModel }, [data.buffer]),
        (e) => (e.type === 'translated' && e.requestId === requestId ? e.image : undefined),
      );
      setResult(out);
    } catch (e) {
      useStudio.getState().apply({ type: 'error', message: `could not translate ${file.name}: ${(e as Error).message}`, recoverable: true });
    } finally {
      setBusy(null);
    }
  };

  useEffect(() => {
    const c = canvas.current;
    if (!c || !result) return;
    c.width = result.width;
    c.height = result.height;
    c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(result.data), result.width, result.height), 0, 0);
  }, [result]);

  return (
    <section className="card" aria-labelledby="export-title">
      <h2 id="export-title">Export and translate</h2>
      <div className="buttons">
        <button disabled={!hasModel || !!busy} onClick={exportFiles}>
          Export model
        </button>
        <button disabled={!hasModel || !!busy} onClick={exportZip}>
          Export .zip
        </button>
      </div>
      <p className="muted small">
        TensorFlow.js Layers models (model.json + weights); the .zip adds the custom-layers module and a README with a loading snippet.
      </p>
      <div className="translate">
        <label>
          Import a model{' '}
          <input
            type="file"
            multiple
            accept=".json,.bin"
            aria-label="Import a model"
            onChange={async (e) => {
              const files = Array.from(e.target.files ?? []);
              if (!files.length) return;
              try {
                const r = await request<string>(() => client.send({ type: 'importModel', files }), (ev) => (ev.type === 'modelImported' ? ev.name : undefined));
                setImported(r);
                setUseImported(true);
              } catch (err) {
                useStudio.getState().apply({ type: 'error', message: (err as Error).message, recoverable: true });
              }
            }}
          />
        </label>
        {imported && hasModel && (
          <label>
            <input type="checkbox" checked={useImported} onChange={(e) => setUseImported(e.target.checked)} /> Translate with the imported {imported}
          </label>
        )}
        {imported && !hasModel && <p className="small" data-testid="imported">Using the imported model {imported}.</p>}
        <label>
          Direction{' '}
          <select value={direction} onChange={(e) => setDirection(e.target.value as 'AtoB' | 'BtoA')} aria-label="Direction">
            <option value="AtoB">A → B</option>
            {runModel !== 'pix2pix' && <option value="BtoA">B → A</option>}
          </select>
        </label>
        <label>
          Translate an image{' '}
          <input type="file" accept="image/*" aria-label="Translate an image" disabled={!hasModel && !imported} onChange={(e) => e.target.files?.[0] && translate(e.target.files[0])} />
        </label>
      </div>
      {busy && <p className="small">{busy}</p>}
      {result && (
        <figure className="result">
          <canvas ref={canvas} className="full" aria-label="Translated image" data-testid="translated" />
          <figcaption>
            {result.width}×{result.height}{' '}
            <button onClick={() => canvas.current?.toBlob((b) => b && download('translated.png', b, 'image/png'), 'image/png')}>Download PNG</button>
          </figcaption>
        </figure>
      )}
    </section>
  );
}
