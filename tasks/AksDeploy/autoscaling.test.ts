import { strict as assert } from 'node:assert';
import type { KubeObject } from '../shared/kubernetes/object';
import { autoscalerOf, keepingLiveReplicas, replicasOf } from './autoscaling';

const deployment = (replicas?: number, namespace = 'shop'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'api', namespace },
  spec: { ...(replicas !== undefined ? { replicas } : {}), selector: { matchLabels: { app: 'api' } } },
});
const autoscaler = (target: Record<string, string>, namespace = 'shop'): KubeObject => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'api-hpa', namespace },
  spec: { scaleTargetRef: target, minReplicas: 3, maxReplicas: 5 },
});

describe('AksDeploy: objects an autoscaler scales', () => {
  it('finds the autoscaler whose target is the object (kind, group and name, same namespace)', () => {
    const matching = autoscaler({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' });
    assert.equal(autoscalerOf(deployment(2), [matching]), matching);
    for (const other of [
      autoscaler({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'api' }),
      autoscaler({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }),
      autoscaler({ apiVersion: 'example.com/v1', kind: 'Deployment', name: 'api' }),
      autoscaler({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, 'other'),
    ])
      assert.equal(autoscalerOf(deployment(2), [other]), undefined);
  });

  it('applies the live replica count in place of the manifest’s', () => {
    assert.deepEqual(keepingLiveReplicas(deployment(2), deployment(4)).spec, {
      replicas: 4,
      selector: { matchLabels: { app: 'api' } },
    });
    assert.equal(replicasOf(deployment()), undefined);
    const unscaled = deployment(2);
    assert.equal(keepingLiveReplicas(unscaled, deployment()), unscaled);
  });
});
