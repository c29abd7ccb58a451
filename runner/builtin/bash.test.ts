import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBash } from './bash';
import { taskData } from './definitions';
import { startingCommandOutputBanner } from './script-host';
import { which } from './support/process';
import { createTestContext, type TestContext } from './testing/context';

const definition = taskData('Bash', 3);
const bash = which('bash', process.env.PATH);

describe('Bash@3', () => {
  let step: TestContext | undefined;
  afterEach(() => step?.dispose());

  it('runs an inline script with `bash <file>`, as the real task does', async () => {
    step = createTestContext({ definition, inputs: { targetType: 'inline', script: 'echo "$0"' } });
    assert.deepEqual(await runBash(step.context), { status: 'Succeeded' });
    const script = join(step.dirs.temp, readdirSync(step.dirs.temp)[0]!);
    assert.deepEqual(step.lines, [
      'Generating script.',
      'Script contents:',
      'echo "$0"',
      startingCommandOutputBanner,
      `[command]${bash} ${script}`,
      script,
    ]);
  });

  it('runs a file with its arguments through exec bash, printing the formatted command', async () => {
    step = createTestContext({ definition });
    writeFileSync(join(step.workingDirectory, 'greet.sh'), 'echo "hello $1 $2"\n');
    const fileStep = createTestContext({
      definition,
      inputs: { targetType: 'filePath', filePath: 'greet.sh', arguments: 'big world' },
      sameJobAs: step,
    });
    assert.equal((await runBash(fileStep.context)).status, 'Succeeded');
    const file = join(step.workingDirectory, 'greet.sh');
    assert.ok(fileStep.lines.includes(`Formatted command: exec bash '${file}' big world`));
    assert.ok(fileStep.lines.includes('hello big world'));
    const generated = readdirSync(step.dirs.temp).map((name) =>
      readFileSync(join(step!.dirs.temp, name), 'utf8'),
    );
    assert.deepEqual(generated, [`exec bash '${file}' big world`]);
  });

  it('refuses a filePath that is not a file with the real message and a fix', async () => {
    step = createTestContext({ definition, inputs: { targetType: 'filePath', filePath: 'nope.sh' } });
    const result = await runBash(step.context);
    assert.equal(result.status, 'Failed');
    assert.equal(
      result.message,
      `Invalid file path '${join(step.workingDirectory, 'nope.sh')}'. Point filePath at a script file, or use targetType: inline.`,
    );
  });

  it('fails with "Bash exited with code \'N\'." and the out-of-memory wording for 137', async () => {
    step = createTestContext({ definition, inputs: { targetType: 'inline', script: 'exit 4' } });
    assert.deepEqual(await runBash(step.context), {
      status: 'Failed',
      message: "Bash exited with code '4'.",
    });
    const killed = createTestContext({ definition, inputs: { targetType: 'inline', script: 'kill -9 $$' } });
    try {
      const result = await runBash(killed.context);
      assert.equal(result.status, 'Failed');
      assert.match(result.message ?? '', /^Bash exited with code 137, which means it ran out of memory/);
    } finally {
      killed.dispose();
    }
  });

  it('sets BASH_ENV from bashEnvValue, saying when it overrides one', async () => {
    step = createTestContext({ definition });
    writeFileSync(join(step.workingDirectory, 'profile.sh'), 'GREETING=from-bash-env\n');
    const withHome = createTestContext({
      definition,
      inputs: {
        targetType: 'inline',
        script: 'echo "greeting=$GREETING"',
        bashEnvValue: join(step.workingDirectory, 'profile.sh'),
      },
      env: { BASH_ENV: '/etc/old' },
      sameJobAs: step,
    });
    assert.equal((await runBash(withHome.context)).status, 'Succeeded');
    assert.ok(withHome.lines.includes('greeting=from-bash-env'));
    assert.ok(
      withHome.lines.includes(
        `The BASH_ENV environment variable has already been set to a '/etc/old', the task will override it with '${join(step.workingDirectory, 'profile.sh')}'`,
      ),
    );
  });

  it('refuses a targetType it does not know, listing the accepted ones', async () => {
    step = createTestContext({ definition, inputs: { targetType: 'url', script: 'true' } });
    assert.deepEqual(await runBash(step.context), {
      status: 'Failed',
      message: "Input 'targetType' is 'url': use one of filePath, inline.",
    });
  });
});
