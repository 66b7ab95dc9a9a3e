/**
 * Custom Keras-style layers the reference's networks need and TF.js lacks, registered for serialization:
 * import this module before `tf.loadLayersModel`. They are defined in `ganStudioLayers.js`, plain JavaScript
 * that exported models ship as is.
 */
import * as tf from '@tensorflow/tfjs';
import { registerGanStudioLayers } from './ganStudioLayers.js';

const classes = registerGanStudioLayers(tf);

/** Reflection padding of H and W (PyTorch `nn.ReflectionPad2d(p)`), NHWC. */
export const ReflectionPadding2D = classes.ReflectionPadding2D;
/** Instance normalisation (PyTorch `nn.InstanceNorm2d` defaults): no affine, no running statistics. */
export const InstanceNormalization = classes.InstanceNormalization;
/** Crops leading rows/cols: with a `valid` transposed conv, PyTorch's ConvTranspose2d(3, 2, 1, output_padding 1). */
export const CropTopLeft = classes.CropTopLeft;
/** Dropout with a per-step seed, active under `training: true`. */
export const StepDropout = classes.StepDropout;

/** Names of our custom layer classes, as they appear in a saved `model.json`. */
export const CUSTOM_LAYER_NAMES = ['ReflectionPadding2D', 'InstanceNormalization', 'CropTopLeft', 'StepDropout'] as const;
