// Renders the project's SVG artwork to the PNGs the Marketplace and Azure Pipelines show:
// images/icon.svg → images/icon.png (the extension's icon), images/tasks/<Task>.svg →
// tasks/<Task>/icon.png for every task that exists, and images/pipeline-flow.svg →
// images/pipeline-flow.png (the templates' flow, shown in the README and overview.md). The PNGs are committed, so a build
// needs no renderer; run `npm run images` after changing an SVG. test/images.test.ts checks
// that every committed PNG is what this renders from its SVG.
import { Resvg } from '@resvg/resvg-js';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { taskNames } from './build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// The Marketplace asks for at least 128×128. Azure Pipelines draws a task's icon at
// 32×32; rendering at twice that keeps it sharp on high-density screens.
const extensionIconPx = 128;
const taskIconPx = 64;
// The diagram is drawn 1000 units wide; twice the Marketplace's 820 px column stays sharp.
const diagramPx = 1640;

/** Every rendering: an SVG, the PNG made from it, and the PNG's width. Task artwork counts once its task exists. */
export function renderings() {
  const tasks = new Set(taskNames());
  const artwork = readdirSync(join(root, 'images', 'tasks')).filter((file) => file.endsWith('.svg'));
  return [
    {
      svg: join(root, 'images', 'icon.svg'),
      png: join(root, 'images', 'icon.png'),
      widthPx: extensionIconPx,
    },
    {
      svg: join(root, 'images', 'pipeline-flow.svg'),
      png: join(root, 'images', 'pipeline-flow.png'),
      widthPx: diagramPx,
    },
    ...artwork
      .map((file) => basename(file, '.svg'))
      .filter((task) => tasks.has(task))
      .map((task) => ({
        svg: join(root, 'images', 'tasks', `${task}.svg`),
        png: join(root, 'tasks', task, 'icon.png'),
        widthPx: taskIconPx,
      })),
  ];
}

/** The PNG bytes of `svgPath` rendered `widthPx` wide. */
export function renderPng(svgPath, widthPx) {
  return new Resvg(readFileSync(svgPath), { fitTo: { mode: 'width', value: widthPx } }).render().asPng();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { svg, png, widthPx } of renderings()) {
    const bytes = renderPng(svg, widthPx);
    writeFileSync(png, bytes);
    console.log(`${relative(root, svg)} → ${relative(root, png)} (${widthPx}px, ${bytes.length} bytes)`);
  }
  const missing = taskNames().filter((task) => !existsSync(join(root, 'images', 'tasks', `${task}.svg`)));
  if (missing.length > 0) {
    console.error(`No artwork for: ${missing.join(', ')}. Add images/tasks/<Task>.svg for each.`);
    process.exitCode = 1;
  }
}
