import { describe, expect, it } from 'vitest';
import { learningRateAt, lrFactor, MODEL_DEFAULTS } from './index';

const linear = { ...MODEL_DEFAULTS.cycle_gan }; // lr 0.0002, n_epochs 100, n_epochs_decay 100

describe('lr_policy linear (the reference steps its scheduler after each epoch)', () => {
  it('trains epoch 1 at the initial lr', () => {
    expect(learningRateAt(1, linear)).toBe(0.0002);
  });
  it('still trains epoch n_epochs at the initial lr', () => {
    expect(learningRateAt(100, linear)).toBe(0.0002);
  });
  it('decays by 1/(n_epochs_decay + 1) per epoch after that', () => {
    expect(lrFactor(101, linear)).toBeCloseTo(1 - 1 / 101, 12);
    expect(lrFactor(150, linear)).toBeCloseTo(1 - 50 / 101, 12);
  });
  it('trains the last epoch, n_epochs + n_epochs_decay, at lr/(n_epochs_decay + 1)', () => {
    expect(learningRateAt(200, linear)).toBeCloseTo(0.0002 / 101, 15);
  });
});

describe('other policies', () => {
  it('step divides by 10 every lr_decay_iters epochs', () => {
    const o = { ...linear, lr_policy: 'step' as const, lr_decay_iters: 50 };
    expect(lrFactor(50, o)).toBe(1);
    expect(lrFactor(51, o)).toBeCloseTo(0.1, 12);
    expect(lrFactor(101, o)).toBeCloseTo(0.01, 12);
  });
  it('cosine anneals to zero over n_epochs', () => {
    const o = { ...linear, lr_policy: 'cosine' as const };
    expect(lrFactor(1, o)).toBe(1);
    expect(lrFactor(51, o)).toBeCloseTo(0.5, 12);
    expect(lrFactor(101, o)).toBeCloseTo(0, 12);
  });
});
