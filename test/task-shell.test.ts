import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { repoRoot, runTask } from './harness/agent';

/**
 * The task shell as the agent runs it: a probe task built the way scripts/build.mjs builds
 * the real ones (task-start.ts first, then the entry), whose code fails outside the promise
 * the shell awaits. The shell's handler must be the only one: task-lib's own prints the
 * stack trace as an error line and leaves exit code 0.
 */
describe('task shell', function () {
  this.timeout(60_000);
  let folder: string;

  const probes = {
    thrown: "setTimeout(() => { throw new Error('thrown from a timer'); }, 0);",
    rejected: "void Promise.reject(new Error('rejected and never handled'));",
  };

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'task-shell-probe-'));
    const shell = join(repoRoot, 'tasks', 'shared', 'task-shell.ts');
    for (const [name, failure] of Object.entries(probes)) {
      const source = join(folder, `${name}.ts`);
      writeFileSync(
        source,
        `import { runTask } from ${JSON.stringify(shell)};\n` +
          `void runTask(async () => {\n  ${failure}\n  await new Promise((resolve) => setTimeout(resolve, 500));\n});\n`,
      );
      await esbuild.build({
        entryPoints: [source],
        outfile: join(folder, `${name}.js`),
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        inject: [join(repoRoot, 'tasks', 'shared', 'task-start.ts')],
        logLevel: 'warning',
      });
    }
    // The shell's own messages are the shared ones, which every built task.json carries.
    const messages = readFileSync(join(repoRoot, 'tasks', 'shared', 'messages.json'), 'utf8');
    writeFileSync(join(folder, 'task.json'), `{ "name": "Probe", "messages": ${messages} }`);
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  for (const [name, message] of [
    ['thrown', 'thrown from a timer'],
    ['rejected', 'rejected and never handled'],
  ] as const) {
    for (const node of ['node20', 'node24'] as const) {
      it(`reports an error ${name} outside the task's promise in one line, exit code 1 (${node})`, async () => {
        const run = await runTask({ task: folder, entry: `${name}.js`, node });
        const output = `${run.stdout}\n${run.stderr}`;
        assert.equal(run.exitCode, 1, output);
        assert.equal(run.result?.status, 'Failed');
        assert.deepEqual(
          run.errors.map((error) => error.message),
          [
            `The task failed unexpectedly: ${message}. Rerun with the variable system.debug set to true for details, and report it if it persists.`,
          ],
        );
        const outsideDebug = output
          .split('\n')
          .filter((line) => !line.startsWith('##vso[task.debug]'))
          .join('\n');
        assert.doesNotMatch(outsideDebug, /\s+at |%0A\s+at /, 'a stack trace outside debug lines');
        assert.ok(!output.includes('Unhandled'), "task-lib's handler reported it too");
      });
    }
  }
});
