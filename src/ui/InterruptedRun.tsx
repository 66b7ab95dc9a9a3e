/** The offer a page makes after it was closed mid-run: that run is saved, and one click trains on. */
import { trainingTarget, useStudio } from '../store/studio';
import type { TrainingClient } from '../worker/client';
import type { RunInfo } from '../worker/protocol';

/** How the studio names a saved run. */
export const describeRun = (r: RunInfo) => `${r.model === 'pix2pix' ? 'pix2pix' : 'CycleGAN'} on ${r.datasetName}, step ${r.step} (epoch ${r.epoch})`;

export function InterruptedRun({ client }: { client: TrainingClient }) {
  const runs = useStudio((s) => s.runs);
  const current = useStudio((s) => s.runId);
  const interrupted = useStudio((s) => s.interruptedRun);
  const runState = useStudio((s) => s.runState);
  const lost = interrupted && !current ? runs.find((r) => r.runId === interrupted) : undefined;
  if (!lost) return null;
  return (
    <p className="small" role="status" data-testid="interrupted">
      Training was interrupted when the page closed: {describeRun(lost)} is saved.{' '}
      <button
        disabled={runState === 'starting' || runState === 'loading'}
        onClick={() => client.send({ type: 'resumeRun', runId: lost.runId, ...trainingTarget(useStudio.getState()) })}
      >
        Resume it
      </button>
    </p>
  );
}
