// Renders the project's SVG artwork to the PNGs the Marketplace and Azure Pipelines show:
// images/icon.svg → images/icon.png (the extension's icon), images/tasks/<Task>.svg →
// tasks/<Task>/icon.png for every task that exists, and images/pipeline-flow.svg →
// images/pipeline-flow.png (the templates' flow, shown in the README and overview.md). The PNGs are committed, so a build
// needs no renderer; run `npm run images` after changing an SVG.
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
// The diagram is drawn 1504 units wide; twice that stays sharp when a page scales it.
const diagramPx = 3008;

function render(svgPath, pngPath, widthPx) {
  const png = new Resvg(readFileSync(svgPath), { fitTo: { mode: 'width', value: widthPx } }).render().asPng();
  writeFileSync(pngPath, png);
  console.log(`${relative(root, svgPath)} → ${relative(root, pngPath)} (${widthPx}px, ${png.length} bytes)`);
}

render(join(root, 'images', 'icon.svg'), join(root, 'images', 'icon.png'), extensionIconPx);
render(join(root, 'images', 'pipeline-flow.svg'), join(root, 'images', 'pipeline-flow.png'), diagramPx);

const tasks = new Set(taskNames());
const artwork = readdirSync(join(root, 'images', 'tasks')).filter((file) => file.endsWith('.svg'));
for (const file of artwork) {
  const task = basename(file, '.svg');
  // Artwork may be drawn before its task lands; it is rendered once the folder exists.
  if (tasks.has(task))
    render(join(root, 'images', 'tasks', file), join(root, 'tasks', task, 'icon.png'), taskIconPx);
}
const missing = [...tasks].filter((task) => !existsSync(join(root, 'images', 'tasks', `${task}.svg`)));
if (missing.length > 0) {
  console.error(`No artwork for: ${missing.join(', ')}. Add images/tasks/<Task>.svg for each.`);
  process.exitCode = 1;
}
