import { strict as assert } from 'node:assert';
import type { KubeObject } from '../shared/kubernetes/object';
import { rolloutState } from './rollout-status';

function object(
  apiVersion: string,
  kind: string,
  generation: number,
  spec: object,
  status: object,
): KubeObject {
  return { apiVersion, kind, metadata: { name: 'x', namespace: 'n', generation }, spec, status };
}

const deployment = (spec: object, status: object, generation = 2) =>
  object('apps/v1', 'Deployment', generation, { replicas: 3, ...spec }, { observedGeneration: 2, ...status });
const statefulSet = (spec: object, status: object) =>
  object('apps/v1', 'StatefulSet', 2, { replicas: 3, ...spec }, { observedGeneration: 2, ...status });
const daemonSet = (status: object) =>
  object('apps/v1', 'DaemonSet', 2, {}, { observedGeneration: 2, desiredNumberScheduled: 4, ...status });
const job = (status: object) => object('batch/v1', 'Job', 1, { completions: 2 }, status);

describe('rollout status rules', () => {
  it('judges workloads the way kubectl rollout status does', () => {
    const all = { updatedReplicas: 3, replicas: 3, availableReplicas: 3 };
    const table: [string, KubeObject, string, string?][] = [
      ['deployment not observed', deployment({}, all, 3), 'progressing', 'observed'],
      [
        'deployment updating',
        deployment({}, { updatedReplicas: 1, replicas: 3 }),
        'progressing',
        '1 of 3 new',
      ],
      ['deployment old pending', deployment({}, { updatedReplicas: 3, replicas: 4 }), 'progressing', '1 old'],
      [
        'deployment unavailable',
        deployment({}, { ...all, availableReplicas: 2 }),
        'progressing',
        '2 of 3 updated',
      ],
      ['deployment done', deployment({}, all), 'done'],
      [
        'deployment defaults to 1 replica',
        deployment({ replicas: undefined }, { updatedReplicas: 1, replicas: 1, availableReplicas: 1 }),
        'done',
      ],
      [
        'deployment past its deadline',
        deployment(
          {},
          {
            updatedReplicas: 1,
            conditions: [
              {
                type: 'Progressing',
                status: 'False',
                reason: 'ProgressDeadlineExceeded',
                message: 'ReplicaSet "x-1" has timed out progressing.',
              },
            ],
          },
        ),
        'failed',
        'progress deadline',
      ],
      ['statefulset not ready', statefulSet({}, { readyReplicas: 2 }), 'progressing', '2 of 3 pods ready'],
      [
        'statefulset revisions differ',
        statefulSet({}, { readyReplicas: 3, updatedReplicas: 1, updateRevision: 'b', currentRevision: 'a' }),
        'progressing',
        'revision b',
      ],
      [
        'statefulset done',
        statefulSet({}, { readyReplicas: 3, updatedReplicas: 3, updateRevision: 'b', currentRevision: 'b' }),
        'done',
      ],
      [
        'statefulset partition pending',
        statefulSet(
          { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
          { readyReplicas: 3, updatedReplicas: 0, updateRevision: 'b', currentRevision: 'a' },
        ),
        'progressing',
        'partitioned',
      ],
      [
        'statefulset partition done',
        statefulSet(
          { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
          { readyReplicas: 3, updatedReplicas: 1, updateRevision: 'b', currentRevision: 'a' },
        ),
        'done',
        'partitioned',
      ],
      [
        'statefulset on delete',
        statefulSet({ updateStrategy: { type: 'OnDelete' } }, {}),
        'done',
        'OnDelete',
      ],
      ['statefulset never observed', statefulSet({}, { observedGeneration: 0 }), 'progressing', 'observed'],
      [
        'daemonset scheduling',
        daemonSet({ updatedNumberScheduled: 2, numberAvailable: 4 }),
        'progressing',
        '2 of 4 updated pods scheduled',
      ],
      [
        'daemonset unavailable',
        daemonSet({ updatedNumberScheduled: 4, numberAvailable: 3 }),
        'progressing',
        '3 of 4',
      ],
      ['daemonset done', daemonSet({ updatedNumberScheduled: 4, numberAvailable: 4 }), 'done'],
      ['job running', job({ succeeded: 1 }), 'progressing', '1 of 2'],
      ['job complete', job({ succeeded: 2, conditions: [{ type: 'Complete', status: 'True' }] }), 'done'],
      [
        'job failed',
        job({
          conditions: [
            {
              type: 'Failed',
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
            },
          ],
        }),
        'failed',
        'backoff',
      ],
    ];
    for (const [what, live, phase, message] of table) {
      const state = rolloutState(live);
      assert.equal(state?.phase, phase, what);
      if (message) assert.match(state!.message, new RegExp(message, 'i'), what);
    }
    assert.equal(rolloutState({ apiVersion: 'v1', kind: 'Service', metadata: {} }), undefined);
  });

  it('counts ready and desired for the progress lines', () => {
    const state = rolloutState(deployment({}, { updatedReplicas: 3, replicas: 3, availableReplicas: 2 }));
    assert.deepEqual([state?.ready, state?.desired], [2, 3]);
  });
});
