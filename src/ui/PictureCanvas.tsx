/** Draws an RGBA picture from the worker on a canvas; click to see it large. */
import { useEffect, useRef, useState } from 'react';
import type { Picture } from '../worker/protocol';

export function PictureCanvas({ picture, label, enlarge = true }: { picture: Picture; label: string; enlarge?: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const big = useRef<HTMLCanvasElement>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    for (const c of [ref.current, big.current]) {
      if (!c) continue;
      c.width = picture.width;
      c.height = picture.height;
      c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(picture.data), picture.width, picture.height), 0, 0);
    }
  }, [picture, open]);
  return (
    <figure>
      {enlarge ? (
        <button className="picture" onClick={() => setOpen(true)} aria-label={`${label}: show large`}>
          <canvas ref={ref} aria-label={label} />
        </button>
      ) : (
        <canvas ref={ref} aria-label={label} className="thumb" />
      )}
      {enlarge && <figcaption>{label}</figcaption>}
      {open && (
        <div className="lightbox" role="dialog" aria-label={label} onClick={() => setOpen(false)} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
          <canvas ref={big} />
          <p>{label}, {picture.width}×{picture.height}. Click to close.</p>
        </div>
      )}
    </figure>
  );
}
