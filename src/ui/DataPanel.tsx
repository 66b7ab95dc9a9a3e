/** Where the images come from (two domains, one dataset folder, a zip or folder drop, or a demo) and what is loaded now. */
import { useEffect, useState } from 'react';
import type { DragEvent } from 'react';
import { fromDataTransfer, fromFileList } from '../data/collectFiles';
import { DEMOS } from '../data/dataset';
import type { DatasetSummary, DemoName, Problem, SourceFile } from '../data/dataset';
import { folderName } from '../data/datasetName';
import { groupProblems } from '../data/problems';
import type { ProblemGroup } from '../data/problems';
import { useStudio } from '../store/studio';
import type { TrainingClient } from '../worker/client';
import type { Picture, WorkerEvent } from '../worker/protocol';
import { PictureCanvas } from './PictureCanvas';
import './DataPanel.css';

type Mode = 'pix2pix' | 'cycle_gan';
type Domains = { A: SourceFile[]; B: SourceFile[] };

/** Thumbnails per page of the "Show all" view. */
const PAGE = 48;
/** Names shown in a problem group before "… more". */
const FIRST_NAMES = 3;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function DataPanel({ client }: { client: TrainingClient }) {
  const dataset = useStudio((s) => s.dataset);
  const loading = useStudio((s) => s.loading);
  /** Files found so far while a dropped folder is walked (null: no walk going on). */
  const [walked, setWalked] = useState<number | null>(null);
  const thumbnails = useStudio((s) => s.thumbnails);
  const failure = useStudio((s) => s.loadFailure);
  const [pending, setPending] = useState<Domains>({ A: [], B: [] });
  const [over, setOver] = useState(false);
  const [lastFiles, setLastFiles] = useState<SourceFile[] | null>(null);
  const [browsing, setBrowsing] = useState(false);

  // decode at the sizes the chosen preset trains at, so Start needs no second pass
  const data = () => useStudio.getState().config.data;
  const load = (files: SourceFile[], mode?: Mode) => {
    setLastFiles(files);
    setBrowsing(false);
    client.send({ type: 'load', source: { kind: 'files', files, mode }, data: data() });
  };
  /** A whole dataset (folder, drop, demo) replaces half-picked domains. */
  const loadWhole = (files: SourceFile[]) => {
    setPending({ A: [], B: [] });
    load(files);
  };
  const setDomain = (role: 'A' | 'B', files: SourceFile[]) => {
    const next = { ...pending, [role]: files };
    setPending(next);
    if (next.A.length && next.B.length) load([...next.A, ...next.B]);
  };
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    setWalked(0);
    try {
      loadWhole(await fromDataTransfer(e.dataTransfer, undefined, setWalked));
    } finally {
      setWalked(null);
    }
  };

  // Ordinary photos given as a whole dataset are one domain: they become Domain A, and the panel asks for B.
  useEffect(() => {
    if (failure?.oneDomain && lastFiles && !lastFiles.some((f) => f.role)) setPending({ A: lastFiles.map((f) => ({ ...f, role: 'A' })), B: [] });
    // only a new failure moves files (lastFiles is the load it belongs to)
  }, [failure]);

  const waitingFor = pending.A.length && !pending.B.length ? 'B' : pending.B.length && !pending.A.length ? 'A' : null;
  const showFailure = failure && !dataset && !loading;

  return (
    <section className="card data-panel" aria-labelledby="data-title">
      <h2 id="data-title">Data</h2>
      <div className="demos">
        {(Object.keys(DEMOS) as DemoName[]).map((name) => (
          <button
            key={name}
            onClick={() => {
              setPending({ A: [], B: [] });
              setLastFiles(null);
              setBrowsing(false);
              client.send({ type: 'load', source: { kind: 'demo', name }, data: data() });
            }}
          >
            Try demo: {DEMOS[name].title}
          </button>
        ))}
      </div>
      <div className="inputs">
        <label>
          Domain A
          <input type="file" multiple aria-label="Domain A" {...{ webkitdirectory: '' }} onChange={(e) => e.target.files && setDomain('A', fromFileList(e.target.files, 'A'))} />
        </label>
        <label>
          Domain B
          <input type="file" multiple aria-label="Domain B" {...{ webkitdirectory: '' }} onChange={(e) => e.target.files && setDomain('B', fromFileList(e.target.files, 'B'))} />
        </label>
        <label>
          Dataset folder
          <input type="file" multiple aria-label="Dataset folder" {...{ webkitdirectory: '' }} onChange={(e) => e.target.files && loadWhole(fromFileList(e.target.files))} />
        </label>
        <label>
          Dataset zip
          <input type="file" accept=".zip,application/zip" aria-label="Dataset zip" onChange={(e) => e.target.files && loadWhole(fromFileList(e.target.files))} />
        </label>
      </div>
      {waitingFor && (
        <p className="pending-hint" role="status" data-testid="pending">
          Domain {waitingFor === 'B' ? 'A' : 'B'}: {describeFiles(pending[waitingFor === 'B' ? 'A' : 'B'])}. Now pick <strong>Domain {waitingFor}</strong>, the
          other kind of images.
        </p>
      )}
      <div
        className={`drop ${over ? 'over' : ''}`}
        data-testid="drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        Drop a dataset here: a .zip (like horse2zebra.zip or facades), folders, or images
      </div>
      {walked !== null && <p data-testid="walking">Reading the folder: {walked.toLocaleString('en')} files so far…</p>}
      {loading && loading.total > 0 && (
        <p>
          Reading the first images {loading.done} / {loading.total}… <progress value={loading.done} max={loading.total} />
        </p>
      )}
      {showFailure && (
        <div className="load-failed" data-testid="load-failed">
          {failure.oneDomain ? (
            <>
              <p role="alert">{capitalised(failure.message)}.</p>
              {lastFiles && (
                <p className="small">
                  They are side-by-side A|B images after all?{' '}
                  <button onClick={() => load(lastFiles, 'pix2pix')}>Split each image into its A and B halves</button>
                </p>
              )}
            </>
          ) : (
            <>
              <p role="alert">
                <strong>{failure.name}</strong> could not be loaded: {failure.message}.
              </p>
              <p className="muted small">Nothing is loaded now: pick other data above, or try a demo.</p>
            </>
          )}
          {failure.problems.length > 0 && <Problems problems={failure.problems} />}
        </div>
      )}
      {dataset && (
        <div data-testid="dataset">
          <p>
            <strong>{dataset.name}</strong>: {dataset.mode === 'pix2pix' ? 'pix2pix' : 'CycleGAN'} ({dataset.arrangement}),{' '}
            {dataset.arrangement === 'unaligned' ? `${dataset.countA} A and ${dataset.countB} B images` : `${dataset.countA} pairs`}
            {dataset.testCount > 0 && `, ${dataset.testCount} held out`}
            {dataset.ignored > 0 && `; ${dataset.ignored} hidden ${dataset.ignored === 1 ? 'file' : 'files'} skipped`}
          </p>
          {dataset.unchecked > 0 && (
            <p className="muted small" data-testid="checking">
              Checking every image in the background: {dataset.unchecked.toLocaleString('en')} left. Any that cannot be used are listed below and
              skipped; you can start now.
            </p>
          )}
          {lastFiles && <PairingOffer dataset={dataset} onChoose={(mode) => load(lastFiles, mode)} />}
          {thumbnails && <Thumbnails dataset={dataset} thumbnails={thumbnails} />}
          {browsing ? (
            <Browser client={client} dataset={dataset} onClose={() => setBrowsing(false)} />
          ) : (
            <button className="show-all" onClick={() => setBrowsing(true)}>
              Show all ({dataset.arrangement === 'unaligned' ? dataset.countA + dataset.countB : dataset.countA})
            </button>
          )}
          {dataset.problems.length > 0 && <Problems problems={dataset.problems} />}
        </div>
      )}
    </section>
  );
}

/** "horses (30 files)", "photos" for a zip, or "8 files". */
function describeFiles(files: SourceFile[]): string {
  const name = folderName(files);
  if (!name) return plural(files.length, 'file');
  return files.length === 1 ? name : `${name} (${plural(files.length, 'file')})`;
}

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** When the names pair, the other way to train these files, one click away. */
function PairingOffer({ dataset, onChoose }: { dataset: DatasetSummary; onChoose: (mode: Mode) => void }) {
  const n = dataset.pairsByName ?? 0;
  if (n === 0) return null;
  if (dataset.arrangement === 'unaligned') {
    return (
      <p className="offer" data-testid="pairing">
        {n === 1 ? 'One file pairs' : `These ${n} files pair`} by name (the same file name in A and B): they can train pix2pix on pairs.{' '}
        <button onClick={() => onChoose('pix2pix')}>Train pix2pix on {plural(n, 'pair')}</button>
      </p>
    );
  }
  if (dataset.arrangement === 'paired') {
    return (
      <p className="offer" data-testid="pairing">
        Paired by file name, for pix2pix. The same files can also train CycleGAN as two unpaired domains.{' '}
        <button onClick={() => onChoose('cycle_gan')}>Train CycleGAN on two unpaired domains</button>
      </p>
    );
  }
  return null;
}

/** The first few images: two rows for two domains; for pairs, each A beside its B. */
function Thumbnails({ dataset, thumbnails }: { dataset: DatasetSummary; thumbnails: { A: Picture[]; B: Picture[] } }) {
  if (dataset.arrangement !== 'unaligned') {
    return (
      <div className="strip" role="list" aria-label="Pairs, A beside B">
        {thumbnails.A.map((a, i) => (
          <Pair key={i} pictures={[a, thumbnails.B[i]]} label={`pair ${i + 1}`} />
        ))}
      </div>
    );
  }
  return (
    <>
      {(['A', 'B'] as const).map(
        (d) =>
          thumbnails[d].length > 0 && (
            <div className="strip" key={d} aria-label={`Domain ${d} thumbnails`}>
              <span className="muted small">{d}</span>
              {thumbnails[d].map((p, i) => (
                <PictureCanvas key={i} picture={p} label={`${d} ${i + 1}`} enlarge={false} />
              ))}
            </div>
          ),
      )}
    </>
  );
}

/** A pair: A and B side by side, each labelled. */
function Pair({ pictures, label }: { pictures: Picture[]; label: string }) {
  return (
    <figure className="pair" role="listitem" aria-label={label}>
      {pictures.map((p, i) => (
        <span key={i}>
          <PictureCanvas picture={p} label={`${label}, ${i === 0 ? 'A' : 'B'}`} enlarge={false} />
          <small>{i === 0 ? 'A' : 'B'}</small>
        </span>
      ))}
    </figure>
  );
}

type ThumbnailPage = Extract<WorkerEvent, { type: 'thumbnailPage' }>;

/** The whole training set, a page at a time: each page is asked of the worker when shown. */
function Browser({ client, dataset, onClose }: { client: TrainingClient; dataset: DatasetSummary; onClose: () => void }) {
  const pairs = dataset.arrangement !== 'unaligned';
  const [domain, setDomain] = useState<'A' | 'B'>('A');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<ThumbnailPage | null>(null);
  // the worker pages over every file (an unusable one shows grey), so its total counts them all
  const total = page?.total ?? (domain === 'A' ? dataset.countA : dataset.countB);
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const at = Math.floor(offset / PAGE) + 1;

  useEffect(() => {
    setPage(null);
    const off = client.on((e) => {
      if (e.type === 'thumbnailPage' && e.domain === domain && e.offset === offset) setPage(e);
    });
    client.send({ type: 'thumbnails', domain, offset, count: PAGE });
    return () => {
      off();
    };
    // the background check updates the summary many times: a page is asked for again only for another dataset
  }, [client, domain, offset, dataset.name]);

  const go = (d: 'A' | 'B', o: number) => {
    setDomain(d);
    setOffset(o);
  };
  const title = pairs ? 'Pairs' : `Domain ${domain}`;
  return (
    <div className="browser" data-testid="browser">
      <div className="browser-bar">
        {!pairs &&
          (['A', 'B'] as const).map((d) => (
            <button key={d} aria-pressed={domain === d} onClick={() => go(d, 0)}>
              Domain {d} ({d === 'A' ? dataset.countA : dataset.countB})
            </button>
          ))}
        <button className="close" onClick={onClose}>
          Close
        </button>
      </div>
      <div className="browser-bar">
        <button onClick={() => go(domain, offset - PAGE)} disabled={at <= 1}>
          ‹ Previous
        </button>
        <span aria-live="polite">
          {title}: page {at} of {pages}
        </span>
        <button onClick={() => go(domain, offset + PAGE)} disabled={at >= pages}>
          Next ›
        </button>
      </div>
      {page ? (
        <ul className="browse-grid" aria-label={`${title}, page ${at} of ${pages}`}>
          {page.items.map((t, i) => (
            <li key={offset + i} title={t.name}>
              <div className="browse-pictures">
                {t.pictures.map((p, j) => (
                  <PictureCanvas key={j} picture={p} label={t.pictures.length === 2 ? `${t.name}, ${j === 0 ? 'A' : 'B'}` : t.name} enlarge={false} />
                ))}
              </div>
              <small>{t.name.split('/').at(-1)}</small>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">Reading thumbnails…</p>
      )}
    </div>
  );
}

/** Files that could not be used, one line per reason with a count and the first few names; the rest on request. */
function Problems({ problems }: { problems: Problem[] }) {
  const groups = groupProblems(problems);
  return (
    <details open>
      <summary>
        {plural(problems.length, 'file')} could not be used{groups.length > 1 ? `, for ${groups.length} reasons` : ''}
      </summary>
      <ul className="problems" data-testid="problems">
        {groups.map((g) => (
          <ProblemLine key={g.problems[0].path} group={g} />
        ))}
      </ul>
    </details>
  );
}

function ProblemLine({ group }: { group: ProblemGroup }) {
  const entry = (p: Problem) => (
    <li key={p.path}>
      <code>{p.path}</code>
      {!group.same && `: ${p.reason}`}
    </li>
  );
  if (group.problems.length === 1) {
    const [p] = group.problems;
    return (
      <li>
        <code>{p.path}</code>: {p.reason}
      </li>
    );
  }
  const rest = group.problems.slice(FIRST_NAMES);
  return (
    <li className="problem-group">
      <strong>{plural(group.problems.length, 'file')}</strong>: {group.reason}
      <ul>{group.problems.slice(0, FIRST_NAMES).map(entry)}</ul>
      {rest.length > 0 && (
        <details>
          <summary>{rest.length} more</summary>
          <ul>{rest.map(entry)}</ul>
        </details>
      )}
    </li>
  );
}
