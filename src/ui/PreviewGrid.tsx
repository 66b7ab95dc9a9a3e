/** The fixed preview images and their current translations, labelled. */
import { useEffect, useRef } from 'react';
import { useStudio } from '../store/studio';
import type { Picture } from '../worker/protocol';

function PictureCanvas({ picture, label }: { picture: Picture; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    c.width = picture.width;
    c.height = picture.height;
    c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(picture.data), picture.width, picture.height), 0, 0);
  }, [picture]);
  return (
    <figure>
      <canvas ref={ref} aria-label={label} />
      <figcaption>{label}</figcaption>
    </figure>
  );
}

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
