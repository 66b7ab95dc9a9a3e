/** Which data each chart draws when the charts redraw one after another, one per task, to keep tasks short. */

/**
 * The next step of a staggered redraw, or null when every chart shows `latest`. Chart i takes what chart i − 1
 * shows; only once all charts show the same data does chart 0 take the latest. So a newer snapshot never cancels
 * a redraw before it reaches the last chart, and whenever no redraw is under way, every chart ends at the same step.
 */
export function nextDrawn<T>(drawn: readonly (T | null)[], latest: T): (T | null)[] | null {
  const behind = drawn.findIndex((d, i) => i > 0 && d !== drawn[i - 1]);
  if (behind < 0 && drawn[0] === latest) return null;
  const next = drawn.slice();
  if (behind < 0) next[0] = latest;
  else next[behind] = drawn[behind - 1];
  return next;
}
