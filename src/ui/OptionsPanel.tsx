/** Model and options: mode, presets, every reference option by name, and the reference's command line both ways. */
import { useState } from 'react';
import { useStudio } from '../store/studio';
import { applyCommandLine, getOption, OPTIONS, parseValue, setOption, toCommandLine, validateRunConfig } from '../config/runConfig';
import type { OptionSpec } from '../config/runConfig';
import { PRESETS } from '../config/presets';
import type { PresetName } from '../config/presets';

const BASIC = ['model', 'netG', 'ngf', 'ndf', 'crop_size', 'load_size', 'n_epochs', 'n_epochs_decay'];

function OptionField({ spec, problems }: { spec: OptionSpec; problems: string[] }) {
  const config = useStudio((s) => s.config);
  const setConfig = useStudio((s) => s.setConfig);
  const value = getOption(config, spec.name);
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const commit = (raw: string) => {
    try {
      setConfig(setOption(config, spec.name, parseValue(spec.name, raw)));
      setError(null);
      setDraft(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const id = `opt-${spec.name}`;
  const messages = [...(error ? [error] : []), ...problems];
  return (
    <div className={`option ${messages.length ? 'invalid' : ''}`}>
      <label htmlFor={id} title={spec.help}>
        {spec.name}
      </label>
      {spec.kind.type === 'enum' ? (
        <select id={id} value={String(value)} onChange={(e) => commit(e.target.value)}>
          {spec.kind.values.map((v) => (
            <option key={v}>{v}</option>
          ))}
        </select>
      ) : spec.kind.type === 'bool' ? (
        <input id={id} type="checkbox" checked={Boolean(value)} onChange={(e) => commit(String(e.target.checked))} />
      ) : (
        <input
          id={id}
          inputMode="decimal"
          value={draft ?? String(value)}
          onChange={(e) => setDraft(e.target.value)}
          onBlur={(e) => commit(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && commit((e.target as HTMLInputElement).value)}
        />
      )}
      <small className="help">{spec.help}</small>
      {messages.map((m) => (
        <small key={m} className="warn" role="status">
          {m}
        </small>
      ))}
    </div>
  );
}

export function OptionsPanel() {
  const config = useStudio((s) => s.config);
  const setConfig = useStudio((s) => s.setConfig);
  const preset = useStudio((s) => s.preset);
  const setPreset = useStudio((s) => s.setPreset);
  const urlErrors = useStudio((s) => s.configErrors);
  const [line, setLine] = useState('');
  const [lineNote, setLineNote] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const problems = validateRunConfig(config);
  const problemsOf = (name: string) => problems.filter((p) => p.option === name).map((p) => p.message);
  const spec = (name: string) => OPTIONS.find((o) => o.name === name)!;
  const command = toCommandLine(config);
  return (
    <section className="card" aria-labelledby="options-title">
      <h2 id="options-title">Model and options</h2>
      <div className="presets" role="group" aria-label="Presets">
        {(Object.keys(PRESETS) as PresetName[]).map((p) => (
          <button key={p} aria-pressed={p === preset} onClick={() => setPreset(p)} title={PRESETS[p]}>
            {PRESETS[p].split(':')[0]}
          </button>
        ))}
      </div>
      <p className="muted small">{PRESETS[preset]}</p>
      {urlErrors.length > 0 && <p className="warn small">Ignored from the link: {urlErrors.join('; ')}</p>}
      <div className="options">
        {BASIC.map((n) => (
          <OptionField key={n} spec={spec(n)} problems={problemsOf(n)} />
        ))}
      </div>
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
          Paste a train.py command line to set these options
        </label>
        <textarea id="cmdline" rows={2} value={line} onChange={(e) => setLine(e.target.value)} placeholder="--netG resnet_6blocks --ngf 32 --lambda_identity 0" />
        <button
          onClick={() => {
            const r = applyCommandLine(config, line);
            setConfig(r.config);
            setLineNote([...r.errors, ...(r.ignored.length ? [`ignored (not used here): ${r.ignored.join(' ')}`] : [])].join('; ') || 'Applied.');
          }}
        >
          Apply command line
        </button>
        {lineNote && <p className="small">{lineNote}</p>}
      </details>
    </section>
  );
}
