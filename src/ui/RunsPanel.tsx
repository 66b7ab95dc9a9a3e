/** Runs saved in this browser: resume or delete. */
import { useStudio } from '../store/studio';
import type { TrainingClient } from '../worker/client';

export function RunsPanel({ client }: { client: TrainingClient }) {
  const runs = useStudio((s) => s.runs);
  const current = useStudio((s) => s.runId);
  const lastCheckpoint = useStudio((s) => s.lastCheckpoint);
  return (
    <section className="card" aria-labelledby="runs-title">
      <h2 id="runs-title">Saved runs</h2>
      <button onClick={() => client.send({ type: 'listRuns' })}>Refresh</button>
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
