import type * as tfjs from '@tensorflow/tfjs';

type LayerArgs = ConstructorParameters<typeof tfjs.layers.Layer>[0];

export interface GanStudioLayerClasses {
  ReflectionPadding2D: new (args: LayerArgs & { padding: number }) => tfjs.layers.Layer & { readonly padding: number };
  InstanceNormalization: new (args?: LayerArgs & { epsilon?: number }) => tfjs.layers.Layer & { readonly epsilon: number };
  CropTopLeft: new (args: LayerArgs & { crop: number; keepEnd?: number }) => tfjs.layers.Layer & { readonly crop: number };
  StepDropout: new (args: LayerArgs & { rate: number }) => tfjs.layers.Layer & { readonly rate: number; seed: number | null };
}

/** Defines and registers GAN Studio's custom layers on this `tf`; returns the classes. */
export function registerGanStudioLayers(tf: typeof tfjs): GanStudioLayerClasses;

/**
 * Runs a generator on images of any size: reflect-pads H and W up to `multiple`, applies `net`, crops back.
 * `images`: float32 in [-1, 1], NHWC or one HWC image; the result has the same rank and size.
 */
export function runAtAnySize<T extends tfjs.Tensor3D | tfjs.Tensor4D>(
  tf: typeof tfjs,
  net: tfjs.LayersModel,
  images: T,
  multiple: number,
  options?: { training?: boolean },
): T;
