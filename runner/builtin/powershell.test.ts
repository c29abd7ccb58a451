import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taskData } from './definitions';
import { runPowerShell } from './powershell';
import { which } from './support/process';
import { createTestContext, type TestContext } from './testing/context';

const definition = taskData('PowerShell', 2);

describe('PowerShell@2', () => {
  let step: TestContext | undefined;
  afterEach(() => step?.dispose());

  it('refuses Windows PowerShell (pwsh: false) on Linux in one line', async () => {
    step = createTestContext({ definition, inputs: { targetType: 'inline', script: 'Write-Host hi' } });
    const result = await runPowerShell(step.context);
    assert.equal(result.status, 'Failed');
    assert.match(result.message ?? '', /Windows PowerShell, which does not exist on Linux: set pwsh: true/);
  });

  it('says what to install when pwsh is not on PATH', async () => {
    step = createTestContext({
      definition,
      inputs: { targetType: 'inline', script: 'Write-Host hi', pwsh: 'true' },
      env: { PATH: '/nonexistent' },
    });
    const result = await runPowerShell(step.context);
    assert.equal(result.status, 'Failed');
    assert.match(result.message ?? '', /^pwsh \(PowerShell 7\) is not installed on this machine: install/);
  });

  const pwsh = which('pwsh', process.env.PATH);
  (pwsh ? it : it.skip)('runs an inline script with the installed pwsh', async () => {
    step = createTestContext({
      definition,
      inputs: { targetType: 'inline', script: 'Write-Host "hi from pwsh"; exit 2', pwsh: 'true' },
    });
    assert.deepEqual(await runPowerShell(step.context), {
      status: 'Failed',
      message: "PowerShell exited with code '2'.",
    });
    assert.ok(step.lines.includes('hi from pwsh'));
  });

  // No PowerShell here: a stand-in `pwsh` on PATH records its argv and the script it is
  // given, so the command line and the generated script are checked against the real task's.
  it('writes the preferences, the script and the LASTEXITCODE check, and runs pwsh -Command', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'pwsh-stand-in-'));
    try {
      writeFileSync(
        join(bin, 'pwsh'),
        '#!/bin/bash\nfor a in "$@"; do echo "arg:$a"; done\nfile="${4#. \'}"; file="${file%\'}"\ncat "$file"\nexit 0\n',
      );
      chmodSync(join(bin, 'pwsh'), 0o755);
      step = createTestContext({
        definition,
        inputs: {
          targetType: 'inline',
          script: 'Write-Host hi',
          pwsh: 'true',
          warningPreference: 'continue',
        },
        env: { PATH: `${bin}:${process.env.PATH}` },
      });
      assert.deepEqual(await runPowerShell(step.context), { status: 'Succeeded' });
      const scriptName = readdirSync(step.dirs.temp)[0]!;
      const script = join(step.dirs.temp, scriptName);
      assert.ok(scriptName.endsWith('.ps1'));
      assert.ok(
        step.lines.includes(
          `[command]${join(bin, 'pwsh')} -NoLogo -NoProfile -NonInteractive -Command . '${script}'`,
        ),
      );
      assert.deepEqual(
        step.lines.filter((line) => line.startsWith('arg:')),
        ['arg:-NoLogo', 'arg:-NoProfile', 'arg:-NonInteractive', 'arg:-Command', `arg:. '${script}'`],
      );
      const text = readFileSync(script, 'utf8');
      assert.ok(text.startsWith('\ufeff'), 'BOM first, as the real task writes it');
      assert.deepEqual(text.slice(1).split('\n').slice(0, 4), [
        "$ErrorActionPreference = 'stop'",
        "$WarningPreference = 'continue'",
        "$ProgressPreference = 'silentlyContinue'",
        'Write-Host hi',
      ]);
      assert.match(text, /exit \$LASTEXITCODE/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
