import * as k8s from '@kubernetes/client-node';
import { strict as assert } from 'node:assert';
import { startPromoteWorld, type PromoteWorld } from '../../oci/fixture';
import { singleArchImage } from '../../oci/content';
import { startEmulatedAks, type EmulatedAks } from '../aks';
import type { KubeObject } from './object';
import { acrImageExists } from './registry-images';
import { until } from './testing';

// Pods "pull" from the real docker-registry behind the ACR front: an image that was
// pushed runs with its real digest as imageID; one that was not gets ImagePullBackOff.
describe('emulated AKS pulling from the emulated registries', () => {
  let world: PromoteWorld;
  let aks: EmulatedAks;
  let objects: k8s.KubernetesObjectApi;
  const image = singleArchImage();

  before(async () => {
    world = await startPromoteWorld();
    aks = await startEmulatedAks({
      cloud: world.cloud,
      imageExists: acrImageExists(world.front, world.cloud.azure.ca.caPem),
    });
    await world.seed(world.prod, 'shop/api', image, ['1.4.2']);
    const config = new k8s.KubeConfig();
    config.loadFromString(aks.kubeconfig(aks.production));
    objects = k8s.KubernetesObjectApi.makeApiClient(config);
  });
  after(async () => {
    await aks.stop();
    await world.stop();
  });

  const deploy = (name: string, reference: string) =>
    objects.patch(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: 'default' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'api', image: reference }] },
          },
        },
      } as k8s.KubernetesObject,
      undefined,
      undefined,
      'tests',
      true,
      k8s.PatchStrategy.ServerSideApply,
    );
  const podOf = (name: string): KubeObject | undefined =>
    aks.production.listObjects('Pod', 'default').find((pod) => pod.metadata.labels?.app === name);

  it('runs a pushed image (by tag and by digest) with the registry digest as imageID', async () => {
    const byTag = `${world.prod.loginServer}/shop/api:1.4.2`;
    const byDigest = `${world.prod.loginServer}/shop/api@${image.digest}`;
    await deploy('tagged', byTag);
    await deploy('pinned', byDigest);
    await until(
      () => aks.production.getObject('Deployment', 'default', 'tagged')?.status?.availableReplicas === 1,
    );
    await until(
      () => aks.production.getObject('Deployment', 'default', 'pinned')?.status?.availableReplicas === 1,
    );
    assert.equal(
      podOf('tagged')!.status.containerStatuses[0].imageID,
      `${world.prod.loginServer}/shop/api@${image.digest}`,
    );
    assert.equal(
      podOf('pinned')!.status.containerStatuses[0].imageID,
      `${world.prod.loginServer}/shop/api@${image.digest}`,
    );
  });

  it('backs off pulling an image the registry does not have, naming it in the events', async () => {
    const absent = `${world.prod.loginServer}/shop/api:9.9.9`;
    await deploy('absent', absent);
    await until(
      () => podOf('absent')?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
    );
    const events = aks.production
      .listObjects('Event', 'default')
      .filter(
        (event) => event.involvedObject.name === podOf('absent')!.metadata.name && event.reason === 'Failed',
      );
    assert.ok(events.some((event) => event.message.startsWith(`Failed to pull image "${absent}": `)));
  });
});
