import { strict as assert } from 'node:assert';
import type { KubeObject } from '../shared/kubernetes/object';
import { TaskError, TaskErrors } from '../shared/task-error';
import { parseImageLines } from './image-reference';
import { addImagePullSecrets, checkImagesUsed, pinImages } from './pin-images';
import { podSpecOf } from './workloads';

/** Input lines as the config reads them, numbered from 1. */
const numbered = (lines: string[]) => lines.map((text, index) => ({ line: index + 1, text }));

const digest = `sha256:${'b'.repeat(64)}`;

function podSpec(images: string[], initImages: string[] = []) {
  return {
    initContainers: initImages.map((image, i) => ({ name: `init${i}`, image })),
    containers: images.map((image, i) => ({ name: `c${i}`, image })),
  };
}

function workload(apiVersion: string, kind: string, spec: ReturnType<typeof podSpec>): KubeObject {
  const metadata = { name: kind.toLowerCase(), namespace: 'orders' };
  if (kind === 'Pod') return { apiVersion, kind, metadata, spec };
  if (kind === 'CronJob') {
    return { apiVersion, kind, metadata, spec: { jobTemplate: { spec: { template: { spec } } } } };
  }
  return { apiVersion, kind, metadata, spec: { template: { spec } } };
}

const kinds: [string, string][] = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
  ['apps/v1', 'ReplicaSet'],
  ['batch/v1', 'Job'],
  ['batch/v1', 'CronJob'],
  ['v1', 'Pod'],
];

function imagesOf(object: KubeObject): string[] {
  const spec = podSpecOf(object) as ReturnType<typeof podSpec>;
  return [...spec.initContainers, ...spec.containers].map((c) => c.image);
}

describe('image pinning', () => {
  it('replaces container and init container images of the same repository in every workload kind', () => {
    const pinned = parseImageLines(
      numbered([`myregistry:5000/team/api@${digest}`, 'contoso.azurecr.io/web:2.0']),
    );
    for (const [apiVersion, kind] of kinds) {
      const original = workload(
        apiVersion,
        kind,
        podSpec(
          ['myregistry:5000/team/api:1.0', 'contoso.azurecr.io/web', 'myregistry:5000/team/api-sidecar:1'],
          ['myregistry:5000/team/api'],
        ),
      );
      const { objects, replacements } = pinImages([original], pinned);
      assert.deepEqual(
        imagesOf(objects[0]!),
        [
          `myregistry:5000/team/api@${digest}`,
          `myregistry:5000/team/api@${digest}`,
          'contoso.azurecr.io/web:2.0',
          'myregistry:5000/team/api-sidecar:1',
        ],
        kind,
      );
      assert.equal(replacements.length, 3, kind);
      assert.equal(imagesOf(original)[1], 'myregistry:5000/team/api:1.0', `${kind}: the input was changed`);
    }
  });

  it('matches repositories exactly, port and path included', () => {
    // [image in the manifest, pinned line, replaced?]
    const table: [string, string, boolean][] = [
      ['myregistry:5000/app:1', 'myregistry:5000/app:2', true],
      ['myregistry/app:1', 'myregistry:5000/app:2', false],
      ['myregistry:5000/app:1', 'myregistry:5001/app:2', false],
      ['myregistry:5000/app', `myregistry:5000/app@${digest}`, true],
      [`myregistry:5000/app@${digest}`, 'myregistry:5000/app:3', true],
      ['nginx:1.25', 'docker.io/library/nginx:1.27', true],
      ['library/nginx', 'nginx:1.27', true],
      ['contoso.azurecr.io/a/b/app:1', 'contoso.azurecr.io/b/app:2', false],
      ['contoso.azurecr.io/app:1', 'contoso.azurecr.io/app-two:2', false],
      ['Contoso.AzureCR.io/app:1', 'contoso.azurecr.io/app:2', true],
    ];
    for (const [image, line, replaced] of table) {
      const { objects } = pinImages(
        [workload('apps/v1', 'Deployment', podSpec([image]))],
        parseImageLines(numbered([line])),
      );
      assert.equal(imagesOf(objects[0]!)[0], replaced ? line : image, `${image} with ${line}`);
    }
  });

  it('maps a repository to a reference with =>, a path alone matching it in any registry', () => {
    const to = `contosoprod.azurecr.io/orders/api@${digest}`;
    // [image in the manifest, line, replaced?]
    const table: [string, string, boolean][] = [
      ['orders/api:latest', `orders/api => ${to}`, true],
      ['contosononprod.azurecr.io/orders/api:1', `orders/api => ${to}`, true],
      ['myregistry:5000/orders/api', `orders/api => ${to}`, true],
      ['contosononprod.azurecr.io/orders/api-worker:1', `orders/api => ${to}`, false],
      ['contosononprod.azurecr.io/team/orders/api:1', `orders/api => ${to}`, false],
      ['nginx:1.25', `nginx => ${to}`, true],
      ['contosononprod.azurecr.io/orders/api:1', `contosononprod.azurecr.io/orders/api => ${to}`, true],
      ['other.azurecr.io/orders/api:1', `contosononprod.azurecr.io/orders/api => ${to}`, false],
    ];
    for (const [image, line, replaced] of table) {
      const { objects } = pinImages(
        [workload('apps/v1', 'Deployment', podSpec([image]))],
        parseImageLines(numbered([line])),
      );
      assert.equal(imagesOf(objects[0]!)[0], replaced ? to : image, `${image} with ${line}`);
    }
  });

  it('refuses a mapped repository that carries a tag, and a mapping that replaces nothing', () => {
    assert.throws(
      () => parseImageLines(numbered([`orders/api:1 => contoso.azurecr.io/orders/api@${digest}`])),
      (error: TaskError) => error.key === 'ImageLineSourceInvalid' && error.args[0] === 1,
    );
    const pinned = parseImageLines(numbered([`orders/web => contoso.azurecr.io/orders/web@${digest}`]));
    assert.throws(
      () => checkImagesUsed([workload('apps/v1', 'Deployment', podSpec(['orders/api:1']))], pinned),
      (error: TaskError) =>
        error.key === 'ImageLineUnused' &&
        String(error.args[1]).startsWith('orders/web => ') &&
        error.args[2] === 'orders/web',
    );
  });

  it('leaves objects without pods alone', () => {
    const configMap: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { image: 'x:1' },
    };
    const { objects, replacements } = pinImages([configMap], parseImageLines(numbered(['x:2'])));
    assert.equal(objects[0], configMap);
    assert.deepEqual(replacements, []);
  });

  it('adds image pull secrets once', () => {
    const deployment = workload('apps/v1', 'Deployment', podSpec(['a:1']));
    (podSpecOf(deployment) as Record<string, unknown>).imagePullSecrets = [{ name: 'acr-pull' }];
    const [result] = addImagePullSecrets([deployment], ['acr-pull', 'other']);
    assert.deepEqual(podSpecOf(result!)!.imagePullSecrets, [{ name: 'acr-pull' }, { name: 'other' }]);
  });

  it('refuses an images line that replaces nothing, naming the line and what the containers use', () => {
    const objects = [
      workload('apps/v1', 'Deployment', podSpec(['contoso.azurecr.io/orders/api:1.0', 'nginx:1.27'])),
      workload('batch/v1', 'Job', podSpec(['contoso.azurecr.io/tools/migrate:3'])),
    ];
    checkImagesUsed(objects, parseImageLines(numbered([`contoso.azurecr.io/orders/api@${digest}`])));
    const problem = (lines: string[]) => {
      try {
        checkImagesUsed(objects, parseImageLines(lines.map((text) => ({ line: 4, text }))));
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const wrongRegistry = problem([`contoso-staging.azurecr.io/orders/api@${digest}`]);
    assert.ok(wrongRegistry instanceof TaskError);
    assert.equal(wrongRegistry.key, 'ImageLineUnused');
    assert.deepEqual(wrongRegistry.args, [
      4,
      `contoso-staging.azurecr.io/orders/api@${digest}`,
      'contoso-staging.azurecr.io/orders/api',
      // The repository with the same image name comes first.
      'contoso.azurecr.io/orders/api, contoso.azurecr.io/tools/migrate, docker.io/library/nginx',
    ]);
    const none = (() => {
      try {
        checkImagesUsed([workload('v1', 'Pod', podSpec([]))], parseImageLines(numbered(['app:1'])));
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    assert.ok(none instanceof TaskError && none.key === 'ImageLineUnusedNoContainers', String(none));
    const two = (() => {
      try {
        checkImagesUsed(objects, parseImageLines(numbered(['a/b:1', 'nginx:1.28', 'c/d:1'])));
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    assert.ok(two instanceof TaskErrors);
    assert.deepEqual(
      two.errors.map((e) => e.args[0]),
      [1, 3],
    );
  });
});
