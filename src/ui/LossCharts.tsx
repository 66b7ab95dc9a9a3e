/** Live loss curves, grouped as the reference logs them: smoothing, log scale, series toggles, hover values. */
import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useStudio } from '../store/studio';
import { chartRows, LOSS_GROUPS } from './charts/series';

const COLOURS = ['#3b5bdb', '#e8590c', '#2b8a3e', '#ae3ec9'];
/** Points drawn per series, whatever the run's length. */
const MAX_POINTS = 300;

/** Charts redraw at most this often; the numbers panel shows every update. */
const REDRAW_MS = 2000;

/** The value, updated at most every `ms` (the latest one always lands). */
function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = Math.max(0, last.current + ms - performance.now());
    const id = setTimeout(() => {
      last.current = performance.now();
      setShown(value);
    }, wait);
    return () => clearTimeout(id);
  }, [value, ms]);
  return shown;
}

export function LossCharts() {
  // drawing SVG charts is the page's heaviest work: throttle it, and render it interruptibly
  const history = useDeferredValue(useThrottled(useStudio((s) => s.history), REDRAW_MS));
  const model = useStudio((s) => s.runModel);
  const [smoothing, setSmoothing] = useState(0.6);
  const [log, setLog] = useState(false);
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const groups = useMemo(() => (model ? LOSS_GROUPS[model] : []), [model]);
  const rows = useMemo(
    () => groups.map((g) => (history ? chartRows(history.firstStep, history.values, g.names, { smoothing, max: MAX_POINTS, log }) : [])),
    [history, groups, smoothing, log],
  );
  // a stable toggle (functional update), so the memoized chart tree need not depend on it
  const toggle = useCallback((name: string) => {
    setHidden((prev) => {
      const next = new Set(prev);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });
  }, []);
  // the chart tree is rebuilt only when what it draws changes, not on every store update
  const charts = useMemo(
    () =>
      !history || !model ? (
        <p className="muted">Curves appear here once training starts.</p>
      ) : (
        <ChartGrid groups={groups} rows={rows} log={log} hidden={hidden} onToggle={toggle} />
      ),
    [history, model, groups, rows, log, hidden, toggle],
  );
  return (
    <section className="card charts" aria-labelledby="loss-title">
      <div className="chart-head">
        <h2 id="loss-title">Losses</h2>
        <label>
          Smoothing {smoothing.toFixed(2)}
          <input type="range" min={0} max={0.99} step={0.01} value={smoothing} aria-label="Smoothing" onChange={(e) => setSmoothing(Number(e.target.value))} />
        </label>
        <label>
          <input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} aria-label="Log scale" /> Log scale
        </label>
      </div>
      {charts}
    </section>
  );
}

interface ChartGridProps {
  groups: { title: string; names: string[] }[];
  rows: Record<string, number>[][];
  log: boolean;
  hidden: Set<string>;
  onToggle(name: string): void;
}

function ChartGrid({ groups, rows, log, hidden, onToggle }: ChartGridProps) {
  return (
    <div className="chart-grid" data-testid="charts">
      {groups.map((g, i) => (
        <figure key={g.title} className="chart" data-testid={`chart-${i}`} data-points={rows[i].length}>
          <figcaption>{g.title}</figcaption>
          <ResponsiveContainer width="100%" height={180}>
            <LineChart data={rows[i]} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeOpacity={0.15} />
              <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} tick={{ fontSize: 11 }} allowDecimals={false} />
              <YAxis scale={log ? 'log' : 'auto'} domain={['auto', 'auto']} tick={{ fontSize: 11 }} width={44} allowDataOverflow />
              <Tooltip formatter={(v) => (typeof v === 'number' ? v.toPrecision(4) : String(v))} labelFormatter={(s) => `step ${s}`} />
              <Legend onClick={(e) => onToggle(String(e.dataKey))} wrapperStyle={{ fontSize: 12, cursor: 'pointer' }} />
              {g.names.map((n, j) => (
                <Line key={n} dataKey={n} stroke={COLOURS[j % COLOURS.length]} dot={false} isAnimationActive={false} strokeWidth={1.5} hide={hidden.has(n)} connectNulls={false} />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </figure>
      ))}
    </div>
  );
}
