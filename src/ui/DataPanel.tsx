/** Where the images come from: two domains, one dataset folder, a zip or folder drop, or a demo. */
import { useState } from 'react';
import type { DragEvent } from 'react';
import { fromDataTransfer, fromFileList } from '../data/collectFiles';
import { DEMOS } from '../data/dataset';
import type { DemoName, SourceFile } from '../data/dataset';
import { useStudio } from '../store/studio';
import type { TrainingClient } from '../worker/client';
import { PictureCanvas } from './PictureCanvas';

export function DataPanel({ client }: { client: TrainingClient }) {
  const dataset = useStudio((s) => s.dataset);
  const loading = useStudio((s) => s.loading);
  const thumbnails = useStudio((s) => s.thumbnails);
  const [pending, setPending] = useState<{ A: SourceFile[]; B: SourceFile[] }>({ A: [], B: [] });
  const [over, setOver] = useState(false);
  const [lastFiles, setLastFiles] = useState<SourceFile[] | null>(null);

  // decode at the sizes the chosen preset trains at, so Start needs no second pass
  const data = () => useStudio.getState().config.data;
  const load = (files: SourceFile[], mode?: 'pix2pix' | 'cycle_gan') => {
    setLastFiles(files);
    client.send({ type: 'load', source: { kind: 'files', files, mode }, data: data() });
  };
  const setDomain = (role: 'A' | 'B', files: SourceFile[]) => {
    const next = { ...pending, [role]: files };
    setPending(next);
    if (next.A.length && next.B.length) load([...next.A, ...next.B]);
  };
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    load(await fromDataTransfer(e.dataTransfer));
  };

  return (
    <section className="card" aria-labelledby="data-title">
      <h2 id="data-title">Data</h2>
      <div className="demos">
        {(Object.keys(DEMOS) as DemoName[]).map((name) => (
          <button key={name} onClick={() => client.send({ type: 'load', source: { kind: 'demo', name }, data: data() })}>
            Try demo: {DEMOS[name].title}
          </button>
        ))}
      </div>
      <div className="inputs">
        <label>
          Domain A
          <input type="file" multiple aria-label="Domain A" {...{ webkitdirectory: '' }} onChange={(e) => e.target.files && setDomain('A', fromFileList(e.target.files, 'A'))} />
        </label>
        <label>
          Domain B
          <input type="file" multiple aria-label="Domain B" {...{ webkitdirectory: '' }} onChange={(e) => e.target.files && setDomain('B', fromFileList(e.target.files, 'B'))} />
        </label>
        <label>
          Dataset folder
          <input type="file" multiple aria-label="Dataset folder" {...{ webkitdirectory: '' }} onChange={(e) => e.target.files && load(fromFileList(e.target.files))} />
        </label>
      </div>
      <div
        className={`drop ${over ? 'over' : ''}`}
        data-testid="drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        Drop a dataset here: a .zip (like horse2zebra.zip or facades), folders, or images
      </div>
      {loading && loading.total > 0 && (
        <p>
          Decoding {loading.done} / {loading.total}… <progress value={loading.done} max={loading.total} />
        </p>
      )}
      {dataset && (
        <div data-testid="dataset">
          <p>
            <strong>{dataset.name}</strong>: {dataset.mode === 'pix2pix' ? 'pix2pix' : 'CycleGAN'} ({dataset.arrangement}),{' '}
            {dataset.arrangement === 'unaligned' ? `${dataset.countA} A and ${dataset.countB} B images` : `${dataset.countA} pairs`}
            {dataset.testCount > 0 && `, ${dataset.testCount} held out`}
            {dataset.ignored > 0 && `; ${dataset.ignored} hidden ${dataset.ignored === 1 ? 'file' : 'files'} skipped`}
          </p>
          {thumbnails &&
            (['A', 'B'] as const).map(
              (d) =>
                thumbnails[d].length > 0 && (
                  <div className="strip" key={d} aria-label={`Domain ${d} thumbnails`}>
                    <span className="muted small">{dataset.arrangement === 'unaligned' ? d : 'A|B'}</span>
                    {thumbnails[d].map((p, i) => (
                      <PictureCanvas key={i} picture={p} label={`${d} ${i + 1}`} enlarge={false} />
                    ))}
                  </div>
                ),
            )}
          {lastFiles && (
            <label>
              Train as{' '}
              <select aria-label="Train as" value={dataset.mode} onChange={(e) => load(lastFiles, e.target.value as 'pix2pix' | 'cycle_gan')}>
                <option value="pix2pix">pix2pix (paired)</option>
                <option value="cycle_gan">CycleGAN (unpaired)</option>
              </select>
            </label>
          )}
          {dataset.problems.length > 0 && (
            <details open>
              <summary>{dataset.problems.length} {dataset.problems.length === 1 ? 'file' : 'files'} could not be used</summary>
              <ul className="problems" data-testid="problems">
                {dataset.problems.map((p) => (
                  <li key={p.path}>
                    <code>{p.path}</code>: {p.reason}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}
    </section>
  );
}
