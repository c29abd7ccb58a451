import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTask, type Endpoint, type TaskRun, type TaskRunResult } from './harness/agent';
import { multiArchImage, sbom, signature, singleArchImage } from './oci/content';
import { startPromoteWorld, type PromoteWorld } from './oci/fixture';

// AcrPromoteImage@1 as the agent runs it: the bundled task, spawned on Node 20 and 24,
// signing in through the emulated Entra with a service connection, against real
// registries behind the ACR front.
describe('AcrPromoteImage@1 task', function () {
  this.timeout(120_000);
  let world: PromoteWorld;
  let taskFolder: string;

  // A private copy of the bundle: other suites rebuild dist/ while this one runs.
  before(async () => {
    taskFolder = join(mkdtempSync(join(tmpdir(), 'acr-promote-task-')), 'AcrPromoteImage');
    for (let attempt = 1; ; attempt++) {
      try {
        execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'ignore' });
        cpSync(join('dist', 'tasks', 'AcrPromoteImage'), taskFolder, { recursive: true });
        break;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    world = await startPromoteWorld();
  });
  after(async () => {
    await world.stop();
    rmSync(join(taskFolder, '..'), { recursive: true, force: true });
  });
  beforeEach(() => {
    world.front.clearFaults();
    world.front.onRequest(undefined);
    world.front.resetStats();
  });

  function connection(): Endpoint {
    return world.cloud.servicePrincipalEndpoint(
      { tenantId: world.tenantId, ...world.app },
      { subscriptionId: world.subscriptionId },
    );
  }

  function promoteTask(inputs: Record<string, string>, extra: Partial<TaskRun> = {}): Promise<TaskRunResult> {
    return runTask({
      task: taskFolder,
      inputs: {
        sourceConnection: 'nonprod-connection',
        sourceRegistry: world.nonprod.loginServer,
        targetRegistry: world.prod.loginServer,
        ...inputs,
      },
      endpoints: { 'nonprod-connection': connection() },
      env: world.cloud.azure.env(),
      ...extra,
    });
  }

  for (const node of ['node20', 'node24'] as const) {
    it(`promotes a signed multi-arch image and sets imageDigest and imageReference (${node})`, async () => {
      const image = multiArchImage();
      const referrers = [signature(image), sbom(image.children[1]!)];
      await world.seed(world.nonprod, `task/${node}`, image, ['1.2.3']);
      for (const referrer of referrers) await world.seed(world.nonprod, `task/${node}`, referrer);

      const run = await promoteTask(
        { sourceImage: `task/${node}:1.2.3`, targetTags: '1.2.3\nstable' },
        { node },
      );
      assert.equal(run.result?.status, 'Succeeded', run.log);
      assert.equal(run.outputVariables.get('imageDigest')?.value, image.digest);
      assert.equal(
        run.outputVariables.get('imageReference')?.value,
        `${world.prod.loginServer}/task/${node}@${image.digest}`,
      );
      assert.deepEqual(
        run.summaries.map((each) => each.name),
        [`Image promotion to ${world.prod.loginServer.replace(':', '-')}.md`],
      );
      const summary = run.summaries.map((each) => each.content).join('\n');
      assert.match(summary, new RegExp(image.digest));
      for (const child of image.children) assert.match(summary, new RegExp(child.digest));
      for (const referrer of referrers) assert.match(summary, new RegExp(referrer.digest));
      for (const tag of ['1.2.3', 'stable']) {
        assert.equal(world.storedDigest(world.prod, `task/${node}`, tag), image.digest);
      }
      for (const each of [...image.children, ...referrers]) {
        assert.equal(world.storedDigest(world.prod, `task/${node}`, each.digest), each.digest);
      }
    });
  }

  it('imports server-side with method=import, then copies the referrers import drops', async () => {
    const image = multiArchImage();
    const referrers = [signature(image), sbom(image.children[0]!)];
    await world.seed(world.nonprod, 'task/imported', image, ['2.0']);
    for (const referrer of referrers) await world.seed(world.nonprod, 'task/imported', referrer);
    world.front.resetStats();

    const run = await promoteTask({ sourceImage: 'task/imported:2.0', method: 'import' });
    assert.equal(run.result?.status, 'Succeeded', run.log);
    assert.equal(run.outputVariables.get('imageDigest')?.value, image.digest);
    const summary = run.summaries.map((each) => each.content).join('\n');
    assert.match(summary, /server-side import/);
    // The agent moved only the referrers' blobs; ARM moved the image.
    const referrerBlobs = new Map(
      referrers.flatMap((each) => each.blobs).map((blob) => [blob.digest, blob.size]),
    );
    const referrerBytes = [...referrerBlobs.values()].reduce((sum, size) => sum + size, 0);
    assert.equal(world.prod.stats.blobBytesReceived, referrerBytes);
    assert.equal(world.storedDigest(world.prod, 'task/imported', '2.0'), image.digest);
    for (const each of [...image.children, ...referrers]) {
      assert.equal(world.storedDigest(world.prod, 'task/imported', each.digest), each.digest);
    }
  });

  it('reports an import that ARM refuses, with the role to grant', async () => {
    await world.seed(world.nonprod, 'task/import-denied', singleArchImage(), ['1']);
    world.front.revoke('prod', world.app.objectId);
    world.front.grant('prod', world.app.objectId, 'AcrPull');
    try {
      const run = await promoteTask({ sourceImage: 'task/import-denied:1', method: 'import' });
      assert.equal(run.result?.status, 'Failed');
      assert.match(run.result?.message ?? '', /Contributor/);
    } finally {
      world.front.revoke('prod', world.app.objectId);
      world.front.grant('prod', world.app.objectId, 'AcrPush');
    }
  });

  it('locks the promoted manifest and tags when lockAfterPromotion is true', async () => {
    const image = singleArchImage();
    await world.seed(world.nonprod, 'task/locked', image, ['9.0']);
    const run = await promoteTask({ sourceImage: 'task/locked:9.0', lockAfterPromotion: 'true' });
    assert.equal(run.result?.status, 'Succeeded', run.log);
    // The lock holds: moving the tag is refused, even for the task with overwriteTags.
    const next = singleArchImage();
    await world.seed(world.nonprod, 'task/locked', next, ['9.1']);
    const again = await promoteTask({
      sourceImage: 'task/locked:9.1',
      targetTags: '9.0',
      overwriteTags: 'true',
    });
    assert.equal(again.result?.status, 'Failed');
    assert.match(again.result?.message ?? '', /locked against writes/);
    assert.equal(world.storedDigest(world.prod, 'task/locked', '9.0'), image.digest);
  });

  it('can be killed mid-copy and rerun, with no tag before the copy is complete', async () => {
    const image = multiArchImage({ ownLayerSizes: [64 * 1024, 64 * 1024] });
    await world.seed(world.nonprod, 'task/killed', image, ['1']);
    let uploads = 0;
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    // The third blob upload hangs until the task has been killed.
    world.front.onRequest(async (request) => {
      if (
        request.registry === 'prod' &&
        request.method === 'PUT' &&
        request.path.includes('/blobs/uploads/')
      ) {
        if (++uploads === 3) await stalled;
      }
    });
    const killed = await promoteTask({ sourceImage: 'task/killed:1' }, { timeoutMs: 8_000 });
    assert.ok(killed.timedOut, 'the task was killed');
    assert.equal(world.storedDigest(world.prod, 'task/killed', '1'), undefined, 'no tag yet');
    world.front.onRequest(undefined);
    release();
    world.front.resetStats();
    const rerun = await promoteTask({ sourceImage: 'task/killed:1' });
    assert.equal(rerun.result?.status, 'Succeeded', rerun.log);
    const total = image.children.flatMap((child) => child.blobs).reduce((sum, blob) => sum + blob.size, 0);
    assert.ok(world.prod.stats.blobBytesReceived < total, 'the rerun moved only what was missing');
    assert.equal(world.storedDigest(world.prod, 'task/killed', '1'), image.digest);
  });

  it('reports missing pull permission in one line', async () => {
    await world.seed(world.nonprod, 'task/denied', singleArchImage(), ['1']);
    world.front.revoke('nonprod', world.app.objectId);
    try {
      const run = await promoteTask({ sourceImage: 'task/denied:1' });
      assert.equal(run.result?.status, 'Failed');
      assert.match(run.result?.message ?? '', /AcrPull/);
    } finally {
      world.front.grant('nonprod', world.app.objectId, 'AcrPull');
    }
  });

  const badInputs: { title: string; inputs: () => Record<string, string>; expect: RegExp }[] = [
    {
      title: 'a reference with no tag or digest',
      inputs: () => ({ sourceImage: 'app' }),
      expect: /repo:tag/,
    },
    { title: 'an upper-case repository', inputs: () => ({ sourceImage: 'App:1.0' }), expect: /lower-case/ },
    {
      title: 'a digest that is not sha256 hex',
      inputs: () => ({ sourceImage: 'app@sha256:xyz' }),
      expect: /repo@sha256/,
    },
    {
      title: 'a reference that carries the registry',
      inputs: () => ({ sourceImage: 'contoso.azurecr.io/app:1.0' }),
      expect: /sourceRegistry/,
    },
    {
      title: 'a malformed registry',
      inputs: () => ({ sourceImage: 'app:1', sourceRegistry: 'not a registry!' }),
      expect: /ACR name/,
    },
    {
      title: 'an unknown registry',
      inputs: () => ({
        sourceImage: 'app:1',
        targetRegistry: `ghost.azurecr.azure.test:${world.front.port}`,
      }),
      expect: /does not exist/,
    },
    {
      title: 'an empty tag list with a digest-only source',
      inputs: () => ({ sourceImage: `app@sha256:${'a'.repeat(64)}`, targetTags: '\n  \n' }),
      expect: /targetTags is empty/,
    },
    {
      title: 'an invalid target tag',
      inputs: () => ({ sourceImage: 'app:1', targetTags: '-bad' }),
      expect: /tag/,
    },
    {
      title: 'the same source and target',
      inputs: () => ({ sourceImage: 'app:1', targetRegistry: world.nonprod.loginServer }),
      expect: /same repository/,
    },
  ];
  for (const row of badInputs) {
    it(`rejects ${row.title} with one clear line`, async () => {
      const run = await promoteTask(row.inputs());
      assert.equal(run.result?.status, 'Failed');
      assert.match(run.result?.message ?? '', row.expect);
      assert.equal(run.errors.length, 1, run.log);
      assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});
