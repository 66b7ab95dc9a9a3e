/** Runs saved in this browser: resume or delete. */
import { useEffect } from 'react';
import { download } from '../export/modelZip';
import { useStudio } from '../store/studio';
import type { TrainingClient } from '../worker/client';

export function RunsPanel({ client }: { client: TrainingClient }) {
  const runs = useStudio((s) => s.runs);
  const current = useStudio((s) => s.runId);
  const lastCheckpoint = useStudio((s) => s.lastCheckpoint);
  const runState = useStudio((s) => s.runState);
  useEffect(
    () =>
      client.on((e) => {
        if (e.type === 'checkpointFile') download(e.name, e.data, 'application/zip');
      }),
    [client],
  );
  return (
    <section className="card" aria-labelledby="runs-title">
      <h2 id="runs-title">Saved runs</h2>
      <div className="buttons">
        <button onClick={() => client.send({ type: 'listRuns' })}>Refresh</button>
        <button disabled={!current || runState === 'idle' || runState === 'loading'} onClick={() => client.send({ type: 'exportCheckpoint' })}>
          Export checkpoint
        </button>
        <label className="file-button">
          Import checkpoint
          <input type="file" accept=".zip" aria-label="Import checkpoint" onChange={(e) => e.target.files?.[0] && client.send({ type: 'importCheckpoint', file: e.target.files[0] })} />
        </label>
      </div>
      {runs.length === 0 ? (
        <p className="muted">None yet: a run is saved every few minutes and whenever you pause.</p>
      ) : (
        <ul className="runs" data-testid="runs" data-checkpoint={lastCheckpoint?.step ?? ''}>
          {runs.map((r) => (
            <li key={r.runId}>
              <span>
                {r.model === 'pix2pix' ? 'pix2pix' : 'CycleGAN'} on {r.datasetName}, step {r.step} (epoch {r.epoch}),{' '}
                {new Date(r.savedAt).toLocaleString()}
                {r.runId === current && ' (current)'}
              </span>
              <button onClick={() => client.send({ type: 'resumeRun', runId: r.runId })} aria-label={`Resume run ${r.runId}`}>
                Resume
              </button>
              <button onClick={() => client.send({ type: 'deleteRun', runId: r.runId })} aria-label={`Delete run ${r.runId}`}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
