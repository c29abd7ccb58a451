import assert from 'node:assert/strict';
import type { AzureRmConnection } from '../tasks/shared/azure-connection';
import { createCredential } from '../tasks/shared/azure-credential';
import { resolveCloud, scopeFor } from '../tasks/shared/cloud';
import type { NetworkSettings, RetryPolicy } from '../tasks/shared/network';
import { AcrCredentials } from '../tasks/shared/registry/acr-auth';
import { RegistryClient } from '../tasks/shared/registry/client';
import { Transport } from '../tasks/shared/registry/transport';
import { TaskError } from '../tasks/shared/task-error';
import { promote, type PromoteReport, type PromoteRequest } from '../tasks/AcrPromoteImage/promote';
import type { EmulatedRegistry } from './emulators/acr';
import {
  allBlobs,
  blob,
  descriptor,
  MediaType,
  multiArchImage,
  sbom,
  signature,
  singleArchImage,
  type Manifest,
} from './oci/content';
import { startPromoteWorld, type PromoteWorld } from './oci/fixture';
import { putManifest, send, type SeedTarget } from './oci/push';
import { startConnectProxy } from './support/connect-proxy';

// Promotion in-process, through the real wire client and the real Entra sign-in,
// against real registries behind the ACR front. Every test ends by reading the target
// with skopeo, straight from the registry, and comparing digests with the source.
describe('AcrPromoteImage: promote against real registries', function () {
  this.timeout(60_000);
  let world: PromoteWorld;
  let waits: number[];
  const fast: RetryPolicy = { maxRetries: 4, initialDelayMs: 1, maxDelayMs: 4, maxRetryAfterMs: 5_000 };
  let checks: { registry: EmulatedRegistry; repository: string; reference: string; digest: string }[];

  before(async () => {
    world = await startPromoteWorld();
  });
  after(async () => {
    await world.stop();
  });
  beforeEach(() => {
    waits = [];
    checks = [];
    world.front.clearFaults();
    world.front.onRequest(undefined);
    world.front.resetStats();
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'passed') return;
    for (const check of checks) {
      assert.equal(
        world.storedDigest(check.registry, check.repository, check.reference),
        check.digest,
        `skopeo sees ${check.repository}:${check.reference} at ${check.registry.name}`,
      );
    }
  });

  function connection(): AzureRmConnection {
    return {
      id: 'promote-connection',
      inputName: 'sourceConnection',
      cloud: resolveCloud('promote-connection', {
        environment: 'AzureStack',
        url: world.cloud.azure.url('management.azure.test', '/'),
        environmentAuthorityUrl: world.cloud.authorityHost,
        activeDirectoryServiceEndpointResourceId: 'https://management.azure.test/',
        azureKeyVaultDnsSuffix: world.cloud.azure.authority('vault.azure.test'),
      }),
      authentication: {
        scheme: 'ServicePrincipal',
        tenantId: world.tenantId,
        clientId: world.app.clientId,
        secret: world.app.secret,
      },
    };
  }

  async function run(
    request: Partial<PromoteRequest> & Pick<PromoteRequest, 'source' | 'target'>,
    target: EmulatedRegistry = world.prod,
    source: EmulatedRegistry = world.nonprod,
    network: NetworkSettings = { extraCaPem: world.cloud.azure.ca.caPem },
  ): Promise<PromoteReport> {
    const wait = (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    };
    const transport = new Transport({ network, retry: fast, wait });
    const connectionData = connection();
    const credentials = new AcrCredentials(
      transport,
      createCredential(connectionData, network, fast),
      scopeFor(connectionData.cloud.containerRegistryAudience),
    );
    try {
      return await promote(
        { copyReferrers: true, overwriteTags: false, concurrency: 4, ...request },
        {
          source: new RegistryClient(source.loginServer, transport, credentials),
          target: new RegistryClient(target.loginServer, transport, credentials),
          retry: fast,
          wait,
          log: () => undefined,
        },
      );
    } finally {
      transport.close();
    }
  }

  function expectAt(
    registry: EmulatedRegistry,
    repository: string,
    manifest: Manifest,
    tags: readonly string[],
  ) {
    for (const reference of [manifest.digest, ...tags, ...manifest.children.map((child) => child.digest)]) {
      const digest = reference.startsWith('sha256:') ? reference : manifest.digest;
      checks.push({ registry, repository, reference, digest });
    }
  }

  const imageFormats = [
    { title: 'a single-arch Docker v2 image', build: () => singleArchImage('docker') },
    { title: 'a single-arch OCI image', build: () => singleArchImage('oci') },
    { title: 'a multi-arch Docker manifest list', build: () => multiArchImage({ format: 'docker' }) },
    { title: 'a multi-arch OCI index', build: () => multiArchImage({ format: 'oci' }) },
  ];
  for (const [index, row] of imageFormats.entries()) {
    it(`copies ${row.title} byte for byte, every platform, and tags it last`, async () => {
      const image = row.build();
      const repository = `formats/app${index}`;
      await world.seed(world.nonprod, repository, image, ['1.0']);
      const report = await run({
        source: { registry: world.nonprod.loginServer, repository, tag: '1.0' },
        target: { registry: world.prod.loginServer, repository, tags: ['1.0', 'stable'] },
      });
      assert.equal(report.digest, image.digest);
      assert.equal(report.mediaType, image.mediaType);
      assert.deepEqual(
        report.children.map((child) => child.digest),
        image.children.map((child) => child.digest),
      );
      assert.equal(report.blobs.copied, allBlobs(image).length);
      assert.deepEqual(report.tagsWritten, ['1.0', 'stable']);
      expectAt(world.prod, repository, image, ['1.0', 'stable']);
    });
  }

  it('copies signatures and SBOMs of the index and of a child, and writes the fallback index where the target has no referrers API', async () => {
    const image = multiArchImage();
    const child = image.children[0]!;
    const referrers = [signature(image), sbom(image), signature(child), sbom(child)];
    await world.seed(world.nonprod, 'signed/app', image, ['2.0']);
    for (const referrer of referrers) await world.seed(world.nonprod, 'signed/app', referrer);

    const report = await run({
      source: { registry: world.nonprod.loginServer, repository: 'signed/app', tag: '2.0' },
      target: { registry: world.prod.loginServer, repository: 'signed/app', tags: ['2.0'] },
    });
    assert.deepEqual(
      report.referrers.map((each) => each.digest).sort(),
      referrers.map((each) => each.digest).sort(),
    );
    assert.equal(report.fallbackIndexesWritten, 2);
    for (const referrer of referrers) {
      checks.push({
        registry: world.prod,
        repository: 'signed/app',
        reference: referrer.digest,
        digest: referrer.digest,
      });
    }
    expectAt(world.prod, 'signed/app', image, ['2.0']);

    // The fallback index is where a client of this target looks: it must list exactly the referrers.
    const listed = await fallbackListing(world.prod, 'signed/app', image.digest);
    assert.deepEqual(listed.sort(), [referrers[0]!.digest, referrers[1]!.digest].sort());
  });

  it('leaves referrers behind when copyReferrers is false', async () => {
    const image = singleArchImage();
    const sig = signature(image);
    await world.seed(world.nonprod, 'unsigned/app', image, ['1']);
    await world.seed(world.nonprod, 'unsigned/app', sig);
    const report = await run({
      source: { registry: world.nonprod.loginServer, repository: 'unsigned/app', tag: '1' },
      target: { registry: world.prod.loginServer, repository: 'unsigned/app', tags: ['1'] },
      copyReferrers: false,
    });
    assert.deepEqual(report.referrers, []);
    assert.equal(world.storedDigest(world.prod, 'unsigned/app', sig.digest), undefined);
    expectAt(world.prod, 'unsigned/app', image, ['1']);
  });

  it('reads referrers from the sha256-<hex> fallback tag where the source has no referrers API', async () => {
    const image = singleArchImage();
    const sig = signature(image);
    await world.seed(world.prod, 'fallback/app', image, ['1']);
    await world.seed(world.prod, 'fallback/app', sig);
    // What a client such as oras writes at a registry without the API: an index of referrers under the tag.
    const fallback = blob(
      MediaType.ociIndex,
      Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [descriptor(sig)] }),
      ),
    );
    await putManifest(seedTarget(world.prod), 'fallback/app', fallback, image.digest.replace(':', '-'));
    const staging = await world.addRegistry('staging', { referrersApi: true });
    world.front.grant('staging', world.app.objectId, 'AcrPush');
    const report = await run(
      {
        source: { registry: world.prod.loginServer, repository: 'fallback/app', tag: '1' },
        target: { registry: staging.loginServer, repository: 'fallback/app', tags: ['1'] },
      },
      staging,
      world.prod,
    );
    assert.deepEqual(
      report.referrers.map((each) => each.digest),
      [sig.digest],
    );
    assert.equal(report.fallbackIndexesWritten, 0, 'the target has the referrers API');
    expectAt(staging, 'fallback/app', image, ['1']);
    checks.push({ registry: staging, repository: 'fallback/app', reference: sig.digest, digest: sig.digest });
  });

  it('mounts blobs within one registry, moving zero blob bytes', async () => {
    const image = multiArchImage();
    await world.seed(world.prod, 'mount/source', image, ['3.0']);
    world.front.grant('prod', world.app.objectId, 'AcrPull');
    world.front.resetStats();
    const report = await run(
      {
        source: { registry: world.prod.loginServer, repository: 'mount/source', tag: '3.0' },
        target: { registry: world.prod.loginServer, repository: 'mount/target', tags: ['3.0'] },
      },
      world.prod,
      world.prod,
    );
    assert.equal(report.blobs.mounted, allBlobs(image).length);
    assert.equal(report.blobs.copied, 0);
    assert.equal(world.prod.stats.blobBytesReceived, 0);
    assert.equal(world.prod.stats.blobBytesServed, 0);
    expectAt(world.prod, 'mount/target', image, ['3.0']);
  });

  it('moves zero bytes and writes nothing on a rerun', async () => {
    const image = multiArchImage();
    await world.seed(world.nonprod, 'rerun/app', image, ['4.0']);
    await world.seed(world.nonprod, 'rerun/app', signature(image));
    const request = {
      source: { registry: world.nonprod.loginServer, repository: 'rerun/app', tag: '4.0' },
      target: { registry: world.prod.loginServer, repository: 'rerun/app', tags: ['4.0'] },
    };
    await run(request);
    world.front.resetStats();
    const again = await run(request);
    assert.equal(again.blobs.copied, 0);
    assert.equal(again.manifestsWritten, 0);
    assert.equal(again.fallbackIndexesWritten, 0);
    assert.deepEqual(again.tagsUnchanged, ['4.0']);
    assert.equal(world.prod.stats.blobBytesReceived, 0);
    assert.equal(world.nonprod.stats.blobBytesServed, 0);
    assert.equal(world.prod.stats.manifestPuts, 0);
    expectAt(world.prod, 'rerun/app', image, ['4.0']);
  });

  it('copies the digest it resolved when the source tag moves mid-copy', async () => {
    const first = multiArchImage();
    const second = multiArchImage();
    await world.seed(world.nonprod, 'moving/app', first, ['latest']);
    let moved = false;
    world.front.onRequest(async (request) => {
      if (
        !moved &&
        request.registry === 'nonprod' &&
        request.method === 'GET' &&
        request.path.includes('/blobs/')
      ) {
        moved = true;
        await world.seed(world.nonprod, 'moving/app', second, ['latest']);
      }
    });
    const report = await run({
      source: { registry: world.nonprod.loginServer, repository: 'moving/app', tag: 'latest' },
      target: { registry: world.prod.loginServer, repository: 'moving/app', tags: ['release'] },
    });
    assert.ok(moved, 'the tag moved during the copy');
    assert.equal(report.digest, first.digest);
    expectAt(world.prod, 'moving/app', first, ['release']);
  });

  it('finishes after a failure mid-copy, moving only what is missing, with no tag before the end', async () => {
    const image = multiArchImage({ ownLayerSizes: [4096, 8192] });
    await world.seed(world.nonprod, 'broken/app', image, ['5.0']);
    const request = {
      source: { registry: world.nonprod.loginServer, repository: 'broken/app', tag: '5.0' },
      target: { registry: world.prod.loginServer, repository: 'broken/app', tags: ['5.0'] },
    };
    // Manifest writes fail for good: the first run copies blobs and stops.
    world.front.injectFault({
      match: (r) => r.registry === 'prod' && r.method === 'PUT' && r.path.includes('/manifests/'),
      fault: { kind: 'status', status: 503 },
      times: 100,
    });
    await assert.rejects(
      run(request),
      (error: unknown) => error instanceof TaskError && error.key === 'RegistryUnavailable',
    );
    assert.equal(
      world.storedDigest(world.prod, 'broken/app', '5.0'),
      undefined,
      'no tag points at partial content',
    );
    world.front.clearFaults();
    world.front.resetStats();
    const report = await run(request);
    assert.equal(report.blobs.copied, 0, 'every blob was already there');
    assert.equal(world.prod.stats.blobBytesReceived, 0);
    expectAt(world.prod, 'broken/app', image, ['5.0']);
  });

  it('refuses to move a target tag that points elsewhere, naming both digests, unless overwriteTags', async () => {
    const old = singleArchImage();
    const next = singleArchImage();
    await world.seed(world.prod, 'overwrite/app', old, ['live']);
    await world.seed(world.nonprod, 'overwrite/app', next, ['6.0']);
    const request = {
      source: { registry: world.nonprod.loginServer, repository: 'overwrite/app', tag: '6.0' },
      target: { registry: world.prod.loginServer, repository: 'overwrite/app', tags: ['live'] },
    };
    world.front.resetStats();
    await assert.rejects(run(request), (error: unknown) => {
      assert.ok(error instanceof TaskError);
      assert.equal(error.key, 'TagExists');
      assert.ok(error.args.includes(old.digest) && error.args.includes(next.digest));
      return true;
    });
    assert.equal(world.prod.stats.manifestPuts, 0, 'refused before writing anything');
    const report = await run({ ...request, overwriteTags: true });
    assert.deepEqual(report.tagsWritten, ['live']);
    expectAt(world.prod, 'overwrite/app', next, ['live']);
  });

  it('reports a locked target tag', async () => {
    const old = singleArchImage();
    const next = singleArchImage();
    await world.seed(world.prod, 'locked/app', old, ['live']);
    await world.seed(world.nonprod, 'locked/app', next, ['7.0']);
    world.front.setAttributes('prod', 'locked/app', 'live', { writeEnabled: false });
    await assert.rejects(
      run({
        source: { registry: world.nonprod.loginServer, repository: 'locked/app', tag: '7.0' },
        target: { registry: world.prod.loginServer, repository: 'locked/app', tags: ['live'] },
        overwriteTags: true,
      }),
      (error: unknown) => error instanceof TaskError && error.key === 'TargetLocked',
    );
    checks.push({ registry: world.prod, repository: 'locked/app', reference: 'live', digest: old.digest });
  });

  it('rides out 429s (honouring Retry-After) and connections dropped mid-blob (resuming with Range)', async () => {
    const image = singleArchImage('oci', [256 * 1024, 512 * 1024]);
    await world.seed(world.nonprod, 'faults/app', image, ['8.0']);
    world.front.injectFault({
      match: (r) => r.registry === 'prod' && r.method === 'HEAD',
      fault: { kind: 'throttle', retryAfterSeconds: 2 },
      times: 2,
    });
    world.front.injectFault({
      match: (r) =>
        r.registry === 'nonprod' &&
        r.method === 'GET' &&
        image.blobs.some((layer) => layer.size > 200_000 && r.path.endsWith(layer.digest)),
      fault: { kind: 'dropMidBody', afterBytes: 100_000 },
      times: 2,
    });
    world.front.injectFault({
      match: (r) => r.registry === 'prod' && r.method === 'POST' && r.path.includes('/blobs/uploads/'),
      fault: { kind: 'drop' },
      times: 1,
    });
    // An upload cut off as it starts: the blob is copied again, whole, from a fresh download.
    world.front.injectFault({
      match: (r) => r.registry === 'prod' && r.method === 'PUT' && r.path.includes('/blobs/uploads/'),
      fault: { kind: 'drop' },
      times: 1,
    });
    const report = await run({
      source: { registry: world.nonprod.loginServer, repository: 'faults/app', tag: '8.0' },
      target: { registry: world.prod.loginServer, repository: 'faults/app', tags: ['8.0'] },
    });
    assert.equal(waits.filter((ms) => ms === 2000).length, 2, 'waited what Retry-After asked, twice');
    // Which downloads break depends on which upload was cut off first; every break resumed.
    assert.ok(report.blobs.resumes >= 1);
    // Counted by the Range header: a resumed download may itself be cut off and never finish.
    const ranged = world.front.requests.filter((r) => r.registry === 'nonprod' && r.range !== undefined);
    assert.equal(ranged.length, report.blobs.resumes, 'each resume was a Range request');
    expectAt(world.prod, 'faults/app', image, ['8.0']);
  });

  it('gives up on throttling that outlasts the policy, with a clear error', async () => {
    const image = singleArchImage();
    await world.seed(world.nonprod, 'throttled/app', image, ['1']);
    world.front.injectFault({
      match: (r) => r.registry === 'nonprod' && r.path.includes('/manifests/'),
      fault: { kind: 'throttle', retryAfterSeconds: 1 },
      times: 100,
    });
    await assert.rejects(
      run({
        source: { registry: world.nonprod.loginServer, repository: 'throttled/app', tag: '1' },
        target: { registry: world.prod.loginServer, repository: 'throttled/app', tags: ['1'] },
      }),
      (error: unknown) => error instanceof TaskError && error.key === 'Throttled',
    );
  });

  const denials = [
    {
      title: 'no pull permission at the source (AcrPull)',
      setup: () => world.front.revoke('nonprod', world.app.objectId),
      key: 'PullDenied',
    },
    {
      title: 'no push permission at the target (AcrPush)',
      setup: () => {
        world.front.revoke('prod', world.app.objectId);
        world.front.grant('prod', world.app.objectId, 'AcrPull');
      },
      key: 'PushDenied',
    },
  ];
  for (const row of denials) {
    it(`reports ${row.title}`, async () => {
      const image = singleArchImage();
      await world.seed(world.nonprod, 'denied/app', image, ['1']);
      row.setup();
      try {
        await assert.rejects(
          run({
            source: { registry: world.nonprod.loginServer, repository: 'denied/app', tag: '1' },
            target: { registry: world.prod.loginServer, repository: 'denied/app', tags: ['1'] },
          }),
          (error: unknown) => error instanceof TaskError && error.key === row.key,
        );
      } finally {
        world.front.revoke('nonprod', world.app.objectId);
        world.front.revoke('prod', world.app.objectId);
        world.front.grant('nonprod', world.app.objectId, 'AcrPull');
        world.front.grant('prod', world.app.objectId, 'AcrPush');
      }
    });
  }

  const missing = [
    {
      title: 'a tag that does not exist',
      source: { repository: 'missing/app', tag: 'nope' },
      key: 'ImageNotFound',
    },
    {
      title: 'a digest that does not exist',
      source: { repository: 'missing/app', digest: `sha256:${'0'.repeat(64)}` },
      key: 'ImageNotFound',
    },
  ];
  for (const row of missing) {
    it(`reports ${row.title}`, async () => {
      await world.seed(world.nonprod, 'missing/app', singleArchImage(), ['1']);
      await assert.rejects(
        run({
          source: { registry: world.nonprod.loginServer, ...row.source },
          target: { registry: world.prod.loginServer, repository: 'missing/app', tags: ['1'] },
        }),
        (error: unknown) => error instanceof TaskError && error.key === row.key,
      );
    });
  }

  it('goes through the agent proxy with CONNECT, and around it for hosts on the bypass list', async () => {
    const image = singleArchImage();
    await world.seed(world.nonprod, 'proxied/app', image, ['1']);
    const proxy = await startConnectProxy();
    try {
      const network = (bypass: RegExp[]): NetworkSettings => ({
        extraCaPem: world.cloud.azure.ca.caPem,
        proxy: { url: proxy.url, bypass },
      });
      const request = {
        source: { registry: world.nonprod.loginServer, repository: 'proxied/app', tag: '1' },
        target: { registry: world.prod.loginServer, repository: 'proxied/app', tags: ['1'] },
      };
      await run(request, world.prod, world.nonprod, network([]));
      const tunnelled = new Set(proxy.tunnels.map((target) => target.split('.')[0]));
      assert.ok(tunnelled.has('nonprod') && tunnelled.has('prod'), [...tunnelled].join(', '));
      proxy.tunnels.length = 0;
      await run(request, world.prod, world.nonprod, network([/azurecr\.azure\.test/i]));
      assert.deepEqual(
        proxy.tunnels.filter((target) => target.includes('azurecr')),
        [],
        'bypassed hosts are reached directly',
      );
      expectAt(world.prod, 'proxied/app', image, ['1']);
    } finally {
      await proxy.close();
    }
  });

  it('reports a registry that does not exist', async () => {
    const ghost = {
      ...world.prod,
      name: 'ghost',
      loginServer: `ghost.azurecr.azure.test:${world.front.port}`,
    };
    await assert.rejects(
      run(
        {
          source: { registry: world.nonprod.loginServer, repository: 'x/app', tag: '1' },
          target: { registry: ghost.loginServer, repository: 'x/app', tags: ['1'] },
        },
        ghost,
      ),
      (error: unknown) =>
        error instanceof TaskError && ['RegistryNotFound', 'ImageNotFound'].includes(error.key),
    );
  });

  function seedTarget(registry: EmulatedRegistry): SeedTarget {
    return {
      baseUrl: registry.url,
      caPem: world.cloud.azure.ca.caPem,
      authorization: world.front.adminAuthorization(registry.name),
    };
  }

  async function fallbackListing(
    registry: EmulatedRegistry,
    repository: string,
    digest: string,
  ): Promise<string[]> {
    const answer = await send(
      {
        baseUrl: registry.url,
        caPem: world.cloud.azure.ca.caPem,
        authorization: world.front.adminAuthorization(registry.name),
      },
      'GET',
      `/v2/${repository}/manifests/${digest.replace(':', '-')}`,
      undefined,
      { accept: 'application/vnd.oci.image.index.v1+json' },
    );
    assert.equal(answer.status, 200);
    return (JSON.parse(answer.body.toString()) as { manifests: { digest: string }[] }).manifests.map(
      (m) => m.digest,
    );
  }
});
