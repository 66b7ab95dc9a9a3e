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
