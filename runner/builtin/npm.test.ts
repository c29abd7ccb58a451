import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { taskData } from './definitions';
import { runNpm } from './npm';
import { which } from './support/process';
import { createTestContext, type TestContext } from './testing/context';

const definition = taskData('Npm', 1);

/** A package with no dependencies, so npm needs no registry. */
function writePackage(folder: string): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'package.json'),
    JSON.stringify({
      name: 'sample',
      version: '1.0.0',
      private: true,
      scripts: { hello: 'echo hello-from-npm' },
    }),
  );
  writeFileSync(
    join(folder, 'package-lock.json'),
    JSON.stringify({
      name: 'sample',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name: 'sample', version: '1.0.0' } },
    }),
  );
}

describe('Npm@1', () => {
  let step: TestContext | undefined;
  afterEach(() => step?.dispose());

  it('runs npm ci with the npm on PATH in workingDir', async () => {
    step = createTestContext({ definition, inputs: { command: 'ci', workingDir: 'app' } });
    writePackage(join(step.workingDirectory, 'app'));
    assert.deepEqual(await runNpm(step.context), { status: 'Succeeded' });
    assert.equal(step.lines[0], `[command]${which('npm', process.env.PATH)} ci`);
    // npm ci, not install: without a lockfile it refuses.
    const noLock = createTestContext({ definition, inputs: { command: 'ci' }, sameJobAs: step });
    writeFileSync(join(step.workingDirectory, 'package.json'), '{"name":"x","version":"1.0.0"}');
    assert.deepEqual(await runNpm(noLock.context), {
      status: 'Failed',
      message: 'Npm failed with return code: 1',
    });
  });

  it('runs a custom command, split as task-lib splits a command line', async () => {
    step = createTestContext({
      definition,
      inputs: { command: 'custom', customCommand: 'run hello --silent' },
    });
    writePackage(step.workingDirectory);
    assert.deepEqual(await runNpm(step.context), { status: 'Succeeded' });
    assert.ok(step.lines[0]!.endsWith('npm run hello --silent'));
    assert.ok(step.lines.includes('hello-from-npm'));
  });

  it('fails with the real wording when npm fails', async () => {
    step = createTestContext({
      definition,
      inputs: { command: 'custom', customCommand: 'run missing-script' },
    });
    writePackage(step.workingDirectory);
    assert.deepEqual(await runNpm(step.context), {
      status: 'Failed',
      message: 'Npm failed with return code: 1',
    });
  });

  it('refuses publish in one line', async () => {
    step = createTestContext({ definition, inputs: { command: 'publish' } });
    const result = await runNpm(step.context);
    assert.equal(result.status, 'Failed');
    assert.match(result.message ?? '', /^Npm@1 command publish is not run locally/);
  });

  it('says which step to add when npm is not on PATH', async () => {
    step = createTestContext({ definition, inputs: { command: 'install' }, env: { PATH: '/nonexistent' } });
    assert.deepEqual(await runNpm(step.context), {
      status: 'Failed',
      message: "Unable to locate executable file: 'npm'. Add a NodeTool@0 or UseNode@1 step before this one.",
    });
  });

  it('refuses a workingDir that is not a folder with the real message', async () => {
    step = createTestContext({ definition, inputs: { command: 'install', workingDir: 'nowhere' } });
    const result = await runNpm(step.context);
    assert.equal(result.status, 'Failed');
    assert.match(
      result.message ?? '',
      /^Please change your working directory to a valid directory: '.*nowhere' is not one\.$/,
    );
  });
});
