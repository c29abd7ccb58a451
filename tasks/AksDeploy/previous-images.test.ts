import { strict as assert } from 'node:assert';
import type { KubeObject } from '../shared/kubernetes/object';
import { parseImageLines } from './image-reference';
import { previousImages } from './previous-images';

const digest = (char: string) => `sha256:${char.repeat(64)}`;
const acr = 'contoso.azurecr.io';

function deployment(name: string, containers: Record<string, string>, init: Record<string, string> = {}) {
  const list = (entries: Record<string, string>) =>
    Object.entries(entries).map(([container, image]) => ({ name: container, image }));
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'orders' },
    spec: { template: { spec: { initContainers: list(init), containers: list(containers) } } },
  } as KubeObject;
}
const images = (...lines: string[]) =>
  parseImageLines(lines.map((text, index) => ({ line: index + 1, text })));

describe('previousImages', () => {
  const cases: {
    name: string;
    pinned: string[];
    workloads: { applied: KubeObject; before: KubeObject | undefined }[];
    lines: string[];
    notes?: RegExp[];
  }[] = [
    {
      name: 'nothing on a first deploy',
      pinned: [`orders/api => ${acr}/orders/api@${digest('b')}`],
      workloads: [
        { applied: deployment('api', { api: `${acr}/orders/api@${digest('b')}` }), before: undefined },
      ],
      lines: [],
    },
    {
      name: "a pinned container, matched as its line matched it (the left of '=>')",
      pinned: [`orders/api => ${acr}/orders/api@${digest('b')}`],
      workloads: [
        {
          applied: deployment('api', { api: `${acr}/orders/api@${digest('b')}` }),
          before: deployment('api', { api: `${acr}/orders/api@${digest('a')}` }),
        },
      ],
      lines: [`orders/api => ${acr}/orders/api@${digest('a')}`],
    },
    {
      name: 'a line without an arrow, matched by its own repository; a pin that did not change is kept',
      pinned: [`${acr}/orders/api@${digest('a')}`],
      workloads: [
        {
          applied: deployment('api', { api: `${acr}/orders/api@${digest('a')}` }),
          before: deployment('api', { api: `${acr}/orders/api@${digest('a')}` }),
        },
      ],
      lines: [`${acr}/orders/api => ${acr}/orders/api@${digest('a')}`],
    },
    {
      name: "the manifests' own images only when they changed, init containers included, by registry and path",
      pinned: [],
      workloads: [
        {
          applied: deployment(
            'api',
            { api: 'registry:5000/orders/api:2.0', proxy: 'envoy:1.30' },
            { migrate: 'flyway:10' },
          ),
          before: deployment(
            'api',
            { api: 'registry:5000/orders/api:1.0', proxy: 'envoy:1.30' },
            { migrate: 'flyway:9' },
          ),
        },
      ],
      lines: ['flyway => flyway:9', 'registry:5000/orders/api => registry:5000/orders/api:1.0'],
    },
    {
      name: 'a container new in this deploy has nothing before it',
      pinned: [],
      workloads: [
        {
          applied: deployment('api', { api: 'orders/api:2.0', sidecar: 'log/agent:1' }),
          before: deployment('api', { api: 'orders/api:1.0' }),
        },
      ],
      lines: ['orders/api => orders/api:1.0'],
    },
    {
      name: 'an image before without a tag or digest cannot be pinned: left out, with a note',
      pinned: [],
      workloads: [
        {
          applied: deployment('api', { api: 'orders/api:2.0' }),
          before: deployment('api', { api: 'orders/api' }),
        },
      ],
      lines: [],
      notes: [
        /leaves out Deployment\/orders\/api, container api: its image before, 'orders\/api', has no tag/,
      ],
    },
    {
      name: 'one repository that ran two images before: the first kept, a note for the second',
      pinned: [`orders/api => ${acr}/orders/api@${digest('c')}`],
      workloads: [
        {
          applied: deployment('api', { api: `${acr}/orders/api@${digest('c')}` }),
          before: deployment('api', { api: `${acr}/orders/api@${digest('a')}` }),
        },
        {
          applied: deployment('worker', { worker: `${acr}/orders/api@${digest('c')}` }),
          before: deployment('worker', { worker: `${acr}/orders/api@${digest('b')}` }),
        },
      ],
      lines: [`orders/api => ${acr}/orders/api@${digest('a')}`],
      notes: [
        /keeps orders\/api => .*@sha256:a+ \(Deployment\/orders\/api, container api\); Deployment\/orders\/worker, container worker ran .*@sha256:b+ before/,
      ],
    },
  ];
  for (const { name, pinned, workloads, lines, notes = [] } of cases) {
    it(name, () => {
      const result = previousImages(workloads, images(...pinned));
      assert.deepEqual(result.lines, lines);
      assert.equal(result.notes.length, notes.length, result.notes.join('\n'));
      notes.forEach((pattern, index) => assert.match(result.notes[index]!, pattern));
      // The lines are what the images input accepts.
      assert.equal(images(...result.lines).length, result.lines.length);
    });
  }
});
