/** What an imported reference checkpoint holds, and the run that can start from it. */
import { useStudio } from '../store/studio';
import type { RunConfig } from '../config/runConfig';
import type { ReferenceSummary } from '../worker/protocol';

/** The page's options with the checkpoint's network and training options (its data options stay the page's). */
const withCheckpoint = (page: RunConfig, summary: ReferenceSummary): RunConfig => ({ ...page, train: { ...summary.config.train } });

export function ReferenceImportCard({ summary, onStart }: { summary: ReferenceSummary; onStart: (config: RunConfig) => void }) {
  const runState = useStudio((s) => s.runState);
  const dataset = useStudio((s) => s.dataset);
  const config = useStudio((s) => s.config);
  const busy = runState === 'running' || runState === 'starting' || runState === 'loading';
  const action = summary.startEpoch > 1 ? `Continue training at epoch ${summary.startEpoch}` : 'Fine-tune on the loaded data';
  const blocker = !summary.canTrain
    ? 'Training needs every generator of the model.'
    : !dataset
      ? `Load ${summary.model === 'pix2pix' ? 'paired' : 'unpaired A and B'} data to train on.`
      : null;
  return (
    <div className="reference" data-testid="reference-summary">
      <p className="small">
        <strong>
          {summary.modelGuessed ? 'PyTorch generator' : `PyTorch ${summary.model} checkpoint`}
          {summary.name ? ` “${summary.name}”` : ''}
          {summary.epoch !== null ? `, epoch ${summary.epoch}` : ''}
        </strong>
        : {summary.networks.join(', ')}. Translate with it below.
      </p>
      <ul className="small">
        {summary.notes.map((n) => (
          <li key={n}>{n}</li>
        ))}
      </ul>
      <p className="small">
        <button disabled={!!blocker || busy} onClick={() => onStart(withCheckpoint(config, summary))}>
          {action}
        </button>{' '}
        <span className="muted">{blocker ?? 'Network and training options from the checkpoint; data options from the Options panel. Adam starts afresh, as in the reference.'}</span>
      </p>
    </div>
  );
}
