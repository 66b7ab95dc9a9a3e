/** Draws an RGBA picture from the worker on a canvas; click to see it large, in a dialog that Escape closes. */
import { useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { Picture } from '../worker/protocol';

export function PictureCanvas({ picture, label, enlarge = true }: { picture: Picture; label: string; enlarge?: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const big = useRef<HTMLCanvasElement>(null);
  const thumbButton = useRef<HTMLButtonElement>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    for (const c of [ref.current, big.current]) {
      if (!c) continue;
      c.width = picture.width;
      c.height = picture.height;
      c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(picture.data), picture.width, picture.height), 0, 0);
    }
  }, [picture, open]);
  const close = () => {
    setOpen(false);
    // focus goes back where it was before the dialog opened
    thumbButton.current?.focus();
  };
  return (
    <figure>
      {enlarge ? (
        <button ref={thumbButton} className="picture" onClick={() => setOpen(true)} aria-label={`${label}: show large`}>
          <canvas ref={ref} aria-label={label} />
        </button>
      ) : (
        <canvas ref={ref} aria-label={label} className="thumb" />
      )}
      {enlarge && <figcaption>{label}</figcaption>}
      {open && (
        <Lightbox label={`${label}, ${picture.width}×${picture.height}`} onClose={close}>
          <canvas ref={big} />
        </Lightbox>
      )}
    </figure>
  );
}

/** A modal view: focus moves to its Close button and stays inside; Escape, a click or Close closes it. */
function Lightbox({ label, onClose, children }: { label: string; onClose(): void; children: ReactNode }) {
  const closeButton = useRef<HTMLButtonElement>(null);
  // the latest onClose, so that the focus and key handling below is set up once per opening
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  useEffect(() => {
    closeButton.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        closeRef.current();
      } else if (e.key === 'Tab') {
        // the Close button is the dialog's only control: Tab stays on it
        e.preventDefault();
        closeButton.current?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
  return (
    <div className="lightbox" role="dialog" aria-modal="true" aria-label={label} onClick={onClose}>
      {children}
      <p>
        {label}. Escape or a click closes it. <button ref={closeButton}>Close</button>
      </p>
    </div>
  );
}
