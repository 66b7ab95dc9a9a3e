/** The fixed preview images and their current translations, labelled. */
import { useStudio } from '../store/studio';
import { PictureCanvas } from './PictureCanvas';

export function PreviewGrid() {
  const previews = useStudio((s) => s.previews);
  if (!previews) return null;
  return (
    <section className="card previews" aria-labelledby="preview-title">
      <h2 id="preview-title">Translations at step {previews.step}</h2>
      <div className="rows" data-testid="previews" data-step={previews.step}>
        {previews.rows.map((row, i) => (
          <div className="row" key={i}>
            {row.pictures.map((p, j) => (
              <PictureCanvas key={j} picture={p} label={row.labels[j]} />
            ))}
          </div>
        ))}
      </div>
    </section>
  );
}
