import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCmdLine } from './cmd-line';
import { taskData } from './definitions';
import { startingCommandOutputBanner } from './script-host';
import { which } from './support/process';
import { endsWithin } from '../../test/support/processes';
import { createTestContext, type TestContext } from './testing/context';

const definition = taskData('CmdLine', 2);
const bash = which('bash', process.env.PATH);

describe('CmdLine@2', () => {
  let step: TestContext | undefined;
  afterEach(() => step?.dispose());

  it('writes the script under Agent.TempDirectory and runs it with bash --noprofile --norc, printing as the real task', async () => {
    step = createTestContext({ definition, inputs: { script: 'echo "hello from $PWD"' } });
    const result = await runCmdLine(step.context);
    assert.deepEqual(result, { status: 'Succeeded' });
    const scripts = readdirSync(step.dirs.temp).filter((name) => name.endsWith('.sh'));
    assert.equal(scripts.length, 1);
    assert.deepEqual(step.lines, [
      'Generating script.',
      'Script contents:',
      'echo "hello from $PWD"',
      startingCommandOutputBanner,
      `[command]${bash} --noprofile --norc ${join(step.dirs.temp, scripts[0]!)}`,
      `hello from ${step.workingDirectory}`,
    ]);
  });

  it('does not echo a multi-line script or one holding a logging command', async () => {
    step = createTestContext({
      definition,
      inputs: { script: 'echo "##vso[task.setvariable variable=a]b"' },
    });
    await runCmdLine(step.context);
    assert.ok(!step.lines.includes('Script contents:'));
    assert.ok(step.lines.includes('##vso[task.setvariable variable=a]b'));
  });

  it('fails with the real wording when the script exits non-zero, after streaming every line', async () => {
    step = createTestContext({ definition, inputs: { script: 'echo one\necho two >&2\nexit 3' } });
    const result = await runCmdLine(step.context);
    assert.deepEqual(result, { status: 'Failed', message: "Bash exited with code '3'." });
    assert.ok(step.lines.includes('one'));
    assert.ok(step.lines.includes('two'));
  });

  it('fails on stderr only when failOnStderr is true, logging each stderr line as an error', async () => {
    step = createTestContext({ definition, inputs: { script: 'echo oops >&2', failOnStderr: 'true' } });
    const result = await runCmdLine(step.context);
    assert.deepEqual(result, {
      status: 'Failed',
      message: 'Bash wrote one or more lines to the standard error stream.',
    });
    assert.ok(step.lines.includes('##vso[task.logissue type=error;source=CustomerScript;]oops'));
  });

  it('runs in workingDirectory, relative to System.DefaultWorkingDirectory, with the step environment', async () => {
    step = createTestContext({
      definition,
      inputs: { script: 'pwd; echo "$GREETING"', workingDirectory: 'sub' },
      env: { GREETING: 'hi' },
    });
    mkdirSync(join(step.workingDirectory, 'sub'));
    assert.equal((await runCmdLine(step.context)).status, 'Succeeded');
    assert.ok(step.lines.includes(join(step.workingDirectory, 'sub')));
    assert.ok(step.lines.includes('hi'));
  });

  it('refuses a working folder that does not exist, in one line', async () => {
    step = createTestContext({ definition, inputs: { script: 'true', workingDirectory: 'missing' } });
    const result = await runCmdLine(step.context);
    assert.equal(result.status, 'Failed');
    assert.match(result.message ?? '', /^Not found workingDirectory: .*missing\. Create the folder/);
    assert.equal(step.lines.length, 0);
  });

  it('runs a script that names an existing file as that file (the real task prefixes exec)', async () => {
    step = createTestContext({ definition });
    const file = join(step.workingDirectory, 'hello.sh');
    writeFileSync(file, '#!/bin/bash\necho from-file\n');
    chmodSync(file, 0o755);
    const named = createTestContext({ definition, inputs: { script: file }, sameJobAs: step });
    assert.equal((await runCmdLine(named.context)).status, 'Succeeded');
    assert.ok(
      step.lines.length === 0 && named.lines.includes(`exec ${file}`) && named.lines.includes('from-file'),
    );
  });

  it('looks a relative script file name up in System.DefaultWorkingDirectory', async () => {
    step = createTestContext({ definition, inputs: { script: 'hello.sh' } });
    writeFileSync(join(step.workingDirectory, 'hello.sh'), '#!/bin/bash\necho relative-file\n');
    chmodSync(join(step.workingDirectory, 'hello.sh'), 0o755);
    assert.equal(
      (await runCmdLine(step.context)).status,
      'Failed',
      'exec hello.sh is not on PATH, as in the real task',
    );
    assert.ok(step.lines.includes('exec hello.sh'));
  });

  it('kills the whole process group when the step is cancelled', async () => {
    step = createTestContext({
      definition,
      inputs: { script: 'sleep 30 &\necho "child $!"\nwait' },
    });
    const running = runCmdLine(step.context);
    const child = await waitForLine(step, /^child (\d+)$/);
    step.abort();
    const result = await running;
    assert.equal(result.status, 'Canceled');
    const pid = Number(child[1]);
    assert.ok(await endsWithin(pid), 'the background sleep was killed with the script');
  });

  it('leaves no file behind but the script under Agent.TempDirectory', async () => {
    step = createTestContext({ definition, inputs: { script: 'true' } });
    await runCmdLine(step.context);
    assert.ok(existsSync(step.dirs.temp));
    assert.equal(readdirSync(step.dirs.temp).length, 1);
  });
});

async function waitForLine(step: TestContext, pattern: RegExp): Promise<RegExpMatchArray> {
  for (let attempt = 0; attempt < 200; attempt++) {
    for (const line of step.lines) {
      const match = line.match(pattern);
      if (match) return match;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no line matched ${pattern}: ${step.lines.join(' | ')}`);
}
