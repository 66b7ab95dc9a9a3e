/** Files that could not be used, grouped by reason, so forty identical lines read as one. */
import type { Problem } from './dataset';

/** Problems that share a reason. */
export interface ProblemGroup {
  /** The reason they all share, word for word when `same`, else the kind of reason (each problem keeps its own). */
  reason: string;
  same: boolean;
  problems: Problem[];
}

/** The kind of a reason: its words before the details ("too small (8×8): …" → "too small"). */
export const reasonKind = (reason: string): string => reason.split(/ \(|:|;/)[0].trim();

/**
 * Groups problems by their exact reason; reasons seen once that share a kind ("too small (8×8)", "too small
 * (10×12)") are grouped by that kind. Groups come in the order their first problem came; files in name order.
 */
export function groupProblems(problems: Problem[]): ProblemGroup[] {
  const exact = new Map<string, Problem[]>();
  for (const p of problems) exact.set(p.reason, [...(exact.get(p.reason) ?? []), p]);
  const groups = new Map<string, ProblemGroup>();
  for (const [reason, list] of exact) {
    const key = list.length > 1 ? `=${reason}` : `~${reasonKind(reason)}`;
    const group = groups.get(key);
    if (group) {
      group.problems.push(...list);
      group.same = false;
      group.reason = reasonKind(reason);
    } else groups.set(key, { reason, same: true, problems: [...list] });
  }
  const byName = (x: Problem, y: Problem) => x.path.localeCompare(y.path, 'en', { numeric: true });
  return [...groups.values()].map((g) => ({ ...g, problems: g.problems.sort(byName) }));
}
