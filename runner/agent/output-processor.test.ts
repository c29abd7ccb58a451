import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputProcessor, type ProcessorOptions } from './output-processor';

function feed(lines: readonly string[], options: Partial<ProcessorOptions> = {}) {
  const processor = new OutputProcessor({ restrictions: [], variables: {}, initialSecrets: [], ...options });
  for (const line of lines) processor.line(line);
  return processor;
}

describe('harness: output processor', () => {
  describe('masking', () => {
    it('masks a value from the line after task.setsecret on, not before', () => {
      const { output } = feed([
        'early s3cr3t-value',
        '##vso[task.setsecret]s3cr3t-value',
        'late s3cr3t-value',
      ]);
      assert.deepEqual(output.logLines, ['early s3cr3t-value', 'late ***']);
    });

    it('masks secret variables from their task.setvariable on, and remembers them as secret', () => {
      const { output } = feed([
        '##vso[task.setvariable variable=DB;issecret=true]pa55word!',
        'got pa55word!',
        '##vso[task.setvariable variable=DB]an0ther-one',
        'now an0ther-one',
      ]);
      assert.deepEqual(output.logLines, ['got ***', 'now ***']);
      assert.deepEqual(output.variables.get('DB'), {
        name: 'DB',
        value: 'an0ther-one',
        secret: true,
        isOutput: false,
        isReadOnly: false,
      });
    });

    it("keeps a job's secret variable secret when the task sets it", () => {
      const { output } = feed(['##vso[task.setvariable variable=Db.Password]n3w-value', 'n3w-value'], {
        secretVariableNames: ['db.password'],
      });
      assert.equal(output.variables.get('Db.Password')?.secret, true);
      assert.deepEqual(output.logLines, ['***']);
    });

    it('masks the secrets the agent knows before the task starts, and their encodings', () => {
      const secret = 'a b"c\\d';
      const { output } = feed(
        [`raw ${secret}`, `json ${JSON.stringify(secret)}`, `uri ${encodeURIComponent(secret)}`],
        { initialSecrets: [secret] },
      );
      assert.deepEqual(output.logLines, ['raw ***', 'json "***"', 'uri ***']);
    });

    it('masks the longer of two overlapping secrets whole', () => {
      const { output } = feed(['##vso[task.setsecret]abcd', '##vso[task.setsecret]abcdefgh', 'x abcdefgh y']);
      assert.deepEqual(output.logLines, ['x *** y']);
    });

    it('masks issue messages and renders them as the agent does', () => {
      const { output } = feed(['##vso[task.setsecret]tok3n!', '##vso[task.issue type=error]bad tok3n!']);
      assert.deepEqual(output.logLines, ['##[error]bad ***']);
      assert.equal(output.errors[0]?.message, 'bad ***');
    });

    it('refuses a multi-line secret variable as the agent does', () => {
      const { output } = feed(['##vso[task.setvariable variable=K;issecret=true]one%0Atwo']);
      assert.deepEqual(output.commandFailures, ['Secrets cannot contain multiple lines']);
      assert.equal(output.variables.size, 0);
    });
  });

  describe('commands', () => {
    it('records results, merging to the worse one', () => {
      const { output } = feed([
        '##vso[task.complete result=Succeeded;]fine',
        '##vso[task.complete result=Failed;]broken',
        '##vso[task.complete result=SucceededWithIssues;]later',
      ]);
      assert.deepEqual(output.result, { status: 'Failed', message: 'later' });
    });

    it('fails a task.complete without a valid result', () => {
      const processor = feed(['##vso[task.complete result=Bogus]x']);
      assert.equal(processor.output.result, undefined);
      assert.equal(processor.output.commandFailures.length, 1);
      assert.equal(processor.finalStatus(0), 'Failed');
    });

    it('collects progress, debug, prepended paths and output variables', () => {
      const { output } = feed([
        '##vso[task.setprogress value=150;]almost',
        '##vso[task.debug]details',
        '##vso[task.prependpath]/opt/tool/bin',
        '##vso[task.setvariable variable=out;isOutput=true]v',
      ]);
      assert.deepEqual(output.progress, [{ value: 100, description: 'almost' }]);
      assert.deepEqual(output.debug, ['details']);
      assert.deepEqual(output.logLines, [], 'debug lines stay out of the log unless System.Debug is true');
      assert.deepEqual(output.prependPath, ['/opt/tool/bin']);
      assert.equal(output.variables.get('out')?.isOutput, true);
    });

    it('shows debug lines when System.Debug is true', () => {
      const { output } = feed(['##vso[task.debug]details'], { variables: { 'system.debug': 'True' } });
      assert.deepEqual(output.logLines, ['##[debug]details']);
    });

    it('records attachments, summaries and uploaded files that exist', () => {
      const dir = mkdtempSync(join(tmpdir(), 'harness-attach-'));
      const summary = join(dir, 'summary.md');
      writeFileSync(summary, '# Done');
      const { output } = feed([
        `##vso[task.uploadsummary]${summary}`,
        `##vso[task.addattachment type=Custom.Type;name=report]${summary}`,
        `##vso[task.uploadfile]${summary}`,
        `##vso[task.uploadfile]${join(dir, 'missing.txt')}`,
      ]);
      assert.deepEqual(
        output.attachments.map((a) => [a.type, a.name]),
        [
          ['Distributedtask.Core.Summary', 'summary.md'],
          ['Custom.Type', 'report'],
          ['DistributedTask.Core.FileAttachment', 'summary.md'],
        ],
      );
      assert.equal(output.summaries.length, 1);
      assert.equal(output.uploadedFiles.length, 1);
      assert.equal(output.commandFailures.length, 1, 'a missing file fails the command');
    });

    it('warns about unknown areas, fails unknown events and flags malformed commands', () => {
      const processor = feed(['##vso[nosuch.thing]x', '##vso[task.nosuch]x', 'text ##vso[broken']);
      const { output } = processor;
      assert.equal(output.warnings.length, 2);
      assert.match(output.warnings[0]!.message, /Cannot find command extension for ##vso\[nosuch\.command\]/);
      assert.match(output.warnings[1]!.message, /contains logging command keyword '##vso'/);
      assert.equal(output.commandFailures.length, 1);
      assert.ok(output.logLines.includes('text ##vso[broken'));
      assert.equal(processor.finalStatus(0), 'Failed');
    });

    it('warns when a read-only variable is overwritten', () => {
      const { output } = feed(['##vso[task.setvariable variable=Build.BuildId]9'], {
        readOnlyVariables: ['Build.BuildId'],
      });
      assert.match(output.warnings[0]!.message, /Overwriting readonly variable 'Build.BuildId'/);
    });
  });

  describe('restricted command mode', () => {
    const table: { line: string; allowed: boolean }[] = [
      { line: '##vso[task.setvariable variable=a]1', allowed: true },
      { line: '##vso[task.setsecret]zzzz', allowed: true },
      { line: '##vso[task.issue type=warning]w', allowed: true },
      { line: '##vso[task.logissue type=warning]w', allowed: true },
      { line: '##vso[task.complete result=Succeeded]', allowed: true },
      { line: '##vso[task.setprogress value=5]', allowed: true },
      { line: '##vso[task.debug]d', allowed: true },
      { line: '##vso[task.prependpath]/x', allowed: true },
      { line: '##vso[telemetry.publish area=a;feature=f]{}', allowed: true },
      { line: '##vso[task.uploadsummary]/x.md', allowed: false },
      { line: '##vso[task.addattachment type=t;name=n]/x', allowed: false },
      { line: '##vso[task.uploadfile]/x', allowed: false },
      { line: '##vso[task.setendpoint id=e;field=url]u', allowed: false },
      { line: '##vso[results.publish type=JUnit]/x.xml', allowed: false },
      { line: '##vso[artifact.upload artifactname=a]/x', allowed: false },
      { line: '##vso[build.addbuildtag]t', allowed: false },
    ];
    for (const { line, allowed } of table) {
      it(`${allowed ? 'runs' : 'blocks'} ${line}`, () => {
        const { output } = feed([line], { restrictions: [{ restrictedCommands: true }] });
        assert.equal(output.blocked.length, allowed ? 0 : 1);
        if (!allowed) {
          assert.match(
            output.warnings[0]!.message,
            /^##vso\[\w+\.\w+\] is not allowed in this step due to policy restrictions/,
          );
          assert.ok(output.logLines[0]!.startsWith('##[warning]##vso['));
        }
      });
    }

    it('sets only the variables in settableVariables, ignoring case', () => {
      const { output } = feed(
        [
          '##vso[task.setvariable variable=appVersion]1',
          '##vso[task.setvariable variable=KV_DB]2',
          '##vso[task.setvariable variable=other;issecret=true]hidden-value',
          'printing hidden-value',
        ],
        { restrictions: [{ restrictedCommands: true, settableVariables: ['APPVERSION', 'kv_*'] }] },
      );
      assert.deepEqual([...output.variables.keys()], ['appVersion', 'KV_DB']);
      assert.match(output.warnings[0]!.message, /^Setting variable 'other' has been disabled/);
      // The agent masks a secret value even when it refuses to set the variable.
      assert.ok(output.logLines.includes('printing ***'));
    });

    it('applies every restriction: a step and the task definition both have a say', () => {
      const { output } = feed(
        ['##vso[task.setvariable variable=a]1', '##vso[task.setvariable variable=b]2'],
        {
          restrictions: [{ settableVariables: ['a', 'b'] }, { settableVariables: ['b'] }],
        },
      );
      assert.deepEqual([...output.variables.keys()], ['b']);
    });
  });
});
