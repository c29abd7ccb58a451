import { strict as assert } from 'node:assert';
import type { KubeObject } from '../shared/kubernetes/object';
import { TaskError } from '../shared/task-error';
import { parseImageLines } from './image-reference';
import type { KustomizeImage } from './kustomization';
import { checkKustomizeImages } from './kustomize-images';

const digest = `sha256:${'e'.repeat(64)}`;
const deployment = (...images: string[]): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'api' },
  spec: {
    template: { spec: { containers: images.map((image, index) => ({ name: `c${index}`, image })) } },
  },
});
const configMap: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' } };

describe('a kustomization’s images entries, checked on what it rendered', () => {
  const check = (images: KustomizeImage[], objects: KubeObject[], pinned = '') => {
    try {
      return checkKustomizeImages(
        { file: 'overlays/staging/kustomization.yaml', images },
        objects,
        parseImageLines(pinned ? [{ line: 1, text: pinned }] : []),
      ).map((warning) => ['warning', warning.key, ...warning.args]);
    } catch (error) {
      if (error instanceof TaskError) return [['error', error.key, ...error.args]];
      throw error;
    }
  };

  const table: [string, KustomizeImage[], KubeObject[], string, unknown[][]][] = [
    [
      'a digest that reached a container',
      [{ name: 'orders/api', digest, line: 3 }],
      [deployment(`orders/api@${digest}`)],
      '',
      [],
    ],
    [
      'a digest that reached no container (names listed, sorted, once)',
      [{ name: 'contoso.azurecr.io/orders/api', digest, line: 3 }],
      [deployment('orders/api:latest', 'nginx:1.27', 'orders/api:1.0')],
      '',
      [
        [
          'error',
          'KustomizeImageUnused',
          'overlays/staging/kustomization.yaml',
          3,
          'contoso.azurecr.io/orders/api',
          'nginx, orders/api',
        ],
      ],
    ],
    [
      'a digest with no container at all',
      [{ name: 'orders/api', digest, line: 7 }],
      [configMap],
      '',
      [['error', 'KustomizeImageUnusedNoContainers', 'overlays/staging/kustomization.yaml', 7, 'orders/api']],
    ],
    [
      'a tag only, rendered',
      [{ name: 'orders/api', newName: 'contoso.azurecr.io/orders/api', newTag: '1.4.2', line: 5 }],
      [deployment('contoso.azurecr.io/orders/api:1.4.2')],
      '',
      [['warning', 'KustomizeImageTagOnly', 'overlays/staging/kustomization.yaml', 5, 'orders/api', '1.4.2']],
    ],
    [
      'a tag only, replaced by the images input',
      [{ name: 'orders/api', newName: 'contoso.azurecr.io/orders/api', newTag: '1.4.2', line: 5 }],
      [deployment('contoso.azurecr.io/orders/api:1.4.2')],
      `orders/api => contoso.azurecr.io/orders/api@${digest}`,
      [],
    ],
    [
      'a tag only, that matched nothing (Kustomize left the image alone: nothing to warn about)',
      [{ name: 'orders/web', newTag: '2.0', line: 5 }],
      [deployment('orders/api:latest')],
      '',
      [],
    ],
    [
      'a new name only',
      [{ name: 'orders/api', newName: 'mirror/orders/api', line: 4 }],
      [deployment('mirror/orders/api:latest')],
      '',
      [],
    ],
  ];
  for (const [what, images, objects, pinned, expected] of table) {
    it(what, () => assert.deepEqual(check(images, objects, pinned), expected));
  }
});
