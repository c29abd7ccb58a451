import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinTasks } from '../builtin';
import type { ApprovalSource } from '../builtin/types';
import { compilePipeline } from '../compile';
import { nobodyAnswers, presetApprovals } from './approvals';
import { createTaskCatalog } from './catalog';
import { runPipeline } from './engine';
import { silentLog } from './log';
import type { RunRecord } from './record';
import { emptyResources } from './resources';

/**
 * Manual validation in an agentless job, compiled from YAML and run with the real
 * ManualValidation@1: what a rejection does to the stages after it, and how the task's
 * own timeout and its job's decide between onTimeout and a cancelled job.
 */
const catalog = createTaskCatalog([], builtinTasks());
const folder = mkdtempSync(join(tmpdir(), 'runner-agentless-'));

function pipeline(validation: {
  jobTimeout: number;
  taskTimeout?: number;
  onTimeout: 'resume' | 'reject';
}): string {
  return `stages:
  - stage: Validation
    jobs:
      - job: validate
        pool: server
        timeoutInMinutes: ${validation.jobTimeout}
        steps:
          - task: ManualValidation@1
${validation.taskTimeout === undefined ? '' : `            timeoutInMinutes: ${validation.taskTimeout}\n`}            inputs:
              notifyUsers: release@contoso.com
              instructions: Check staging.
              onTimeout: ${validation.onTimeout}
  - stage: Promote
    dependsOn: Validation
    jobs:
      - job: promote
        steps:
          - checkout: none
          - bash: echo promoting
`;
}

async function run(yaml: string, approvals: ApprovalSource): Promise<RunRecord> {
  const file = join(mkdtempSync(join(folder, 'p-')), 'azure-pipelines.yml');
  writeFileSync(file, yaml);
  const compiled = compilePipeline({ file, repositories: { self: folder }, catalog });
  const { record } = await runPipeline({
    pipeline: compiled,
    pipelineName: 'validation',
    resources: emptyResources,
    catalog,
    runsRoot: folder,
    approvals,
    // A minute of pipeline time is 30 ms.
    timeScale: 0.0005,
    log: silentLog,
    nodeInstallations: [],
  });
  return record;
}

const results = (record: RunRecord) => record.stages.map((stage) => [stage.name, stage.result]);

describe('runner: manual validation in an agentless job', function () {
  this.timeout(30_000);

  it('a rejection fails its stage, and the stages after it are skipped', async () => {
    const record = await run(
      pipeline({ jobTimeout: 43200, taskTimeout: 1440, onTimeout: 'resume' }),
      presetApprovals('rejected', 'staging is slow'),
    );
    assert.deepEqual(results(record), [
      ['Validation', 'Failed'],
      ['Promote', 'Skipped'],
    ]);
    assert.equal(record.result, 'Failed');
    const step = record.stages[0]!.jobs[0]!.steps[0]!;
    assert.match(step.message, /^Rejected by --reject.*staging is slow/);
  });

  it('the task timing out before its job lets onTimeout: resume go on to promotion', async () => {
    const record = await run(
      pipeline({ jobTimeout: 43200, taskTimeout: 1, onTimeout: 'resume' }),
      nobodyAnswers,
    );
    assert.deepEqual(results(record), [
      ['Validation', 'Succeeded'],
      ['Promote', 'Succeeded'],
    ]);
  });

  it('onTimeout: reject fails the validation when nobody answers', async () => {
    const record = await run(
      pipeline({ jobTimeout: 43200, taskTimeout: 1, onTimeout: 'reject' }),
      nobodyAnswers,
    );
    assert.deepEqual(results(record), [
      ['Validation', 'Failed'],
      ['Promote', 'Skipped'],
    ]);
  });

  it('a job that times out first is cancelled, so onTimeout: resume never takes effect', async () => {
    // The layout templates/cd.yml had: the timeout on the job only.
    const record = await run(pipeline({ jobTimeout: 1, onTimeout: 'resume' }), nobodyAnswers);
    assert.equal(record.stages[0]!.jobs[0]!.result, 'Canceled');
    assert.match(record.stages[0]!.jobs[0]!.message, /ran longer than the maximum time of 1 minutes/);
    assert.equal(record.stages[1]!.result, 'Skipped');
  });
});
