/** Export the trained generator(s), and translate any image with them. */
import { useEffect, useRef, useState } from 'react';
import { download, modelZip } from '../export/modelZip';
import type { ExportFile } from '../export/modelZip';
import { commandLineFlags } from '../config/runConfig';
import { trainingTarget, useStudio } from '../store/studio';
import type { TrainingClient } from '../worker/client';
import type { ExportFormat, Picture, ReferenceSummary } from '../worker/protocol';
import { ReferenceImportCard } from './ReferenceImportCard';
import { zipSync } from 'fflate';

export function ExportPanel({ client }: { client: TrainingClient }) {
  const runState = useStudio((s) => s.runState);
  const runModel = useStudio((s) => s.runModel);
  const config = useStudio((s) => s.config);
  const hasModel = runState === 'running' || runState === 'paused' || runState === 'stopped' || runState === 'done';
  const [busy, setBusy] = useState<string | null>(null);
  const [direction, setDirection] = useState<'AtoB' | 'BtoA'>('AtoB');
  const [result, setResult] = useState<{ input: Picture; output: Picture; name: string; by: string } | null>(null);
  // the separate files, offered as links once asked for (blob URLs, revoked when replaced)
  const [separate, setSeparate] = useState<{ step: number | null; files: { name: string; url: string; bytes: number }[] } | null>(null);
  const [imported, setImported] = useState<string | null>(null);
  const [reference, setReference] = useState<ReferenceSummary | null>(null);
  const [useImported, setUseImported] = useState(false);
  const inputCanvas = useRef<HTMLCanvasElement>(null);
  const outputCanvas = useRef<HTMLCanvasElement>(null);

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

  const weights = (format: ExportFormat = 'tfjs') =>
    request<ExportFile[]>(() => client.send({ type: 'exportWeights', format }), (e) => (e.type === 'weights' && e.format === format ? e.files : undefined));

  /** Runs an export, showing what it does and any failure. */
  const exporting = async (what: string, f: () => Promise<void>) => {
    setBusy(what);
    try {
      await f();
    } catch (e) {
      useStudio.getState().apply({ type: 'error', message: `could not export: ${(e as Error).message}`, recoverable: true });
    } finally {
      setBusy(null);
    }
  };
  const exportZip = () =>
    exporting('Packing…', async () => {
      const tfjs = await weights('tfjs');
      // the PyTorch and ONNX copies ride along when they can be made; the TF.js export never waits on them
      const extras: ExportFile[] = [];
      for (const format of ['pytorch', 'onnx'] as const) {
        try {
          extras.push(...(await weights(format)).map((f) => ({ ...f, name: `${format}/${f.name}` })));
        } catch (e) {
          useStudio.getState().apply({ type: 'error', message: `the zip holds no ${format === 'pytorch' ? 'PyTorch' : 'ONNX'} copy: ${(e as Error).message}`, recoverable: true });
        }
      }
      const zip = modelZip(tfjs, runModel ?? config.train.model, commandLineFlags(config), extras);
      download('gan-studio-model.zip', zip as Uint8Array<ArrayBuffer>, 'application/zip');
    });
  const exportPyTorch = () =>
    exporting('Writing the PyTorch checkpoints…', async () => {
      const files = await weights('pytorch');
      const folder = files[0].name.split('/').slice(0, 2).join('/');
      download(`${folder.split('/')[1]}-pytorch.zip`, zipFiles(files), 'application/zip');
    });
  const exportOnnx = () =>
    exporting('Writing ONNX…', async () => {
      const files = await weights('onnx');
      if (files.length === 1) download(files[0].name, files[0].data);
      else download('gan-studio-onnx.zip', zipFiles(files), 'application/zip');
    });
  const listSeparateFiles = async () => {
    setBusy('Exporting…');
    try {
      const files = await weights();
      setSeparate({
        step: useStudio.getState().progress?.step ?? null,
        files: files.map((f) => ({
          name: f.name,
          bytes: f.data.byteLength,
          url: URL.createObjectURL(new Blob([f.data], { type: f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream' })),
        })),
      });
    } finally {
      setBusy(null);
    }
  };
  useEffect(() => () => separate?.files.forEach((f) => URL.revokeObjectURL(f.url)), [separate]);

  /** Reads TF.js model files, or the reference's .pth files (with its options file, or its folder zipped). */
  const importFiles = async (input: HTMLInputElement) => {
    const files = Array.from(input.files ?? []).filter((f) => !f.name.startsWith('.'));
    input.value = '';
    if (!files.length) return;
    setBusy('Reading…');
    try {
      if (files.some((f) => /\.(pth|zip|txt)$/i.test(f.name))) {
        const r = await request<ReferenceSummary>(() => client.send({ type: 'importReference', files }), (ev) => (ev.type === 'referenceImported' ? ev.summary : undefined));
        setReference(r);
        setImported(`PyTorch ${r.networks.filter((n) => n.startsWith('G')).join(' and ')}`);
      } else {
        const r = await request<string>(() => client.send({ type: 'importModel', files }), (ev) => (ev.type === 'modelImported' ? ev.name : undefined));
        setReference(null);
        setImported(r);
      }
      setUseImported(true);
    } catch (err) {
      useStudio.getState().apply({ type: 'error', message: (err as Error).message, recoverable: true });
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
      const input: Picture = { width: bitmap.width, height: bitmap.height, data: new Uint8ClampedArray(data) };
      const image: Picture = { width: bitmap.width, height: bitmap.height, data };
      const requestId = Date.now();
      const withImported = useImported || !hasModel;
      const output = await request<Picture>(
        () => client.send({ type: 'translate', image, direction, requestId, useImported: withImported }, [data.buffer]),
        (e) => (e.type === 'translated' && e.requestId === requestId ? e.image : undefined),
      );
      const importedBy = reference ? `PyTorch ${direction === 'BtoA' ? 'G_B' : reference.networks.includes('G') ? 'G' : 'G_A'}` : imported;
      setResult({ input, output, name: file.name, by: withImported ? `the imported ${importedBy}` : direction === 'AtoB' ? 'A → B' : 'B → A' });
    } catch (e) {
      useStudio.getState().apply({ type: 'error', message: `could not translate ${file.name}: ${(e as Error).message}`, recoverable: true });
    } finally {
      setBusy(null);
    }
  };

  useEffect(() => {
    if (!result) return;
    for (const [c, p] of [[inputCanvas.current, result.input], [outputCanvas.current, result.output]] as const) {
      if (!c) continue;
      c.width = p.width;
      c.height = p.height;
      c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(p.data), p.width, p.height), 0, 0);
    }
  }, [result]);

  return (
    <section className="card" aria-labelledby="export-title">
      <h2 id="export-title">Export and translate</h2>
      <div className="buttons">
        <button disabled={!hasModel || !!busy} onClick={exportZip}>
          Export model (.zip)
        </button>
        <button className="secondary" disabled={!hasModel || !!busy} onClick={listSeparateFiles} aria-expanded={!!separate}>
          Separate files…
        </button>
        <button className="secondary" disabled={!hasModel || !!busy} onClick={exportPyTorch}>
          Export for PyTorch
        </button>
        <button className="secondary" disabled={!hasModel || !!busy} onClick={exportOnnx}>
          Export ONNX
        </button>
      </div>
      <p className="muted small">
        One .zip: the generators as TensorFlow.js Layers models (model.json + weights), the custom-layers module, and a README with
        a browser page and a Node script that translate with them; also the run as the reference’s <code>checkpoints/&lt;name&gt;/</code>{' '}
        folder (every network’s .pth, train_opt.txt, the commands that continue it in PyTorch) and each generator as ONNX.
      </p>
      {separate && (
        <ul className="files small" aria-label="Separate files">
          {separate.step !== null && <li className="muted">Weights at step {separate.step}:</li>}
          {separate.files.map((f) => (
            <li key={f.name}>
              <a href={f.url} download={f.name}>
                {f.name}
              </a>{' '}
              <span className="muted">{formatBytes(f.bytes)}</span>
            </li>
          ))}
        </ul>
      )}
      <div className="translate">
        <label>
          Import a model{' '}
          <input type="file" multiple accept=".json,.bin,.pth,.txt,.zip" aria-label="Import a model" onChange={(e) => importFiles(e.target)} />
        </label>
        <label>
          or a checkpoints folder{' '}
          <input type="file" {...{ webkitdirectory: '' }} aria-label="Import a checkpoints folder" onChange={(e) => importFiles(e.target)} />
        </label>

        <span className="muted small">TF.js model.json + weights, or the reference’s .pth files (with its train_opt.txt, or its checkpoints folder zipped)</span>
        {reference && (
          <ReferenceImportCard
            summary={reference}
            onStart={(config) => {
              useStudio.getState().setConfig(config);
              client.send({ type: 'start', config, fromReference: true, ...trainingTarget(useStudio.getState()) });
            }}
          />
        )}
        {imported && hasModel && (
          <label>
            <input type="checkbox" checked={useImported} onChange={(e) => setUseImported(e.target.checked)} /> Translate with the imported {imported}
          </label>
        )}
        {imported && !hasModel && <p className="small" data-testid="imported">Using the imported model {imported}.</p>}
        <label>
          Translate direction{' '}
          <select value={direction} onChange={(e) => setDirection(e.target.value as 'AtoB' | 'BtoA')} aria-label="Translate direction">
            <option value="AtoB">A → B</option>
            {(hasModel ? runModel !== 'pix2pix' : !reference || reference.networks.includes('G_B')) && <option value="BtoA">B → A</option>}
          </select>
        </label>
        <label>
          Translate an image{' '}
          <input type="file" accept="image/*" aria-label="Translate an image" disabled={!hasModel && !imported} onChange={(e) => e.target.files?.[0] && translate(e.target.files[0])} />
        </label>
      </div>
      {busy && <p className="small">{busy}</p>}
      {result && (
        <div className="result" data-testid="translation">
          <figure>
            <canvas ref={inputCanvas} className="full" aria-label={`Input: ${result.name}`} data-testid="translate-input" />
            <figcaption>
              Input: {result.name}, {result.input.width}×{result.input.height}
            </figcaption>
          </figure>
          <figure>
            <canvas ref={outputCanvas} className="full" aria-label="Translated image" data-testid="translated" />
            <figcaption>
              Output ({result.by}), {result.output.width}×{result.output.height}{' '}
              <button onClick={() => outputCanvas.current?.toBlob((b) => b && download('translated.png', b, 'image/png'), 'image/png')}>Download PNG</button>
            </figcaption>
          </figure>
        </div>
      )}
    </section>
  );
}

/** Files as one zip at their paths, stored (weights barely compress). */
const zipFiles = (files: ExportFile[]) => zipSync(Object.fromEntries(files.map((f) => [f.name, new Uint8Array(f.data)])), { level: 0 }) as Uint8Array<ArrayBuffer>;

/** A file size for people: 1.2 MB, 34 kB. */
const formatBytes = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1e3))} kB`);
