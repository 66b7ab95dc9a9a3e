import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { createGenerator, NET_G, runAtAnySize, sizeMultiple } from '../model';
import type { NetG } from '../model';
import { modelZip, sideMultiple } from './modelZip';
import type { ExportFile } from './modelZip';

/** A generator's files as the worker exports them: `name.json` (topology + manifest) and `name.weights.bin`. */
async function exported(net: tf.LayersModel, name: string): Promise<ExportFile[]> {
  const files: ExportFile[] = [];
  await net.save(
    tf.io.withSaveHandler(async ({ weightData, weightSpecs, modelTopology }) => {
      const json = { modelTopology, weightsManifest: [{ paths: [`${name}.weights.bin`], weights: weightSpecs }] };
      files.push({ name: `${name}.json`, data: new TextEncoder().encode(JSON.stringify(json)).buffer as ArrayBuffer });
      files.push({ name: `${name}.weights.bin`, data: tf.io.concatenateArrayBuffers(weightData!) });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return files;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
/** The fenced code block of a language in a README. */
const block = (readme: string, lang: string) => new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme)![1];

describe('the exported model package', () => {
  it('names each network’s own side multiple in the README and in both snippets', async () => {
    for (const netG of NET_G) {
      const net = createGenerator({ netG: netG as NetG, ngf: 2 });
      const files = await exported(net, 'netG');
      net.dispose();
      const multiple = sizeMultiple(netG as NetG);
      expect(sideMultiple(text(new Uint8Array(files[0].data))), netG).toBe(multiple);
      const readme = text(unzipSync(modelZip(files, 'pix2pix', `--netG ${netG}`))['README.md']);
      expect(readme, netG).toContain(`Sides a multiple of ${multiple}**`);
      expect(block(readme, 'html'), netG).toContain(`runAtAnySize(tf, netG, x, ${multiple}, { training: true })`);
      expect(block(readme, 'js'), netG).toContain(`runAtAnySize(tf, netG, x, ${multiple}, { training: true })`);
    }
  });

  it('keeps the PyTorch and ONNX exports at their paths, and its README says what they are', async () => {
    const net = createGenerator({ netG: 'unet_32', ngf: 2 });
    const bytes = new Uint8Array([1, 2, 3]).buffer;
    const extras = ['pytorch/checkpoints/run/latest_net_G.pth', 'pytorch/checkpoints/run/train_opt.txt', 'onnx/netG.onnx'].map((name) => ({ name, data: bytes }));
    const zip = unzipSync(modelZip(await exported(net, 'netG'), 'pix2pix', '', extras));
    net.dispose();
    for (const e of extras) expect(zip[e.name], e.name).toEqual(new Uint8Array([1, 2, 3]));
    const readme = text(zip['README.md']);
    expect(readme).toContain('## Also in this zip');
    expect(readme).toContain('`pytorch/checkpoints/run/`: the run as the reference');
    expect(readme).toContain('`onnx/netG.onnx`: each generator as ONNX (opset 17)');
  });

  it('ships the README’s snippets as files that are the same code', async () => {
    const net = createGenerator({ netG: 'unet_32', ngf: 2 });
    const zip = unzipSync(modelZip([...(await exported(net, 'netG_A')), ...(await exported(net, 'netG_B'))], 'cycle_gan', ''));
    net.dispose();
    expect(Object.keys(zip).sort()).toEqual([
      'README.md', 'gan-studio-layers.js', 'index.html', 'netG_A/netG_A.json', 'netG_A/netG_A.weights.bin',
      'netG_B/netG_B.json', 'netG_B/netG_B.weights.bin', 'package.json', 'translate.mjs',
    ]);
    const readme = text(zip['README.md']);
    expect(block(readme, 'html')).toBe(text(zip['index.html']));
    expect(block(readme, 'js')).toBe(text(zip['translate.mjs']));
    expect(JSON.parse(text(zip['package.json']))).toMatchObject({ type: 'module', dependencies: { '@tensorflow/tfjs': expect.stringMatching(/^\^4\./) } });
    expect(block(readme, 'html')).not.toContain('{ training: true }'); // CycleGAN translates in inference mode
  });

  describe('the README’s Node snippet, run with node as written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gan-export-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('translates a 68×100 PPM through unet_32 as the studio does', async () => {
      const net = createGenerator({ netG: 'unet_32', ngf: 4, norm: 'instance' });
      const zip = unzipSync(modelZip(await exported(net, 'netG_A'), 'cycle_gan', '--netG unet_32'));
      for (const [path, data] of Object.entries(zip)) {
        mkdirSync(join(dir, path, '..'), { recursive: true });
        writeFileSync(join(dir, path), data);
      }
      writeFileSync(join(dir, 'translate.mjs'), block(text(zip['README.md']), 'js'));
      // what `npm install` would give: this project's TF.js
      symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
      const [h, w] = [68, 100];
      const rgb = Uint8Array.from({ length: h * w * 3 }, (_, i) => (i * 37 + ((i / 300) | 0) * 11) % 256);
      writeFileSync(join(dir, 'in.ppm'), Buffer.concat([Buffer.from(`P6\n# a comment, as some tools write\n${w} ${h}\n255\n`), rgb]));

      const log = execFileSync('node', ['translate.mjs', 'in.ppm', 'out.ppm'], { cwd: dir, encoding: 'utf8' });
      expect(log).toContain('translated in.ppm (100×68) to out.ppm');
      const out = readFileSync(join(dir, 'out.ppm'));
      const header = `P6\n${w} ${h}\n255\n`;
      expect(out.toString('latin1', 0, header.length)).toBe(header);
      const got = out.subarray(header.length);
      expect(got.length).toBe(h * w * 3);

      const expected = tf.tidy(() => {
        const x = tf.sub(tf.div(tf.tensor4d(rgb, [1, h, w, 3], 'float32'), 127.5), 1) as tf.Tensor4D;
        return tf.clipByValue(tf.round(tf.mul(tf.add(runAtAnySize(net, x, 32, false), 1), 127.5)), 0, 255).dataSync();
      });
      net.dispose();
      const worst = Math.max(...Array.from(got, (v, i) => Math.abs(v - expected[i])));
      expect(worst).toBeLessThanOrEqual(1);
    });

    it('says what to do with a file that is not a PPM', () => {
      writeFileSync(join(dir, 'photo.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
      let message = '';
      try {
        execFileSync('node', ['translate.mjs', 'photo.png', 'out.ppm'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
      } catch (e) {
        message = String((e as { stderr: string }).stderr);
      }
      expect(message).toContain('photo.png: not an 8-bit binary PPM (P6); convert the image first, e.g. magick photo.png photo.ppm');
    });
  });
});
