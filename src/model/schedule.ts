/** The reference's learning-rate policies, as a factor of the initial `lr` for a 1-based epoch. */
import type { TrainConfig } from './options';

type ScheduleOptions = Pick<TrainConfig, 'lr_policy' | 'n_epochs' | 'n_epochs_decay' | 'lr_decay_iters'>;

/**
 * Factor during `epoch` (1-based). The reference steps its scheduler at the end of each epoch, so epoch e
 * trains at lambda(e - 1): `linear` holds 1 through n_epochs, then falls by 1/(n_epochs_decay + 1) per epoch.
 */
export function lrFactor(epoch: number, o: ScheduleOptions): number {
  const done = Math.max(0, epoch - 1); // epochs completed before this one
  switch (o.lr_policy) {
    case 'linear':
      return 1 - Math.max(0, done + 1 - o.n_epochs) / (o.n_epochs_decay + 1);
    case 'step':
      return 0.1 ** Math.floor(done / o.lr_decay_iters);
    case 'cosine':
      // CosineAnnealingLR(T_max = n_epochs, eta_min = 0).
      return (1 + Math.cos((Math.PI * done) / o.n_epochs)) / 2;
  }
}

/** Learning rate during `epoch` (1-based). */
export function learningRateAt(epoch: number, o: ScheduleOptions & Pick<TrainConfig, 'lr'>): number {
  return o.lr * lrFactor(epoch, o);
}

/** Total epochs of a run: n_epochs + n_epochs_decay. */
export const totalEpochs = (o: Pick<TrainConfig, 'n_epochs' | 'n_epochs_decay'>): number => o.n_epochs + o.n_epochs_decay;
