import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import JSZip from 'jszip';

/**
 * The Marketplace page: its links come from package.json, each task has its YAML example
 * and the picture of its summary (npm run screenshots), and the pictures are in the vsix
 * the page is published from. Run `npm run build` first when running this file alone.
 */

const root = path.resolve(__dirname, '..');
const tasks = ['KeyVaultSecrets', 'AcrPromoteImage', 'AksDeploy', 'AcceptanceGate'];
const screenshot = (task: string) => `images/screenshots/${task}.png`;

interface PackageModule {
  marketplaceLinks(packageJson: unknown): { repository?: string; links: Record<string, { uri: string }> };
}

describe('the Marketplace page', () => {
  const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    homepage: string;
    repository: { url: string };
    bugs: { url: string };
  };
  const overview = readFileSync(path.join(root, 'overview.md'), 'utf8');
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

  it('takes its links from package.json: getting started, support and the repository', async () => {
    const { marketplaceLinks } = (await import(
      pathToFileURL(path.join(root, 'scripts', 'package.mjs')).href
    )) as PackageModule;
    assert.deepEqual(marketplaceLinks(packageJson), {
      repository: packageJson.repository.url,
      links: {
        getstarted: { uri: packageJson.homepage },
        support: { uri: packageJson.bugs.url },
        repository: { uri: packageJson.repository.url },
      },
    });
    for (const link of [packageJson.repository.url, packageJson.bugs.url])
      assert.ok(overview.includes(`(${link})`), `overview.md does not link ${link}`);
  });

  for (const task of tasks) {
    it(`shows ${task}@1 with a YAML example and the picture of its summary`, () => {
      assert.match(
        overview,
        new RegExp(`- task: ${task}@1\\n`),
        `no YAML example of ${task}@1 in overview.md`,
      );
      assert.ok(
        existsSync(path.join(root, screenshot(task))),
        `${screenshot(task)} is missing: npm run screenshots`,
      );
      const png = readFileSync(path.join(root, screenshot(task)));
      assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', `${screenshot(task)} is not a PNG`);
      assert.equal(png.readUInt32BE(16), 820, `${screenshot(task)} is not 820 px wide`);
      assert.ok(overview.includes(`](${screenshot(task)})`), `overview.md does not show ${screenshot(task)}`);
      assert.ok(readme.includes(`](${screenshot(task)})`), `README.md does not show ${screenshot(task)}`);
    });
  }

  it('says that the repository the template example names is the reader’s fork or import', () => {
    assert.match(overview, /name: Platform\/aks-release-flow # your fork or import of this repository/);
  });

  describe('the vsix', () => {
    let outDir: string;
    let zip: JSZip;
    before(async function () {
      this.timeout(120_000);
      if (tasks.some((task) => !existsSync(path.join(root, 'dist', 'tasks', task, 'task.json'))))
        execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
      outDir = mkdtempSync(path.join(tmpdir(), 'marketplace-vsix-'));
      execFileSync(process.execPath, [path.join(root, 'scripts', 'package.mjs'), '--out-dir', outDir], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const vsix = readdirSync(outDir).find((file) => file.endsWith('.vsix'))!;
      zip = await JSZip.loadAsync(readFileSync(path.join(outDir, vsix)));
    });
    after(() => rmSync(outDir, { recursive: true, force: true }));

    it('ships every picture overview.md shows, addressable', async () => {
      const shown = [...overview.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((match) => match[1]!);
      assert.ok(shown.length >= tasks.length + 1, shown.join(', '));
      const manifest = await zip.file('extension.vsixmanifest')!.async('string');
      for (const image of shown) {
        assert.ok(zip.file(image), `${image} is not in the vsix`);
        assert.ok(manifest.includes(`Path="${image}" Addressable="true"`), `${image} is not addressable`);
      }
    });

    it('carries the links in its manifest', async () => {
      const manifest = await zip.file('extension.vsixmanifest')!.async('string');
      for (const link of [packageJson.homepage, packageJson.bugs.url, packageJson.repository.url])
        assert.ok(manifest.includes(link), `${link} is not in extension.vsixmanifest`);
    });
  });
});
