/** Run controls and live numbers: step, epoch, learning rate, speed, the latest losses. */
import { useEffect } from 'react';
import { useStudio } from '../store/studio';
import type { TrainingClient } from '../worker/client';
import { PRESETS, presetConfig } from './presets';
import type { PresetName } from './presets';

export function TrainPanel({ client }: { client: TrainingClient }) {
  const dataset = useStudio((s) => s.dataset);
  const runState = useStudio((s) => s.runState);
  const reason = useStudio((s) => s.reason);
  const progress = useStudio((s) => s.progress);
  const history = useStudio((s) => s.history);
  const lastCheckpoint = useStudio((s) => s.lastCheckpoint);
  const preset = useStudio((s) => s.preset);
  const setPreset = useStudio((s) => s.setPreset);
  const running = runState === 'running';
  const canStart = !!dataset && dataset.countA > 0 && runState !== 'loading' && !running;
  const hasRun = runState === 'paused' || running;

  const toggle = () => client.send({ type: running ? 'pause' : 'resume' });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.code === 'Space' && hasRun && !(e.target instanceof HTMLInputElement || e.target instanceof HTMLButtonElement)) {
        e.preventDefault();
        toggle();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const latest = history ? Object.entries(history.values).map(([k, v]) => [k, v.at(-1)] as const) : [];
  return (
    <section className="card" aria-labelledby="train-title">
      <h2 id="train-title">Training</h2>
      <label>
        Preset{' '}
        <select value={preset} onChange={(e) => setPreset(e.target.value as PresetName)} aria-label="Preset">
          {(Object.keys(PRESETS) as PresetName[]).map((p) => (
            <option key={p} value={p}>
              {PRESETS[p]}
            </option>
          ))}
        </select>
      </label>
      <div className="buttons">
        <button disabled={!canStart} onClick={() => dataset && client.send({ type: 'start', config: presetConfig(preset, dataset.mode) })}>
          Start
        </button>
        <button disabled={!hasRun} onClick={toggle}>
          {running ? 'Pause' : 'Resume'}
        </button>
        <button disabled={!hasRun} onClick={() => client.send({ type: 'stop' })}>
          Stop
        </button>
      </div>
      <p data-testid="run-state">
        {runState}
        {reason && <span className="warn"> — {reason}</span>}
        {reason && runState === 'paused' && <button onClick={() => client.send({ type: 'revert' })}>Back to last checkpoint</button>}
      </p>
      {progress && (
        <dl className="numbers">
          <dt>Step</dt>
          <dd data-testid="step">{progress.step}</dd>
          <dt>Epoch</dt>
          <dd>
            {progress.epoch} / {progress.epochs}
          </dd>
          <dt>Learning rate</dt>
          <dd>{progress.lr.toExponential(2)}</dd>
          <dt>Speed</dt>
          <dd>{progress.stepsPerSecond.toFixed(2)} steps/s</dd>
          {lastCheckpoint && (
            <>
              <dt>Saved</dt>
              <dd>step {lastCheckpoint.step}</dd>
            </>
          )}
        </dl>
      )}
      {latest.length > 0 && (
        <p className="losses" data-testid="losses">
          {latest.map(([k, v]) => (
            <span key={k}>
              {k} {v === undefined ? '–' : v.toFixed(3)}
            </span>
          ))}
        </p>
      )}
    </section>
  );
}
