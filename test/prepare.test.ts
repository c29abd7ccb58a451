import assert from 'node:assert/strict';
import { npmInstallState, plan, type Lockfile, type NpmInstallState } from '../scripts/prepare.mjs';

/**
 * scripts/prepare.mjs's decisions (what `npm run demo` and `npm test` prepare first), as
 * the pure functions they are; the shell around them only gathers the facts.
 */

const lock: Lockfile = {
  packages: {
    '': { version: '0.1.0' },
    'node_modules/yaml': { version: '2.9.1' },
    'node_modules/@esbuild/linux-x64': { version: '0.28.2', optional: true },
    'node_modules/@esbuild/darwin-arm64': { version: '0.28.2', optional: true },
    'node_modules/tsx/node_modules/esbuild': { version: '0.27.0' },
  },
};

// What npm records after `npm ci` on linux-x64: no root entry, no package for another platform.
const installedAsLocked: Lockfile = {
  packages: {
    'node_modules/yaml': { version: '2.9.1' },
    'node_modules/@esbuild/linux-x64': { version: '0.28.2', optional: true },
    'node_modules/tsx/node_modules/esbuild': { version: '0.27.0' },
  },
};

const everyFolder = () => true;

describe('prepare: is node_modules what package-lock.json locks?', () => {
  const cases: [string, Lockfile | undefined, (path: string) => boolean, NpmInstallState][] = [
    ['no record of an install', undefined, everyFolder, { state: 'absent' }],
    [
      'the same packages and versions, without optional ones for other platforms',
      installedAsLocked,
      everyFolder,
      { state: 'fresh' },
    ],
    [
      'a locked package missing',
      { packages: { 'node_modules/yaml': { version: '2.9.1' } } },
      everyFolder,
      { state: 'stale', reason: 'esbuild 0.27.0 is not installed' },
    ],
    [
      'another version installed',
      { packages: { ...installedAsLocked.packages, 'node_modules/yaml': { version: '2.8.0' } } },
      everyFolder,
      { state: 'stale', reason: 'yaml is 2.8.0, package-lock.json locks 2.9.1' },
    ],
    [
      'a package installed that is no longer locked',
      { packages: { ...installedAsLocked.packages, 'node_modules/left-pad': { version: '1.3.0' } } },
      everyFolder,
      { state: 'stale', reason: 'left-pad is installed but not locked' },
    ],
    [
      "a recorded package's folder deleted by hand",
      installedAsLocked,
      (path) => path !== 'node_modules/yaml',
      { state: 'stale', reason: 'yaml is recorded but its folder is gone' },
    ],
  ];
  for (const [name, installed, present, expected] of cases) {
    it(name, () => assert.deepEqual(npmInstallState({ lock, installed, present }), expected));
  }
});

describe('prepare: the steps for demo and test', () => {
  const allPresent = {
    npm: { state: 'fresh' } as NpmInstallState,
    linkedTo: undefined,
    missingPackages: [],
    root: false,
    node24Installed: true,
  };

  it('does nothing when everything is present', () => {
    assert.deepEqual(plan({ command: 'demo', ...allPresent }), []);
    assert.deepEqual(plan({ command: 'test', ...allPresent }), []);
  });

  it('runs npm ci when node_modules is absent or stale, saying why', () => {
    assert.deepEqual(plan({ command: 'demo', ...allPresent, npm: { state: 'absent' } }), [
      { run: 'npm-ci', say: 'prepare: node_modules is not installed: npm ci' },
    ]);
    assert.deepEqual(
      plan({
        command: 'demo',
        ...allPresent,
        npm: { state: 'stale', reason: 'yaml is 2.8.0, package-lock.json locks 2.9.1' },
      }),
      [
        {
          run: 'npm-ci',
          say: 'prepare: node_modules is stale (yaml is 2.8.0, package-lock.json locks 2.9.1): npm ci',
        },
      ],
    );
  });

  it('never runs npm ci through a linked node_modules, which it would empty', () => {
    const steps = plan({
      command: 'test',
      ...allPresent,
      npm: { state: 'absent' },
      linkedTo: '/work/main/node_modules',
    });
    assert.deepEqual(steps, [
      {
        fail: 'prepare: node_modules is not installed, and it links to /work/main/node_modules: run npm ci in the project that folder belongs to (npm ci here would empty it).',
      },
    ]);
    assert.deepEqual(plan({ command: 'test', ...allPresent, linkedTo: '/work/main/node_modules' }), []);
  });

  it('installs missing system packages as root', () => {
    assert.deepEqual(plan({ command: 'demo', ...allPresent, missingPackages: ['skopeo'], root: true }), [
      { run: 'system-packages' },
    ]);
  });

  it('stops with the exact command to run when they are missing and it is not root, after npm ci', () => {
    assert.deepEqual(
      plan({
        command: 'demo',
        ...allPresent,
        npm: { state: 'absent' },
        missingPackages: ['docker-registry', 'skopeo'],
      }),
      [
        { run: 'npm-ci', say: 'prepare: node_modules is not installed: npm ci' },
        {
          fail: 'prepare: docker-registry, skopeo must be installed, which needs root: run sudo scripts/install-system-deps.sh, then npm run demo again.',
        },
      ],
    );
    assert.deepEqual(plan({ command: 'test', ...allPresent, missingPackages: ['skopeo'] }), [
      {
        fail: 'prepare: skopeo must be installed, which needs root: run sudo scripts/install-system-deps.sh, then npm test again.',
      },
    ]);
  });

  it('installs Node 24 for the tests only', () => {
    assert.deepEqual(plan({ command: 'test', ...allPresent, node24Installed: false }), [
      { run: 'node24', say: 'prepare: Node 24 is not installed: npm ci in tools/node24' },
    ]);
    assert.deepEqual(plan({ command: 'demo', ...allPresent, node24Installed: false }), []);
  });

  it('prepares everything on a fresh clone as root, in order', () => {
    const steps = plan({
      command: 'test',
      npm: { state: 'absent' },
      linkedTo: undefined,
      missingPackages: ['docker-registry', 'skopeo'],
      root: true,
      node24Installed: false,
    });
    assert.deepEqual(
      steps.map((step) => ('run' in step ? step.run : step.fail)),
      ['npm-ci', 'system-packages', 'node24'],
    );
  });
});
