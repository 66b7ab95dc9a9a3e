/** Remembers, across reloads, which run was training, so that a page that closed mid-run can offer to resume it. */
const KEY = 'gan-studio.training-run';

/** The run that was training when the last page closed without pausing or stopping it, if any. */
export function interruptedRun(): string | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: no offer, nothing lost (the run is still in Saved runs)
  }
}

/** Notes the run that is training now (null: none is). */
export function noteTraining(runId: string | null): void {
  try {
    if (typeof localStorage === 'undefined') return;
    if (runId) localStorage.setItem(KEY, runId);
    else localStorage.removeItem(KEY);
  } catch {
    // storage disabled: see above
  }
}
