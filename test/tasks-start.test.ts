import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, runTask } from './harness/agent';

/**
 * Every bundled task, started with no inputs on both Node handlers, must fail the way a
 * user can act on: one error line from the task's own messages, no stack trace, no
 * unhandled rejection, no missing resource file and no unlocalised message key.
 */
const tasksSource = join(repoRoot, 'tasks');
const tasksBuilt = join(repoRoot, 'dist', 'tasks');

const sourceTasks = () =>
  readdirSync(tasksSource, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(tasksSource, entry.name, 'task.json')))
    .map((entry) => entry.name)
    .sort();

function newestSourceChange(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceChange(path));
    else if (!entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

// The build is cheap, so any doubt about the bundles means building again.
function bundlesAreStale(): boolean {
  const bundles = sourceTasks().map((task) => join(tasksBuilt, task, 'index.js'));
  if (bundles.some((bundle) => !existsSync(bundle))) return true;
  const oldestBundle = Math.min(...bundles.map((bundle) => statSync(bundle).mtimeMs));
  const newestSource = Math.max(
    newestSourceChange(tasksSource),
    statSync(join(repoRoot, 'scripts', 'build.mjs')).mtimeMs,
  );
  return newestSource > oldestBundle;
}

/** The execution target the agent would run for a handler (execution.Node20_1 / Node24). */
function executionTarget(task: string, handler: 'Node20_1' | 'Node24'): string {
  const taskJson = JSON.parse(readFileSync(join(tasksBuilt, task, 'task.json'), 'utf8')) as {
    execution?: Record<string, { target: string }>;
  };
  const target = taskJson.execution?.[handler]?.target;
  assert.ok(target, `${task}/task.json has no execution.${handler} handler`);
  return target;
}

describe('every bundled task started with no inputs', function () {
  before(function () {
    this.timeout(120_000);
    if (!bundlesAreStale()) return;
    const build = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(build.status, 0, `node scripts/build.mjs failed:\n${build.stdout}\n${build.stderr}`);
  });

  for (const task of sourceTasks()) {
    for (const [node, handler] of [
      ['node20', 'Node20_1'],
      ['node24', 'Node24'],
    ] as const) {
      it(`${task} on ${node} fails with one clear error`, async () => {
        const run = await runTask({ task, node, entry: executionTarget(task, handler) });
        const output = `${run.stdout}\n${run.stderr}`;

        assert.notEqual(run.exitCode, 0, 'exit code');
        assert.equal(run.result?.status, 'Failed', 'task.complete result');
        assert.equal(run.errors.length, 1, `error issues: ${run.errors.map((e) => e.message).join(' | ')}`);
        const [error] = run.errors;
        assert.ok(error && error.message.length > 0);
        assert.doesNotMatch(error.message, /^[A-Za-z_]+$/, 'the error is a bare message key');
        assert.ok(!output.includes('    at '), 'a stack trace reached the output');
        assert.ok(!output.includes('Unhandled'), 'an unhandled error reached the output');
        assert.ok(
          !output.includes('LIB_ResourceFile does not exist'),
          'task.json was not found beside the bundle',
        );
        assert.ok(
          !output.includes("Can't find loc string for key"),
          'a message key is missing from task.json',
        );
      });
    }
  }
});
