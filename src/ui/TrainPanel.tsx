/** Run controls and live numbers: step, epoch, learning rate, speed, the latest losses. */
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { backendMenuEntry, startBlockers, trainingTarget, useStudio } from '../store/studio';
import type { BackendMenuEntry } from '../store/studio';
import type { TrainingClient } from '../worker/client';
import { InterruptedRun } from './InterruptedRun';
import type { EngineReport } from '../worker/protocol';

/** Time to the end of the schedule, in words. */
export function eta(stepsLeft: number, stepsPerSecond: number): string {
  if (stepsLeft <= 0) return 'done';
  if (!(stepsPerSecond > 0)) return '–';
  const s = stepsLeft / stepsPerSecond;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}

/** True when a key press belongs to a form control (a select, a field, a button) rather than to the page. */
function inFormControl(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON', 'OPTION'].includes(target.tagName));
}

type Timing = NonNullable<ReturnType<typeof useStudio.getState>['timing']>;

/** The step a WebGPU run takes, in words: the compiled one, or TF.js's with why. */
function engineWords(r: EngineReport): string {
  if (r.engine !== 'compiled') return `TF.js step${r.reason ? ` (${r.reason})` : ''}`;
  const t = r.tuning;
  if (!t) return 'compiled WebGPU step';
  const tuned = `conv kernels tuned for this GPU: ${t.passes} passes${t.fromStore ? ` (${t.fromStore} remembered)` : ''}, ${(t.ms / 1000).toFixed(1)} s`;
  return `compiled WebGPU step (${tuned}${t.leftDefault ? `; ${t.leftDefault} left for later runs` : ''})`;
}

/** What the automatic backend choice is doing: which backend, how far along, and how long it may still take. */
function BackendTiming({ timing }: { timing: Timing }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(id);
  }, []);
  const seconds = Math.max(0, (now - timing.since) / 1000);
  return (
    <p className="small" data-testid="backend-timing" role="status">
      Choosing the fastest backend on this machine: timing {timing.backend} ({timing.index + 1} of {timing.of}) on this model, {seconds.toFixed(0)} s
      {timing.budgetMs !== null && ` of at most ${Math.ceil(timing.budgetMs / 1000)} s`}…{' '}
      <progress value={timing.index + Math.min(0.95, timing.budgetMs ? (seconds * 1000) / timing.budgetMs : 0.5)} max={timing.of} aria-label="Backend timing progress" /> Stop cancels.
    </p>
  );
}

export function TrainPanel({ client }: { client: TrainingClient }) {
  const dataset = useStudio((s) => s.dataset);
  const runState = useStudio((s) => s.runState);
  const reason = useStudio((s) => s.reason);
  const progress = useStudio((s) => s.progress);
  const history = useStudio((s) => s.history);
  const lastCheckpoint = useStudio((s) => s.lastCheckpoint);
  const config = useStudio((s) => s.config);
  const menuEntry = useStudio(backendMenuEntry);
  const setBackendChoice = useStudio((s) => s.setBackendChoice);
  const measurement = useStudio((s) => s.measurement);
  const engine = useStudio((s) => s.engine);
  const chooseEntry = (entry: BackendMenuEntry) =>
    entry === 'webgpu-tfjs' ? setBackendChoice('webgpu', 'tfjs') : entry === 'webgpu' ? setBackendChoice('webgpu', 'compiled') : setBackendChoice(entry);
  const blockers = useStudio(useShallow(startBlockers));
  const running = runState === 'running';
  const timing = useStudio((s) => s.timing);
  const starting = runState === 'starting';
  const canStart = !!dataset && dataset.countA > 0 && runState !== 'loading' && !running && !starting && blockers.length === 0;
  const hasRun = runState === 'paused' || running;

  const toggle = () => client.send({ type: running ? 'pause' : 'resume' });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.code === 'Space' && hasRun && !inFormControl(e.target)) {
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
      <div className="buttons">
        <button disabled={!canStart} onClick={() => client.send({ type: 'start', config, ...trainingTarget(useStudio.getState()) })} title={hasRun ? 'Start a new run with these options (the current one stays saved)' : undefined}>
          {hasRun ? 'Start new run' : 'Start'}
        </button>
        <button disabled={!hasRun} onClick={toggle}>
          {running ? 'Pause' : 'Resume'}
        </button>
        <button disabled={!hasRun && !starting} onClick={() => client.send({ type: 'stop' })} title={starting ? 'Cancel the Start' : 'End the run, saved at its last step'}>
          Stop
        </button>
        <button
          disabled={!(hasRun || runState === 'stopped' || runState === 'done')}
          onClick={() => client.send({ type: 'reset' })}
          title="Leave this run (it stays in Saved runs) and start over with the current options"
        >
          Reset
        </button>
      </div>
      <label className="small">
        Backend{' '}
        <select aria-label="Backend" value={menuEntry} onChange={(e) => chooseEntry(e.target.value as BackendMenuEntry)}>
          <option value="auto">automatic (fastest measured)</option>
          <option value="webgpu">WebGPU</option>
          <option value="webgpu-tfjs">WebGPU, TF.js step</option>
          <option value="webgl">WebGL</option>
          <option value="cpu">CPU</option>
        </select>
      </label>
      {timing && <BackendTiming timing={timing} />}
      {measurement && (
        <p className="small" data-testid="backend-choice">
          Training on {measurement.chosen}
          {measurement.chosen === 'webgpu' && engine && <span data-testid="step-engine"> · {engineWords(engine)}</span>}: {measurement.reason}.
        </p>
      )}
      <InterruptedRun client={client} />
      {!dataset && <p className="muted small">Load data first: a demo, a folder or a zip.</p>}
      {blockers.length > 0 && (
        <p className="warn small" data-testid="start-blockers" role="status">
          Fix the options first: {blockers.join('; ')}
        </p>
      )}
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
          <dd>{progress.stepsPerSecond > 0 ? `${progress.stepsPerSecond.toFixed(2)} steps/s` : '–'}</dd>
          <dt>Time left</dt>
          <dd data-testid="eta">{running ? eta(progress.totalSteps - progress.step, progress.stepsPerSecond) : runState === 'done' ? 'done' : `– (${runState})`}</dd>
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
