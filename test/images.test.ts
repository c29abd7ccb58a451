import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The committed artwork is what `npm run images` renders from its SVG (so an icon can
 * never drift from its drawing again), and the flow diagram stays legible where the
 * Marketplace shows it.
 */

const root = path.resolve(__dirname, '..');

interface Rendering {
  readonly svg: string;
  readonly png: string;
  readonly widthPx: number;
}

interface ImagesModule {
  renderings(): Rendering[];
  renderPng(svgPath: string, widthPx: number): Buffer;
}

/** The Marketplace's overview column is this wide; the README on a repository page is wider. */
const pageWidthPx = 820;
const smallestTextPx = 12;

describe('npm run images', () => {
  let images: ImagesModule;
  before(async () => {
    images = (await import(pathToFileURL(path.join(root, 'scripts', 'images.mjs')).href)) as ImagesModule;
  });

  it('renders the extension icon, the flow diagram and an icon for every task', () => {
    const pngs = images.renderings().map((each) => path.relative(root, each.png));
    for (const expected of ['images/icon.png', 'images/pipeline-flow.png', 'tasks/AksDeploy/icon.png'])
      assert.ok(pngs.includes(expected), `${expected} is not rendered`);
  });

  it('has every committed PNG exactly as rendered from its SVG (run npm run images after changing one)', function () {
    this.timeout(60_000);
    for (const { svg, png, widthPx } of images.renderings()) {
      assert.ok(
        images.renderPng(svg, widthPx).equals(readFileSync(png)),
        `${path.relative(root, png)} is not what ${path.relative(root, svg)} renders: run npm run images`,
      );
    }
  });

  it(`draws the flow diagram's text at ${smallestTextPx} px or more at ${pageWidthPx} px wide`, () => {
    const svg = readFileSync(path.join(root, 'images', 'pipeline-flow.svg'), 'utf8');
    const width = Number(/viewBox="0 0 ([\d.]+) /.exec(svg)?.[1]);
    assert.ok(width > 0, 'the diagram has a viewBox');
    const sizes = [...svg.matchAll(/font-size="([\d.]+)"/g)].map((match) => Number(match[1]));
    assert.ok(sizes.length > 0, 'every text names its font-size');
    assert.equal([...svg.matchAll(/<text\b/g)].length, sizes.length, 'a text without a font-size');
    const smallest = (Math.min(...sizes) * pageWidthPx) / width;
    assert.ok(
      smallest >= smallestTextPx,
      `the smallest text is ${smallest.toFixed(1)} px at ${pageWidthPx} px`,
    );
  });
});
