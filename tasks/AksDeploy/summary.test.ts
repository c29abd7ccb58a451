import { strict as assert } from 'node:assert';
import type { KubeObject } from '../shared/kubernetes/object';
import { diagnose, firstCause, warningEvents } from './diagnosis';
import type { RunResult } from './run';
import { readableObject, summaryMarkdown, summaryTitle, type DeployTarget } from './summary';

const event = (
  type: string,
  reason: string,
  lastTimestamp: string,
  message: string,
  count = 1,
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: `e-${reason}` },
  type,
  reason,
  count,
  involvedObject: { kind: 'Pod', name: 'api-2' },
  message,
  lastTimestamp,
});

const crashingPod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'api-2' },
  status: {
    containerStatuses: [
      {
        name: 'api',
        image: 'contoso.azurecr.io/orders/api@sha256:bad',
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error' } },
      },
    ],
  },
};

const redactSecret = (text: string) => text.split('s3cr3t-value').join('***');

const crashDiagnosis = diagnose(
  {
    workload: 'Deployment/orders/api',
    verdict: 'ProgressDeadlineExceeded: exceeded its progress deadline',
    pods: [crashingPod],
    // Listed out of time order, Normal events among them.
    events: [
      event('Warning', 'BackOff', '2025-05-01T10:00:30Z', 'Back-off restarting failed container api', 6),
      event('Normal', 'Pulled', '2025-05-01T10:00:05Z', 'Successfully pulled image'),
      event(
        'Warning',
        'Unhealthy',
        '2025-05-01T10:00:10Z',
        'Readiness probe failed: HTTP probe failed with statuscode: 503',
      ),
      event('Normal', 'Scheduled', '2025-05-01T10:00:00Z', 'Successfully assigned orders/api-2'),
    ],
    logs: new Map([
      ['api-2/api', ['starting', 'error DATABASE_URL=postgres://app:s3cr3t-value@db is malformed', '']],
    ]),
  },
  redactSecret,
);

const target: DeployTarget = {
  cluster: 'aks-orders-staging',
  namespace: 'orders',
  place: { environment: 'staging', stage: 'Staging' },
  dryRun: false,
  applySetRecord: 'orders/aksdeploy-0123456789ab',
};

describe('AksDeploy summary', () => {
  it('keeps Warning events only, oldest first', () => {
    assert.deepEqual(
      crashDiagnosis.warnings.map((w) => [w.reason, w.count]),
      [
        ['Unhealthy', 1],
        ['BackOff', 6],
      ],
    );
    assert.deepEqual(
      warningEvents([event('Normal', 'Pulled', '2025-05-01T10:00:05Z', 'x')], (t) => t),
      [],
    );
  });

  it('names the most telling reason and ends the first cause with the last log line, redacted', () => {
    assert.equal(crashDiagnosis.reason, 'CrashLoopBackOff');
    assert.equal(
      firstCause(crashDiagnosis),
      'Deployment/orders/api: CrashLoopBackOff, container api logged: error DATABASE_URL=postgres://app:***@db is malformed',
    );
    const unschedulable = diagnose(
      {
        workload: 'Deployment/orders/big',
        verdict: 'not ready within 5 s (0/1 ready)',
        pods: [
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'big-1' },
            status: {
              conditions: [
                {
                  type: 'PodScheduled',
                  status: 'False',
                  reason: 'Unschedulable',
                  message: '0/3 nodes: Insufficient cpu.',
                },
              ],
            },
          },
        ],
        events: [],
        logs: new Map(),
      },
      (t) => t,
    );
    assert.equal(
      firstCause(unschedulable),
      'Deployment/orders/big: Unschedulable: 0/3 nodes: Insufficient cpu.',
    );
    const timedOut = diagnose(
      {
        workload: 'Deployment/orders/slow',
        verdict: 'not ready within 5 s',
        pods: [],
        events: [],
        logs: new Map(),
      },
      (t) => t,
    );
    assert.equal(timedOut.reason, 'Timeout');
    assert.equal(firstCause(timedOut), 'Deployment/orders/slow: not ready within 5 s');
  });

  it('titles the summary by where it deployed, and puts the place in the heading', () => {
    assert.equal(summaryTitle(target), 'Deploy to AKS (staging)');
    assert.equal(summaryTitle({ ...target, place: { stage: 'Production' } }), 'Deploy to AKS (Production)');
    assert.equal(summaryTitle({ ...target, place: {}, dryRun: true }), 'Deploy to AKS, dry run (orders)');
    assert.equal(readableObject('Namespace//orders'), 'Namespace orders');
    assert.equal(readableObject('Deployment/orders/api'), 'Deployment orders/api');
  });

  it('says why a rolled-back deploy failed: reason, log tail, warnings in order, what the rollback restored', () => {
    const result: RunResult = {
      objects: [{ kind: 'Deployment', namespace: 'orders', name: 'api', action: 'configured' }],
      rollouts: [
        {
          workload: 'Deployment/orders/api',
          outcome: 'rolledBack',
          message: 'rolled back to its previous revision, which is ready (revision 3)',
          durationMs: 12_300,
          rollbackMs: 2_100,
          restored: { revision: '3', images: ['contoso.azurecr.io/orders/api@sha256:good'] },
        },
      ],
      rolloutStatus: 'RolledBack',
      diagnoses: [crashDiagnosis],
      podTemplateHashes: ['7d9f8c6b5'],
      previousImages: ['orders/api => contoso.azurecr.io/orders/api@sha256:good'],
    };
    const markdown = summaryMarkdown(result, target);
    assert.match(
      markdown,
      /^## Deploy to AKS: ❌ failed, rolled back · orders on aks-orders-staging · environment staging · stage Staging\n/,
    );
    assert.match(markdown, /### Why it failed\n\n#### Deployment orders\/api: CrashLoopBackOff\n/);
    assert.match(
      markdown,
      /```\nstarting\nerror DATABASE_URL=postgres:\/\/app:\*\*\*@db is malformed\n\n```/,
    );
    assert.ok(
      markdown.indexOf('| Unhealthy |') < markdown.indexOf('| BackOff (×6) |'),
      'warnings oldest first',
    );
    assert.doesNotMatch(markdown, /Pulled|Scheduled/, 'Normal events are left out');
    assert.match(
      markdown,
      /Rolled back to revision 3, which is ready: `contoso\.azurecr\.io\/orders\/api@sha256:good`\./,
    );
    assert.match(markdown, /\| Deployment orders\/api \| ↩️ rolled back \| 12\.3 s \+ 2\.1 s \|/);
    assert.match(markdown, /`orders\/aksdeploy-0123456789ab` is this pipeline's ApplySet record/);
    assert.doesNotMatch(markdown, /s3cr3t-value|<svg/);
  });
});
