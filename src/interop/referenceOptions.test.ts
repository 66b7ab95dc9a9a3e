import { describe, expect, it } from 'vitest';
import { OptionsFileError, TRAIN_PY_FLAGS, parseOptionsFile, pythonFloat, trainOptText } from './referenceOptions';
import { defaultRunConfig, setOption } from '../config/runConfig';
import type { RunConfig } from '../config/runConfig';

/** Applies options in order, as a user would in the options panel. */
const configure = (model: 'pix2pix' | 'cycle_gan', ...set: [string, unknown][]): RunConfig => set.reduce((c, [k, v]) => setOption(c, k, v), defaultRunConfig(model));

// Both made by /usr/bin/python3 from an argparse parser with train.py's options and print_options' format lines:
// `python train.py --dataroot ./datasets/facades --name facades_studio --model pix2pix --direction BtoA --lr 1e-05 --lambda_L1 50 --continue_train --epoch_count 12`
const PIX2PIX_TRAIN_OPT = `----------------- Options ---------------
               batch_size: 1                             
                    beta1: 0.5                           
          checkpoints_dir: ./checkpoints                 
           continue_train: True                          \t[default: False]
                crop_size: 256                           
                 dataroot: ./datasets/facades            \t[default: None]
             dataset_mode: aligned                       
                direction: BtoA                          \t[default: AtoB]
              display_env: main                          
             display_freq: 400                           
               display_id: 1                             
            display_ncols: 4                             
             display_port: 8097                          
           display_server: http://localhost              
          display_winsize: 256                           
                    epoch: latest                        
              epoch_count: 12                            \t[default: 1]
                 gan_mode: vanilla                       
                  gpu_ids: 0                             
                init_gain: 0.02                          
                init_type: normal                        
                 input_nc: 3                             
                  isTrain: True                          \t[default: None]
                lambda_L1: 50.0                          \t[default: 100.0]
                load_iter: 0                             \t[default: 0]
                load_size: 286                           
                       lr: 1e-05                         \t[default: 0.0002]
           lr_decay_iters: 50                            
                lr_policy: linear                        
         max_dataset_size: inf                           
                    model: pix2pix                       \t[default: cycle_gan]
                 n_epochs: 100                           
           n_epochs_decay: 100                           
               n_layers_D: 3                             
                     name: facades_studio                \t[default: experiment_name]
                      ndf: 64                            
                     netD: basic                         
                     netG: unet_256                      
                      ngf: 64                            
               no_dropout: False                         
                  no_flip: False                         
                  no_html: False                         
                     norm: batch                         
              num_threads: 4                             
                output_nc: 3                             
                    phase: train                         
                pool_size: 0                             
               preprocess: resize_and_crop               
               print_freq: 100                           
             save_by_iter: False                         
          save_epoch_freq: 5                             
         save_latest_freq: 5000                          
           serial_batches: False                         
                   suffix:                               
         update_html_freq: 1000                          
                use_wandb: False                         
                  verbose: False                         
       wandb_project_name: CycleGAN-and-pix2pix          
----------------- End -------------------
`;
// `python train.py --dataroot ./datasets/horse2zebra --name h2z_studio --model cycle_gan --netG unet_128 --ngf 32 --lambda_identity 0 --no_flip --batch_size 4 --gpu_ids 0,1,2,3`
const CYCLE_GAN_TRAIN_OPT = `----------------- Options ---------------
               batch_size: 4                             \t[default: 1]
                    beta1: 0.5                           
          checkpoints_dir: ./checkpoints                 
           continue_train: False                         
                crop_size: 256                           
                 dataroot: ./datasets/horse2zebra        \t[default: None]
             dataset_mode: unaligned                     
                direction: AtoB                          
              display_env: main                          
             display_freq: 400                           
               display_id: 1                             
            display_ncols: 4                             
             display_port: 8097                          
           display_server: http://localhost              
          display_winsize: 256                           
                    epoch: latest                        
              epoch_count: 1                             
                 gan_mode: lsgan                         
                  gpu_ids: 0,1,2,3                       \t[default: 0]
                init_gain: 0.02                          
                init_type: normal                        
                 input_nc: 3                             
                  isTrain: True                          \t[default: None]
                 lambda_A: 10.0                          
                 lambda_B: 10.0                          
          lambda_identity: 0.0                           \t[default: 0.5]
                load_iter: 0                             \t[default: 0]
                load_size: 286                           
                       lr: 0.0002                        
           lr_decay_iters: 50                            
                lr_policy: linear                        
         max_dataset_size: inf                           
                    model: cycle_gan                     
                 n_epochs: 100                           
           n_epochs_decay: 100                           
               n_layers_D: 3                             
                     name: h2z_studio                    \t[default: experiment_name]
                      ndf: 64                            
                     netD: basic                         
                     netG: unet_128                      \t[default: resnet_9blocks]
                      ngf: 32                            \t[default: 64]
               no_dropout: True                          
                  no_flip: True                          \t[default: False]
                  no_html: False                         
                     norm: instance                      
              num_threads: 4                             
                output_nc: 3                             
                    phase: train                         
                pool_size: 50                            
               preprocess: resize_and_crop               
               print_freq: 100                           
             save_by_iter: False                         
          save_epoch_freq: 5                             
         save_latest_freq: 5000                          
           serial_batches: False                         
                   suffix:                               
         update_html_freq: 1000                          
                use_wandb: False                         
                  verbose: False                         
       wandb_project_name: CycleGAN-and-pix2pix          
----------------- End -------------------
`;

describe('writing train_opt.txt', () => {
  it('writes a pix2pix run byte for byte as the reference does, [default: …] comments included', () => {
    const c = configure('pix2pix', ['direction', 'BtoA'], ['lr', 0.00001], ['lambda_L1', 50]);
    expect(trainOptText(c, { name: 'facades_studio', dataroot: './datasets/facades', epoch_count: 12 })).toBe(PIX2PIX_TRAIN_OPT);
  });
  it('writes a CycleGAN run on four GPUs byte for byte as the reference does', () => {
    const c = configure('cycle_gan', ['netG', 'unet_128'], ['ngf', 32], ['lambda_identity', 0], ['no_flip', true], ['batch_size', 4]);
    expect(trainOptText(c, { name: 'h2z_studio', dataroot: './datasets/horse2zebra', epoch_count: 1, gpu_ids: '0,1,2,3' })).toBe(CYCLE_GAN_TRAIN_OPT);
  });
  it('lists only options train.py knows, sorted, each line padded as print_options pads it', () => {
    const lines = trainOptText(defaultRunConfig('cycle_gan'), { name: 'n', dataroot: 'd', epoch_count: 1 }).trimEnd().split('\n').slice(1, -1);
    const keys = lines.map((l) => l.split(':')[0].trim());
    expect(keys).toEqual([...keys].sort());
    expect(keys.filter((k) => k !== 'isTrain' && !TRAIN_PY_FLAGS.has(k))).toEqual([]);
    expect(keys).toEqual(expect.arrayContaining(['lambda_A', 'lambda_B', 'lambda_identity', 'continue_train', 'epoch_count', 'save_epoch_freq', 'checkpoints_dir']));
    expect(keys).not.toContain('lambda_L1');
    for (const l of lines) expect(l.indexOf(': ')).toBe(25);
  });
  it('writes floats as Python does', () => {
    expect([100, 0.0002, 0.00001, 0.5, 0, 1e16, 2.5e-7, Infinity].map(pythonFloat)).toEqual(['100.0', '0.0002', '1e-05', '0.5', '0.0', '1e+16', '2.5e-07', 'inf']);
  });
});

describe('reading an options file', () => {
  it('reads the reference-format file into the config it was written from, with the run fields', () => {
    const r = parseOptionsFile(PIX2PIX_TRAIN_OPT, 'train_opt.txt');
    expect(r.config).toEqual(configure('pix2pix', ['direction', 'BtoA'], ['lr', 0.00001], ['lambda_L1', 50]));
    expect(r).toMatchObject({ name: 'facades_studio', dataroot: './datasets/facades', epoch: 'latest', epoch_count: 12, notes: [] });
    expect(r.values.display_server).toBe('http://localhost');
    expect(r.values.suffix).toBe('');
  });
  it('says when the run used several GPUs', () => {
    const r = parseOptionsFile(CYCLE_GAN_TRAIN_OPT, 'train_opt.txt');
    expect(r.config.batch_size).toBe(4);
    expect(r.notes).toEqual(['the run used 4 GPUs (gpu_ids 0,1,2,3), which split batch_size 4 between them; here one device takes the whole batch']);
  });
  const roundTrips: [string, RunConfig][] = [
    ['pix2pix defaults', defaultRunConfig('pix2pix')],
    ['cycle_gan defaults', defaultRunConfig('cycle_gan')],
    ['pix2pix, resnet_6blocks, instance norm, lsgan, flags', configure('pix2pix', ['netG', 'resnet_6blocks'], ['norm', 'instance'], ['gan_mode', 'lsgan'], ['no_dropout', true], ['no_flip', true], ['pool_size', 50], ['lr', 0.0001], ['batch_size', 8])],
    ['pix2pix, unet_64 (ours), step policy, crop only', configure('pix2pix', ['netG', 'unet_64'], ['ngf', 16], ['lr_policy', 'step'], ['lr_decay_iters', 30], ['preprocess', 'crop'], ['crop_size', 64], ['n_epochs', 3], ['n_epochs_decay', 7])],
    ['cycle_gan, unet_256, batch norm, pixel D, vanilla', configure('cycle_gan', ['netG', 'unet_256'], ['norm', 'batch'], ['netD', 'pixel'], ['gan_mode', 'vanilla'], ['lambda_A', 5], ['lambda_B', 2.5], ['lambda_identity', 0.1], ['beta1', 0.9])],
    ['cycle_gan, n_layers D, dropout on, grey input, scale_width', configure('cycle_gan', ['netD', 'n_layers'], ['n_layers_D', 4], ['no_dropout', false], ['input_nc', 1], ['lambda_identity', 0], ['preprocess', 'scale_width'], ['load_size', 512], ['ndf', 32], ['lr_policy', 'cosine'])],
  ];
  for (const [what, c] of roundTrips) {
    it(`gives back the train and data options it was written from: ${what}`, () => {
      const r = parseOptionsFile(trainOptText(c, { name: 'run', dataroot: './datasets/x', epoch_count: 5 }), 'train_opt.txt');
      expect({ train: r.config.train, data: r.config.data, batch_size: r.config.batch_size }).toEqual({ train: c.train, data: c.data, batch_size: c.batch_size });
      expect(r).toMatchObject({ name: 'run', dataroot: './datasets/x', epoch_count: 5, notes: [] });
    });
  }
  it('reads an old opt.txt: other header, no padding, old option names, gpu_ids as a list', () => {
    const old = ['------------ Options -------------', 'batchSize: 1', 'beta1: 0.5', 'dataroot: ./datasets/maps', 'fineSize: 256', 'gpu_ids: [0]', 'identity: 0.5',
      'isTrain: True', 'loadSize: 286', 'model: cycle_gan', 'name: maps_cyclegan', 'niter: 100', 'niter_decay: 50', 'no_dropout: True',
      'which_model_netG: resnet_6blocks', 'which_epoch: latest', 'resize_or_crop: resize_and_crop', '-------------- End ----------------', ''].join('\n');
    const r = parseOptionsFile(old, 'opt.txt');
    expect(r.config.train).toMatchObject({ model: 'cycle_gan', netG: 'resnet_6blocks', n_epochs: 100, n_epochs_decay: 50, lambda_identity: 0.5 });
    expect(r).toMatchObject({ name: 'maps_cyclegan', epoch: 'latest', epoch_count: null });
    expect(r.notes).toContain('read the old option niter_decay as n_epochs_decay');
    expect(r.notes.join('\n')).not.toMatch(/GPU/);
  });
  it('reads syncbatch as batch, and says so', () => {
    const r = parseOptionsFile('model: pix2pix\nnorm: syncbatch\nnetG: unet_256\n', 'train_opt.txt');
    expect(r.config.train.norm).toBe('batch');
    expect(r.notes).toEqual(['norm syncbatch (batch norm synchronised across GPUs) is read as batch: on one device they are the same']);
  });
  it('names what it does not follow where it matters, and a fork\'s extra options', () => {
    const r = parseOptionsFile(trainOptText(defaultRunConfig('cycle_gan'), { name: 'n', dataroot: 'd', epoch_count: 1 }) + 'vessel_nc: 1\ninit_type: xavier\nmax_dataset_size: 1000\nlr_policy: plateau\n', 'train_opt.txt');
    expect(r.notes).toEqual([
      '--lr_policy plateau is not one of linear, step, cosine: kept linear',
      'init_type xavier (gain 0.02): the studio initialises networks the files do not bring with normal(0, 0.02)',
      'max_dataset_size 1000: the studio trains on every image it is given',
      "options the reference does not have (a fork's?), not used here: vessel_nc",
    ]);
  });
  it('refuses a model the studio does not train, naming it', () => {
    expect(() => parseOptionsFile('model: colorization\nnetG: unet_256\nnorm: batch\n', 'opt.txt')).toThrow('opt.txt: is the options of a "colorization" run; the studio trains pix2pix and cycle_gan only');
    expect(() => parseOptionsFile('model: test\nnetG: unet_256\nnorm: batch\nphase: test\n', 'test_opt.txt')).toThrow(/test_opt.txt: .*"test" run.*pick the train_opt.txt next to it/);
  });
  it("refuses a network it cannot build, naming the file and the value", () => {
    expect(() => parseOptionsFile('model: cycle_gan\nnetG: dual_encoder_resnet_9blocks\nngf: 64\n', 'train_opt.txt')).toThrow(
      'train_opt.txt: --netG dual_encoder_resnet_9blocks is not one of resnet_9blocks, resnet_6blocks, unet_256, unet_128, unet_64, unet_32: the studio cannot build this network',
    );
  });
  it('refuses a bad number, naming the file and the option', () => {
    expect(() => parseOptionsFile('model: cycle_gan\nngf: many\nnetG: resnet_9blocks\n', 'opt.txt')).toThrow('opt.txt: --ngf needs a whole number ≥ 1, got "many"');
  });
  it('refuses files that are not options files, with a named error', () => {
    for (const [text, file] of [['# My notes\nSome text about the run.\nAnother: line\n', 'README.md'], ['{"netG": "unet_256", "ngf": 64}', 'opt.json'], ['PK\u0003\u0004\0\0binary', 'train_opt.txt'], ['', 'opt.txt']]) {
      let error: unknown;
      try {
        parseOptionsFile(text, file);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(OptionsFileError);
      expect((error as Error).name).toBe('OptionsFileError');
      expect((error as Error).message).toMatch(new RegExp(`^${file.replace('.', '\\.')}: is not an options file`));
    }
  });
});
