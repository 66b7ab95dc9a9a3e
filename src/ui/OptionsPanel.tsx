/**
 * Model and options: presets, every reference option by name, what the networks cost, and the reference's command
 * line both ways.
 */
import { Fragment, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { memoryFigure, nextBackend, useStudio } from '../store/studio';
import { getOption, OPTIONS, toCommandLine, validateRunConfig } from '../config/runConfig';
import type { OptionSpec } from '../config/runConfig';
import { matchingPreset, PRESETS } from '../config/presets';
import type { PresetName } from '../config/presets';
import { formatBytes, limitsOf, stepSize, trainingSide } from '../config/sizeLimits';

const BASIC = ['model', 'netG', 'ngf', 'ndf', 'crop_size', 'load_size', 'n_epochs', 'n_epochs_decay'];

function OptionField({ spec, problems }: { spec: OptionSpec; problems: string[] }) {
  const value = useStudio((s) => getOption(s.config, spec.name));
  const error = useStudio((s) => s.fieldErrors[spec.name]);
  const setOptionText = useStudio((s) => s.setOptionText);
  // the text as typed while the field has focus ("0." on the way to "0.5"); valid values apply as they are typed
  const [typing, setTyping] = useState<string | null>(null);
  const id = `opt-${spec.name}`;
  const messages = [...(error ? [error.message] : []), ...problems];
  const describedBy = messages.length ? `${id}-messages` : undefined;
  return (
    <div className={`option ${messages.length ? 'invalid' : ''}`}>
      <label htmlFor={id} title={spec.help}>
        {spec.name}
      </label>
      {spec.kind.type === 'enum' ? (
        <select id={id} value={String(value)} aria-describedby={describedBy} onChange={(e) => setOptionText(spec.name, e.target.value)}>
          {spec.kind.values.map((v) => (
            <option key={v}>{v}</option>
          ))}
        </select>
      ) : spec.kind.type === 'bool' ? (
        <input id={id} type="checkbox" checked={Boolean(value)} onChange={(e) => setOptionText(spec.name, String(e.target.checked))} />
      ) : (
        <input
          id={id}
          inputMode="decimal"
          aria-invalid={messages.length > 0}
          aria-describedby={describedBy}
          value={typing ?? error?.draft ?? String(value)}
          onChange={(e) => {
            setTyping(e.target.value);
            setOptionText(spec.name, e.target.value);
          }}
          onBlur={() => setTyping(null)}
        />
      )}
      <small className="help">{spec.help}</small>
      {messages.length > 0 && (
        <small id={describedBy} className="warn" role="status">
          {messages.join('; ')}
        </small>
      )}
    </div>
  );
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Each network's parameters and the memory of the step that will run: on WebGPU the compiled step's, counted by the
 * worker from its buffers (nothing is built), else TF.js's step's estimate from the layers' sizes.
 */
function NetworkSize() {
  const config = useStudio((s) => s.config);
  const backend = useStudio(nextBackend);
  const figure = useStudio(useShallow(memoryFigure));
  const unsupported = useStudio((s) => (s.compiledMemory?.config === s.config ? s.compiledMemory.unsupported : null));
  const size = useMemo(() => stepSize(config), [config]);
  const at = `at ${trainingSide(config)} px, batch ${config.batch_size}`;
  let text: string;
  let title: string;
  if (figure.step === 'compiled') {
    const m = figure.memory;
    text = `${formatBytes(m.total)} ${at} on the compiled WebGPU step: its buffers ${formatBytes(m.plan)} (${formatBytes(m.unshared)} unshared), weights ${formatBytes(m.weights)}, Adam ${formatBytes(m.adam)}`;
    title = "Counted from the compiled step's own buffers, those whose lifetimes do not overlap sharing memory; the dataset's images come on top";
  } else if (figure.step === 'counting') {
    text = `counting the compiled WebGPU step's buffers ${at}…`;
    title = 'The worker counts them from the options; nothing is built';
  } else {
    const { weights, gradients, adam, activations, total } = size.bytes;
    const on = backend === 'webgpu' && unsupported ? `TF.js's step (no compiled step: ${unsupported})` : `TF.js's step${backend ? ` on ${backend}` : ''}`;
    text = `about ${formatBytes(total)} ${at} on ${on}: weights ${formatBytes(weights)}, gradients ${formatBytes(gradients)}, Adam ${formatBytes(adam)}, activations ${formatBytes(activations)}`;
    title = "Estimated from the layers' sizes; the dataset's images come on top";
  }
  return (
    <dl className="numbers small" data-testid="network-size">
      {size.networks.map((n) => (
        <Fragment key={n.name}>
          <dt>{n.name}</dt>
          <dd data-testid={`params-${n.name}`}>{count(n.params)} parameters</dd>
        </Fragment>
      ))}
      <dt>Step memory</dt>
      <dd data-testid="step-memory" data-step={figure.step} title={title}>
        {text}
      </dd>
    </dl>
  );
}

export function OptionsPanel() {
  const config = useStudio((s) => s.config);
  const backend = useStudio((s) => s.backend);
  const setPreset = useStudio((s) => s.setPreset);
  const presetReason = useStudio((s) => s.presetReason);
  const modeNote = useStudio((s) => s.modeNote);
  const pasteCommandLine = useStudio((s) => s.pasteCommandLine);
  const urlErrors = useStudio((s) => s.configErrors);
  const [line, setLine] = useState('');
  const [lineNote, setLineNote] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const budget = useStudio((s) => s.memoryBudget);
  const figure = useStudio(useShallow(memoryFigure));
  const problems = validateRunConfig(config, limitsOf(backend, budget), figure);
  const problemsOf = (name: string) => problems.filter((p) => p.option === name).map((p) => p.message);
  const spec = (name: string) => OPTIONS.find((o) => o.name === name)!;
  const command = toCommandLine(config);
  // the pressed preset is the one the options are, so a link or an edit that matches none shows none
  const matching = matchingPreset(config);
  return (
    <section className="card" aria-labelledby="options-title">
      <h2 id="options-title">Model and options</h2>
      <div className="presets" role="group" aria-label="Presets">
        {(Object.keys(PRESETS) as PresetName[]).map((p) => (
          <button key={p} aria-pressed={p === matching} onClick={() => setPreset(p)} title={PRESETS[p]}>
            {PRESETS[p].split(':')[0]}
          </button>
        ))}
      </div>
      <p className="muted small" data-testid="preset-description">
        {matching ? PRESETS[matching] : 'Custom: these options match no preset'}
      </p>
      {presetReason && matching === 'tiny' && (
        <p className="small" data-testid="preset-reason">
          {presetReason}.
        </p>
      )}
      {modeNote && (
        <p className="small" data-testid="mode-note" role="status">
          {modeNote}
        </p>
      )}
      {urlErrors.length > 0 && <p className="warn small">Ignored from the link: {urlErrors.join('; ')}</p>}
      <div className="options">
        {BASIC.map((n) => (
          <OptionField key={n} spec={spec(n)} problems={problemsOf(n)} />
        ))}
      </div>
      <NetworkSize />
      <details>
        <summary>All options (the reference's names and defaults)</summary>
        <div className="options">
          {OPTIONS.filter((o) => !BASIC.includes(o.name)).map((o) => (
            <OptionField key={o.name} spec={o} problems={problemsOf(o.name)} />
          ))}
        </div>
      </details>
      <details>
        <summary>Reference command line</summary>
        <p className="small">
          <code data-testid="command-line">{command}</code>{' '}
          <button
            onClick={async () => {
              await navigator.clipboard?.writeText(command).catch(() => undefined);
              setCopied(true);
              setTimeout(() => setCopied(false), 1500);
            }}
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
        </p>
        <label className="small" htmlFor="cmdline">
          Paste a train.py command line to set these options (what it leaves out takes the reference's defaults)
        </label>
        <textarea id="cmdline" rows={2} value={line} onChange={(e) => setLine(e.target.value)} placeholder="--netG resnet_6blocks --ngf 32 --lambda_identity 0" />
        <button onClick={() => setLineNote(pasteCommandLine(line))}>Apply command line</button>
        {lineNote && (
          <p className="small" data-testid="command-line-note" role="status">
            {lineNote}
          </p>
        )}
      </details>
    </section>
  );
}
