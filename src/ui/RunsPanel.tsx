/** Runs saved in this browser: resume one in one click (on the chosen backend), export, import, delete after asking. */
import { useEffect, useState } from 'react';
import { download } from '../export/modelZip';
import { trainingTarget, useStudio } from '../store/studio';
import type { TrainingClient } from '../worker/client';
import { describeRun as describe } from './InterruptedRun';


export function RunsPanel({ client }: { client: TrainingClient }) {
  const runs = useStudio((s) => s.runs);
  const current = useStudio((s) => s.runId);
  const lastCheckpoint = useStudio((s) => s.lastCheckpoint);
  const runState = useStudio((s) => s.runState);
  const [confirming, setConfirming] = useState<string | null>(null);
  useEffect(
    () =>
      client.on((e) => {
        if (e.type === 'checkpointFile') download(e.name, e.data, 'application/zip');
      }),
    [client],
  );
  const busy = runState === 'starting' || runState === 'loading';
  const resume = (runId: string) => client.send({ type: 'resumeRun', runId, ...trainingTarget(useStudio.getState()) });
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
        <p className="muted">None yet: a run is saved every few seconds while it trains, and when you pause or stop.</p>
      ) : (
        <ul className="runs" data-testid="runs" data-checkpoint={lastCheckpoint?.step ?? ''}>
          {runs.map((r) => {
            const isCurrent = r.runId === current;
            return (
              <li key={r.runId}>
                <span>
                  {describe(r)}, {new Date(r.savedAt).toLocaleString()}
                  {isCurrent && ' (current)'}
                </span>
                {confirming === r.runId ? (
                  <span role="group" aria-label="Confirm delete" className="buttons">
                    <span className="warn">{isCurrent ? 'This is the run in hand: delete it and all its checkpoints?' : 'Delete this run and all its checkpoints?'}</span>
                    <button
                      onClick={() => {
                        setConfirming(null);
                        client.send({ type: 'deleteRun', runId: r.runId });
                      }}
                    >
                      Yes, delete
                    </button>
                    <button autoFocus onClick={() => setConfirming(null)}>
                      Keep it
                    </button>
                  </span>
                ) : (
                  <>
                    <button
                      disabled={busy || (isCurrent && runState === 'running')}
                      onClick={() => resume(r.runId)}
                      aria-label={`Resume run ${r.runId}`}
                      title="Load this run and train on from its last checkpoint, on the backend chosen in the Training card"
                    >
                      Resume
                    </button>
                    <button onClick={() => setConfirming(r.runId)} aria-label={`Delete run ${r.runId}`}>
                      Delete
                    </button>
                  </>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
