import assert from 'node:assert/strict';
import { taskData } from './definitions';
import { runManualValidation, waitForValidation } from './manual-validation';
import { createTestContext, type TestContext } from './testing/context';

const definition = taskData('ManualValidation', 1);

/** 60 pipeline minutes last 36 ms of real time. */
const timeScale = 0.00001;

describe('ManualValidation@1', () => {
  let step: TestContext | undefined;
  afterEach(() => step?.dispose());

  it('is a server task', () => {
    assert.deepEqual(definition.runsOn, ['server']);
  });

  it('prints the instructions and who may approve, asks, and succeeds when approved', async () => {
    step = createTestContext({
      definition,
      inputs: {
        notifyUsers: 'dev@contoso.com',
        approvers: 'lead@contoso.com, ops@contoso.com',
        instructions: 'Check staging, then resume.',
      },
      timeoutInMinutes: 1440,
      answer: () => Promise.resolve({ decision: 'approved', by: 'lead@contoso.com', comment: 'looks good' }),
    });
    const before = Date.now();
    assert.deepEqual(await runManualValidation(step.context), { status: 'Succeeded' });
    assert.deepEqual(step.lines, [
      'Instructions: Check staging, then resume.',
      'Notified: dev@contoso.com',
      'May approve: lead@contoso.com, ops@contoso.com',
      'Waiting for approval: 1440 minutes (pipeline time); on timeout: reject.',
      'Approved by lead@contoso.com: looks good',
    ]);
    const request = step.approvalRequests[0]!;
    assert.equal(request.instructions, 'Check staging, then resume.');
    assert.equal(request.approvers, 'lead@contoso.com, ops@contoso.com');
    const waitMs = request.deadline.getTime() - before;
    assert.ok(waitMs >= 1440 * 60_000 - 1000 && waitMs <= 1440 * 60_000 + 1000, `deadline in ${waitMs} ms`);
  });

  it('fails with who rejected and their comment', async () => {
    step = createTestContext({
      definition,
      inputs: { notifyUsers: 'dev@contoso.com' },
      answer: () => Promise.resolve({ decision: 'rejected', by: '--reject', comment: 'staging is broken' }),
    });
    assert.deepEqual(await runManualValidation(step.context), {
      status: 'Failed',
      message: 'Rejected by --reject: staging is broken',
    });
  });

  it('on timeout, onTimeout: reject fails and resume succeeds, after the scaled timeout', async () => {
    step = createTestContext({
      definition,
      inputs: { notifyUsers: 'a@b.c' },
      timeScale,
      timeoutInMinutes: 60,
    });
    const started = Date.now();
    const rejected = await runManualValidation(step.context);
    assert.ok(Date.now() - started >= 30, 'waited the scaled 36 ms');
    assert.equal(rejected.status, 'Failed');
    assert.match(
      rejected.message ?? '',
      /^No answer within 60 minutes: the validation timed out and was rejected \(onTimeout: reject\)\./,
    );

    const resumed = createTestContext({
      definition,
      inputs: { notifyUsers: 'a@b.c', onTimeout: 'resume' },
      timeScale,
      timeoutInMinutes: 60,
      sameJobAs: step,
    });
    assert.deepEqual(await runManualValidation(resumed.context), { status: 'Succeeded' });
    assert.equal(
      resumed.lines.at(-1),
      'No answer within 60 minutes: the validation timed out and resumed (onTimeout: resume).',
    );
  });

  it('prints a line with the time left while it waits', async () => {
    step = createTestContext({
      definition,
      inputs: { notifyUsers: 'a@b.c' },
      timeScale: 0.0001,
      timeoutInMinutes: 60,
    });
    await waitForValidation(step.context, { progressIntervalMs: 100 });
    const waiting = step.lines.filter((line) => line.startsWith('Still waiting for approval: '));
    assert.ok(waiting.length >= 2, `${waiting.length} waiting lines in 360 ms`);
    assert.match(waiting[0]!, /^Still waiting for approval: [\d.]+ minutes left \(pipeline time\)\.$/);
  });

  it('treats the run aborting with a TimeoutError as its timeout, and any other abort as a cancel', async () => {
    step = createTestContext({
      definition,
      inputs: { notifyUsers: 'a@b.c', onTimeout: 'resume' },
      timeoutInMinutes: 60,
    });
    const running = runManualValidation(step.context);
    step.abort(new DOMException('The step timed out.', 'TimeoutError'));
    assert.deepEqual(await running, { status: 'Succeeded' });

    const canceled = createTestContext({ definition, inputs: { notifyUsers: 'a@b.c' }, sameJobAs: step });
    const waiting = runManualValidation(canceled.context);
    canceled.abort();
    assert.equal((await waiting).status, 'Canceled');
  });

  it('ignores an answer from whoever started the run when their own runs are not allowed', async () => {
    const answers = [
      { decision: 'approved' as const, by: 'dev@contoso.com' },
      { decision: 'approved' as const, by: 'lead@contoso.com' },
    ];
    step = createTestContext({
      definition,
      inputs: { notifyUsers: 'lead@contoso.com', allowApproversToApproveTheirOwnRuns: 'false' },
      variables: { 'Build.RequestedForEmail': 'dev@contoso.com' },
      answer: () => Promise.resolve(answers.shift()!),
    });
    assert.deepEqual(await runManualValidation(step.context), { status: 'Succeeded' });
    assert.ok(step.lines.includes('Whoever started the run may not approve it.'));
    assert.ok(
      step.lines.includes(
        'dev@contoso.com started this run and may not answer it (allowApproversToApproveTheirOwnRuns: false); still waiting.',
      ),
    );
    assert.equal(step.lines.at(-1), 'Approved by lead@contoso.com');
  });

  it('requires notifyUsers, as task.json does', async () => {
    step = createTestContext({ definition, inputs: { notifyUsers: '' } });
    const result = await runManualValidation(step.context);
    assert.equal(result.status, 'Failed');
    assert.match(result.message ?? '', /^Input required: notifyUsers\./);
  });
});
