// `npm run screenshots`: one picture per task of the summary it uploads, as a run's
// Extensions tab shows it, taken from the demo's own runs with headless Chromium, for the
// Marketplace page (overview.md) and the README. It runs the demo twice (the happy path,
// then --break staging for a failed deploy), renders each summary with the same markdown
// renderer as the run reports (raw HTML shown as text, as Azure DevOps does), and writes
// images/screenshots/<Task>.png, which are committed and shipped in the vsix. Slow and
// machine-dependent, so it is not part of npm test; test/marketplace.test.ts checks the
// committed pictures are there, shipped and shown.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { repoRoot } from '../runner/extension-package';
import { escapeHtml, markdownToHtml } from '../runner/markdown';

const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const outDir = join(repoRoot, 'images', 'screenshots');
/** The Marketplace's overview column. */
const pageWidthPx = 820;

/** Which summary shows each task, and in which demo run it is found. */
const shots = [
  { task: 'KeyVaultSecrets', run: 'happy', title: /^Key Vault secrets \(orders-staging-kv\)/ },
  { task: 'AcrPromoteImage', run: 'happy', title: /^Image promotion to / },
  { task: 'AksDeploy', run: 'broken', title: /^Deploy to AKS \(staging\)/ },
  { task: 'AcceptanceGate', run: 'happy', title: /^Acceptance gate \(/ },
] as const;

// Azure DevOps's look for a summary section: its title bar (the file's name), then the
// markdown in Segoe UI at 14 px, tables with thin borders.
const styles = `
body{margin:0;background:#f8f8f8;font:14px/1.5 "Segoe UI",-apple-system,"DejaVu Sans",sans-serif;color:rgba(0,0,0,.9)}
.section{margin:12px;background:#fff;border-radius:4px;box-shadow:0 1.6px 3.6px rgba(0,0,0,.13),0 .3px .9px rgba(0,0,0,.11)}
.title{padding:12px 16px;font-weight:600;font-size:15px;border-bottom:1px solid #eaeaea}
.body{padding:4px 16px 12px;overflow-wrap:anywhere}
h2{font-size:18px;font-weight:600;margin:12px 0 8px}h3{font-size:15px;font-weight:600;margin:14px 0 6px}h4{font-size:14px;margin:12px 0 4px}
table{border-collapse:collapse;margin:6px 0;font-size:13px}th,td{border:1px solid #e0e0e0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4;font-weight:600}code{font:12px/1.4 Consolas,"DejaVu Sans Mono",monospace;background:#f4f4f4;padding:0 2px;word-break:break-all}
pre{background:#f4f4f4;padding:8px;white-space:pre-wrap;word-break:break-all}pre code{padding:0}
ul{margin:4px 0;padding-left:22px}p{margin:6px 0}
`;

function sectionPage(name: string, markdown: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><style>${styles}</style></head><body>
<div class="section" id="section"><div class="title">${escapeHtml(name)}</div><div class="body">${markdownToHtml(markdown)}</div></div>
<script>document.title = String(Math.ceil(document.getElementById('section').getBoundingClientRect().bottom) + 12)</script>
</body></html>`;
}

function chromiumArgs(profile: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    `--user-data-dir=${profile}`,
  ];
}

/** Renders `html` to a PNG `pageWidthPx` wide and as tall as its content. */
function screenshot(html: string, png: string): void {
  const work = mkdtempSync(join(tmpdir(), 'screenshot-'));
  try {
    const page = join(work, 'page.html');
    writeFileSync(page, html);
    const url = `file://${page}`;
    // First the page's height (the script puts it in the title), then the picture at that height.
    const dom = execFileSync(
      chromium,
      [...chromiumArgs(join(work, 'measure')), `--window-size=${pageWidthPx},2000`, '--dump-dom', url],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const height = Number(/<title>(\d+)<\/title>/.exec(dom)?.[1]);
    if (!height) throw new Error(`could not measure ${basename(png)}`);
    execFileSync(
      chromium,
      [
        ...chromiumArgs(join(work, 'shoot')),
        `--window-size=${pageWidthPx},${height}`,
        `--screenshot=${png}`,
        url,
      ],
      { stdio: 'ignore' },
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs the demo into `folder`; its summaries are in the run folders whatever the outcome. */
function runDemo(folder: string, args: readonly string[]): void {
  process.stdout.write(`npm run demo -- ${[...args, '--out-dir', relative(repoRoot, folder)].join(' ')}\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'demo/run.ts', '--out-dir', folder, ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (run.status === null) throw new Error('the demo was stopped');
}

/** Every summary file the demo's runs in `folder` kept. */
function summaries(folder: string): string[] {
  const runs = join(folder, 'runs');
  if (!existsSync(runs)) return [];
  return readdirSync(runs, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md') && entry.parentPath.includes('summaries'))
    .map((entry) => join(entry.parentPath, entry.name));
}

function main(): number {
  if (!existsSync(chromium)) {
    console.error(
      `screenshots: no Chromium at ${chromium}: sudo apt-get install chromium fonts-noto-color-emoji`,
    );
    return 2;
  }
  const work = join(repoRoot, 'dist', 'screenshots');
  const folders = { happy: join(work, 'happy'), broken: join(work, 'broken') };
  rmSync(work, { recursive: true, force: true });
  runDemo(folders.happy, []);
  runDemo(folders.broken, ['--break', 'staging']);
  mkdirSync(outDir, { recursive: true });
  let missing = 0;
  for (const shot of shots) {
    const found = summaries(folders[shot.run]).find((file) =>
      shot.title.test(basename(file).replace(/^\d+-/, '')),
    );
    if (!found) {
      console.error(`screenshots: no summary for ${shot.task} in the ${shot.run} demo run; run again.`);
      missing++;
      continue;
    }
    // The run folder prefixes the step's number; the Extensions tab shows the uploaded name.
    const name = basename(found).replace(/^\d+-/, '');
    const png = join(outDir, `${shot.task}.png`);
    screenshot(sectionPage(name, readFileSync(found, 'utf8')), png);
    process.stdout.write(`${name} → ${relative(repoRoot, png)}\n`);
  }
  return missing > 0 ? 1 : 0;
}

process.exitCode = main();
