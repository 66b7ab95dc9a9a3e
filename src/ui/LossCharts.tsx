/** Live loss curves, grouped as the reference logs them: smoothing, log scale, series toggles, hover values. */
import { memo, useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { useStudio } from '../store/studio';
import { chartRows, LOSS_GROUPS } from './charts/series';
import { nextDrawn } from './charts/staggered';

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
  // before a run, the chosen model's empty charts: they show where curves will appear, and the first (slowest)
  // drawing of a chart happens before training rather than during it
  const model = useStudio((s) => s.runModel ?? s.config.train.model);
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
      <>
        {!history && <p className="muted">Curves appear here once training starts.</p>}
        <ChartGrid key={model} groups={groups} rows={rows} log={log} hidden={hidden} onToggle={toggle} />
      </>,
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

/** Width of an element, followed with a ResizeObserver (its callback renders outside React's layout phase). */
function useWidth(): [(el: HTMLElement | null) => void, number] {
  const [width, setWidth] = useState(0);
  const observer = useRef<ResizeObserver | null>(null);
  const ref = useCallback((el: HTMLElement | null) => {
    observer.current?.disconnect();
    if (!el) return;
    observer.current = new ResizeObserver(([entry]) => setWidth(Math.floor(entry.contentRect.width)));
    observer.current.observe(el);
  }, []);
  return [ref, width];
}

const CHART_HEIGHT = 180;
/** Each chart draws in its own task, this long after the previous one: one long task becomes several short ones. */
const STAGGER_MS = 120;

/**
 * The snapshot each chart shows: a new one goes to the charts one at a time, STAGGER_MS apart, and the next waits
 * until the last chart has the current one, so all charts end at the same step between redraws.
 */
function useStaggered<T>(latest: T, count: number): (T | null)[] {
  const [drawn, setDrawn] = useState<(T | null)[]>(() => new Array<T | null>(count).fill(null));
  useEffect(() => {
    const next = nextDrawn(drawn, latest);
    if (!next) return;
    // a new redraw starts at once; each further chart waits its turn
    const id = setTimeout(() => setDrawn(next), next[0] !== drawn[0] ? 0 : STAGGER_MS);
    return () => clearTimeout(id);
  }, [drawn, latest]);
  return drawn;
}

function ChartGrid({ groups, rows, log, hidden, onToggle }: ChartGridProps) {
  // sized by our own observer, not recharts' ResponsiveContainer, whose measuring re-render runs synchronously
  // in a layout effect inside the charts' first draw
  const [measure, width] = useWidth();
  const drawn = useStaggered(rows, groups.length);
  return (
    <div className="chart-grid" data-testid="charts">
      {groups.map((g, i) => {
        const data = drawn[i]?.[i] ?? null;
        return (
          <figure key={g.title} className="chart" data-testid={`chart-${i}`} data-points={data?.length ?? 0} data-last-step={data?.at(-1)?.step ?? ''} ref={i === 0 ? measure : undefined}>
            <figcaption>{g.title}</figcaption>
            {/* our buttons rather than recharts' Legend: keyboard-reachable, and a third cheaper to draw */}
            <div className="legend">
              {g.names.map((n, j) => (
                <button key={n} type="button" className="legend-item" aria-pressed={!hidden.has(n)} title={hidden.has(n) ? `Show ${n}` : `Hide ${n}`} onClick={() => onToggle(n)}>
                  <span className="swatch" style={{ background: COLOURS[j % COLOURS.length] }} /> {n}
                </button>
              ))}
            </div>
            <Chart names={g.names} data={data} width={width} log={log} hidden={hidden} />
          </figure>
        );
      })}
    </div>
  );
}

interface ChartProps {
  names: string[];
  /** The rows drawn, null before the first redraw reaches this chart. */
  data: Record<string, number>[] | null;
  width: number;
  log: boolean;
  hidden: Set<string>;
}

const Chart = memo(function Chart({ names, data, width, log, hidden }: ChartProps) {
  // the tooltip is mounted on the first hover: it is a large share of a chart's drawing cost
  const [hovered, setHovered] = useState(false);
  if (!data || width <= 0) return <div style={{ height: CHART_HEIGHT }} />;
  return (
    <LineChart width={width} height={CHART_HEIGHT} data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }} onMouseEnter={() => setHovered(true)}>
      <CartesianGrid strokeOpacity={0.15} />
      <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} tick={{ fontSize: 11 }} allowDecimals={false} />
      <YAxis scale={log ? 'log' : 'auto'} domain={['auto', 'auto']} tick={{ fontSize: 11 }} width={44} allowDataOverflow />
      {hovered && <Tooltip formatter={(v) => (typeof v === 'number' ? v.toPrecision(4) : String(v))} labelFormatter={(s) => `step ${s}`} />}
      {names.map((n, j) => (
        <Line key={n} dataKey={n} stroke={COLOURS[j % COLOURS.length]} dot={false} isAnimationActive={false} strokeWidth={1.5} hide={hidden.has(n)} connectNulls={false} />
      ))}
    </LineChart>
  );
});
