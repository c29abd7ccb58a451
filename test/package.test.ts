import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import JSZip from 'jszip';

/**
 * The packaging step of `npm run package` (scripts/package.mjs) on the built tasks, and
 * `npm run version` (scripts/version.mjs) on a copy of the project's version files.
 * Run `npm run build` first when running this file alone.
 */

const root = path.resolve(__dirname, '..');
const packageScript = path.join(root, 'scripts', 'package.mjs');
const versionScript = path.join(root, 'scripts', 'version.mjs');

interface PackageModule {
  uuidV5(namespace: string, name: string): string;
}

interface TaskJson {
  id: string;
  name: string;
  friendlyName: string;
  version: { Major: number; Minor: number; Patch: number };
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function taskNames(): string[] {
  const tasksDir = path.join(root, 'tasks');
  return readdirSync(tasksDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(tasksDir, entry.name, 'task.json')))
    .map((entry) => entry.name)
    .sort();
}

interface PackageRun {
  status: number | null;
  stdout: string;
  stderr: string;
  vsixFiles: string[];
}

function runPackage(outDir: string, args: string[], env: Record<string, string> = {}): PackageRun {
  const environment = { ...process.env, EXTENSION_PUBLISHER: '', EXTENSION_VARIANT: '', ...env };
  const run = spawnSync(process.execPath, [packageScript, '--out-dir', outDir, ...args], {
    env: environment,
    encoding: 'utf8',
  });
  const vsixFiles = existsSync(outDir) ? readdirSync(outDir).filter((file) => file.endsWith('.vsix')) : [];
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, vsixFiles };
}

async function openVsix(file: string): Promise<JSZip> {
  return JSZip.loadAsync(readFileSync(file));
}

async function identityOf(
  zip: JSZip,
): Promise<{ id: string; publisher: string; version: string; name: string }> {
  const xml = await zip.file('extension.vsixmanifest')!.async('string');
  const identity = /<Identity\b([^>]*)\/>/.exec(xml)?.[1] ?? '';
  const attribute = (name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(identity)?.[1];
  return {
    id: attribute('Id')!,
    publisher: attribute('Publisher')!,
    version: attribute('Version')!,
    name: /<DisplayName>([^<]*)<\/DisplayName>/.exec(xml)?.[1] ?? '',
  };
}

async function packagedTaskJson(zip: JSZip, task: string): Promise<TaskJson> {
  return JSON.parse(await zip.file(`${task}/task.json`)!.async('string')) as TaskJson;
}

describe('npm run package', () => {
  const version = readJson<{ version: string }>(path.join(root, 'package.json')).version;
  let workDir: string;
  let prod: JSZip;

  before(async function () {
    this.timeout(120_000);
    if (taskNames().some((task) => !existsSync(path.join(root, 'dist', 'tasks', task, 'task.json')))) {
      execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
    }
    workDir = mkdtempSync(path.join(tmpdir(), 'package-test-'));
    const run = runPackage(path.join(workDir, 'prod'), []);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.vsixFiles, [`aks-release-flow.aks-release-flow-${version}.vsix`]);
    prod = await openVsix(path.join(workDir, 'prod', run.vsixFiles[0]!));
  });

  after(() => rmSync(workDir, { recursive: true, force: true }));

  it('ships every task, the icon, overview.md and LICENSE', () => {
    const expected = [
      ...taskNames().flatMap((task) => [`${task}/task.json`, `${task}/index.js`, `${task}/icon.png`]),
      'images/icon.png',
      'images/pipeline-flow.png',
      'overview.md',
      'LICENSE',
      'extension.vsixmanifest',
      'extension.vsomanifest',
    ];
    for (const file of expected) assert.ok(prod.file(file), `${file} is not in the vsix`);
  });

  it('ships no node_modules, no TypeScript sources and no source maps', () => {
    const entries = Object.keys(prod.files);
    assert.deepEqual(
      entries.filter((entry) => /(^|\/)node_modules\/|\.ts$|\.map$/.test(entry)),
      [],
      'files that must not ship',
    );
  });

  it('is the default publisher and id, at the package.json version', async () => {
    const manifest = readJson<{ version: string }>(path.join(root, 'vss-extension.json'));
    assert.equal(manifest.version, version, 'vss-extension.json and package.json disagree on the version');
    assert.deepEqual(await identityOf(prod), {
      id: 'aks-release-flow',
      publisher: 'aks-release-flow',
      version,
      name: 'AKS Release Flow',
    });
  });

  it('contributes one task per task folder, named by its folder', async () => {
    const vso = JSON.parse(await prod.file('extension.vsomanifest')!.async('string')) as {
      contributions: { id: string; type: string; targets: string[]; properties: { name: string } }[];
    };
    assert.deepEqual(
      vso.contributions.map((c) => [c.type, c.targets, c.properties.name]),
      taskNames().map((task) => ['ms.vss-distributed-task.task', ['ms.vss-distributed-task.tasks'], task]),
    );
  });

  it('ships the prod task.json with the source GUIDs', async () => {
    for (const task of taskNames()) {
      const source = readJson<TaskJson>(path.join(root, 'tasks', task, 'task.json'));
      assert.equal((await packagedTaskJson(prod, task)).id, source.id);
    }
  });

  describe('overrides', () => {
    let uuidV5: PackageModule['uuidV5'];
    before(async () => {
      ({ uuidV5 } = (await import(pathToFileURL(packageScript).href)) as PackageModule);
    });

    it('derives variant GUIDs as RFC 4122 version-5 UUIDs', () => {
      // The RFC's own example namespace (DNS) and a well-known name.
      assert.equal(
        uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'),
        '2ed6657d-e927-568b-95e1-2665a8aea6a2',
      );
    });

    const cases: { what: string; args: string[]; env: Record<string, string>; publisher: string }[] = [
      { what: 'flags', args: ['--publisher', 'contoso', '--variant', 'dev'], env: {}, publisher: 'contoso' },
      {
        what: 'environment variables',
        args: [],
        env: { EXTENSION_PUBLISHER: 'fabrikam', EXTENSION_VARIANT: 'dev' },
        publisher: 'fabrikam',
      },
      {
        what: 'flags over environment variables',
        args: ['--publisher', 'contoso'],
        env: { EXTENSION_PUBLISHER: 'fabrikam', EXTENSION_VARIANT: 'dev' },
        publisher: 'contoso',
      },
    ];
    for (const { what, args, env, publisher } of cases) {
      it(`makes a dev variant with its own id, name and task GUIDs, from ${what}`, async function () {
        this.timeout(60_000);
        const outDir = path.join(workDir, what.replace(/\W+/g, '-'));
        const run = runPackage(outDir, args, env);
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(run.vsixFiles, [`${publisher}.aks-release-flow-dev-${version}.vsix`]);
        assert.match(run.stdout, new RegExp(`${publisher}\\.aks-release-flow-dev-.*\\.vsix \\(\\d+ KiB`));

        const dev = await openVsix(path.join(outDir, run.vsixFiles[0]!));
        assert.deepEqual(await identityOf(dev), {
          id: 'aks-release-flow-dev',
          publisher,
          version,
          name: 'AKS Release Flow (dev)',
        });
        for (const task of taskNames()) {
          const prodTask = await packagedTaskJson(prod, task);
          const devTask = await packagedTaskJson(dev, task);
          assert.equal(devTask.id, uuidV5(prodTask.id, 'dev'), `${task}: dev GUID`);
          assert.notEqual(devTask.id, prodTask.id);
          assert.equal(devTask.name, prodTask.name, 'the task name stays, so YAML keeps working');
          assert.equal(devTask.friendlyName, `${prodTask.friendlyName} (dev)`);
        }
      });
    }

    const refusals: [string, string[], RegExp][] = [
      ['a publisher with a space', ['--publisher', 'two words'], /not a Marketplace publisher id/],
      ['a variant with punctuation', ['--variant', 'dev.1'], /short lower-case word/],
      ['an unknown flag', ['--publiser', 'contoso'], /Unknown option/],
    ];
    for (const [what, args, message] of refusals) {
      it(`refuses ${what}`, () => {
        const run = runPackage(path.join(workDir, 'refused'), args);
        assert.notEqual(run.status, 0);
        assert.match(run.stderr, message);
        assert.deepEqual(run.vsixFiles, []);
      });
    }
  });
});

describe('npm run version', () => {
  let copy: string;

  beforeEach(() => {
    // A copy of just the files the script edits, plus a task without a task.json.
    copy = mkdtempSync(path.join(tmpdir(), 'version-test-'));
    for (const file of ['package.json', 'package-lock.json', 'vss-extension.json']) {
      cpSync(path.join(root, file), path.join(copy, file));
    }
    for (const task of taskNames()) {
      mkdirSync(path.join(copy, 'tasks', task), { recursive: true });
      cpSync(path.join(root, 'tasks', task, 'task.json'), path.join(copy, 'tasks', task, 'task.json'));
    }
    mkdirSync(path.join(copy, 'tasks', 'shared'), { recursive: true });
  });

  afterEach(() => rmSync(copy, { recursive: true, force: true }));

  function bump(kind: string) {
    return spawnSync(process.execPath, [versionScript, kind, '--root', copy], { encoding: 'utf8' });
  }

  function versions() {
    const lock = readJson<{ version: string; packages: Record<string, { version: string }> }>(
      path.join(copy, 'package-lock.json'),
    );
    return {
      extension: readJson<{ version: string }>(path.join(copy, 'package.json')).version,
      lock: lock.version,
      lockRoot: lock.packages['']!.version,
      manifest: readJson<{ version: string }>(path.join(copy, 'vss-extension.json')).version,
      tasks: taskNames().map(
        (task) => readJson<TaskJson>(path.join(copy, 'tasks', task, 'task.json')).version,
      ),
    };
  }

  type TaskVersion = TaskJson['version'];
  const table: { kind: string; extension: (v: number[]) => string; task: (v: TaskVersion) => TaskVersion }[] =
    [
      {
        kind: 'patch',
        extension: ([a, b, c]) => `${a}.${b}.${c! + 1}`,
        task: (v) => ({ ...v, Patch: v.Patch + 1 }),
      },
      {
        kind: 'minor',
        extension: ([a, b]) => `${a}.${b! + 1}.0`,
        task: (v) => ({ ...v, Minor: v.Minor + 1, Patch: 0 }),
      },
      {
        kind: 'major',
        extension: ([a]) => `${a! + 1}.0.0`,
        task: (v) => ({ ...v, Minor: v.Minor + 1, Patch: 0 }),
      },
    ];
  for (const { kind, extension, task } of table) {
    it(`${kind}: bumps the extension everywhere and every task, keeping each task's Major`, () => {
      const before = versions();
      const run = bump(kind);
      assert.equal(run.status, 0, run.stderr);
      const after = versions();
      const expected = extension(before.extension.split('.').map(Number));
      assert.deepEqual(
        [after.extension, after.lock, after.lockRoot, after.manifest],
        Array(4).fill(expected),
      );
      assert.deepEqual(after.tasks, before.tasks.map(task));
    });
  }

  it('changes nothing but the version fields', () => {
    const before = readFileSync(path.join(copy, 'package-lock.json'), 'utf8').split('\n');
    assert.equal(bump('patch').status, 0);
    const after = readFileSync(path.join(copy, 'package-lock.json'), 'utf8').split('\n');
    const changed = after.filter((line, i) => line !== before[i]);
    assert.equal(after.length, before.length);
    assert.ok(changed.length === 2 && changed.every((line) => /"version":/.test(line)), changed.join('\n'));
  });

  it('refuses anything but patch, minor or major, and writes nothing', () => {
    const before = versions();
    const run = bump('1.2.3');
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /patch\|minor\|major/);
    assert.deepEqual(versions(), before);
  });
});
