import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type RegistryInstance } from './emulators/registry';
import { runTask, type Endpoint, type TaskRun, type TaskRunResult } from './harness/agent';
import { singleArchImage } from './oci/content';
import { startPromoteWorld, type PromoteWorld } from './oci/fixture';

/**
 * AcrPromoteImage@1's bad input, through the agent harness on Node 20 and 24: each row is
 * refused with one line (the input, what is wrong, the fix), no stack trace outside debug
 * lines, no secret (the harness's leak check knows the connections' secrets), no output
 * variable, nothing written to the target registry, and, unless the row needs to look
 * first, no request at all: no sign-in, no registry call.
 */

interface Row {
  readonly what: string;
  /** Inputs over the defaults; a function when they need the running world. */
  readonly inputs?: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
  /** The source connection, changed; `null` for none at all. */
  readonly connection?: ((base: Endpoint) => Endpoint) | null;
  readonly env?: Readonly<Record<string, string>>;
  readonly secrets?: readonly string[];
  /** The row reads the registries or ARM before it can tell (never writes). */
  readonly looksFirst?: boolean;
  /** A host that must see no request at all. */
  readonly untouched?: string;
  readonly error: RegExp;
}

const huge = 120 * 1024;
const digest = `sha256:${'ab'.repeat(32)}`;

describe('AcrPromoteImage@1 bad input', function () {
  this.timeout(120_000);
  let world: PromoteWorld;
  let taskFolder: string;
  let otherSubscription: RegistryInstance;

  // A private copy of the bundle: other suites rebuild dist/ while this one runs.
  before(async () => {
    taskFolder = join(mkdtempSync(join(tmpdir(), 'acr-promote-bad-input-')), 'AcrPromoteImage');
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
    await world.seed(world.nonprod, 'shop/api', singleArchImage(), ['1.0']);
    // A registry ARM lists in another subscription than the connection's.
    otherSubscription = await startRegistry(world.cloud.azure.ca);
    world.front.addRegistry('elsewhere', otherSubscription, {
      subscriptionId: '9a8b7c6d-0000-4000-8000-0000000e15e0',
    });
    world.front.grant('elsewhere', world.app.objectId, 'AcrPush');
    // A registry whose sign-in challenge sends tokens to another host.
    const collector = world.cloud.azure.url('collector.azure.test', '/oauth2/token');
    world.cloud.azure.register('lure.azure.test', (request) =>
      request.url.pathname === '/v2/'
        ? {
            status: 401,
            headers: { 'www-authenticate': `Bearer realm="${collector}",service="lure.azure.test"` },
          }
        : undefined,
    );
    world.cloud.azure.register('collector.azure.test', () => ({ status: 200, body: {} }));
  });
  after(async () => {
    await world?.stop();
    await otherSubscription?.stop();
    rmSync(join(taskFolder, '..'), { recursive: true, force: true });
  });
  beforeEach(() => {
    world.front.resetStats();
    world.cloud.azure.reset();
  });

  function connection(): Endpoint {
    return world.cloud.servicePrincipalEndpoint(
      { tenantId: world.tenantId, ...world.app },
      { subscriptionId: world.subscriptionId },
    );
  }

  function go(row: Row, node: 'node20' | 'node24'): Promise<TaskRunResult> {
    const inputs = typeof row.inputs === 'function' ? row.inputs() : row.inputs;
    const run: TaskRun = {
      task: taskFolder,
      node,
      inputs: {
        sourceConnection: 'conn',
        sourceRegistry: world.nonprod.loginServer,
        sourceImage: 'shop/api:1.0',
        targetRegistry: world.prod.loginServer,
        ...inputs,
      },
      endpoints: row.connection === null ? {} : { conn: (row.connection ?? ((each) => each))(connection()) },
      env: { ...world.cloud.azure.env(), ...row.env },
      secrets: [world.app.secret, ...(row.secrets ?? [])],
    };
    return runTask(run);
  }

  const publicCloud = (base: Endpoint): Endpoint => ({
    ...base,
    data: { ...base.data, environment: 'AzureCloud' },
  });
  const secretInAuthorization = 'only-in-the-malformed-authorization-5c1f';
  const rows: Row[] = [
    // registries
    {
      what: 'an empty source registry',
      inputs: { sourceRegistry: '' },
      error:
        /^The input 'sourceRegistry' is empty\. Set it to an ACR name such as contoso, or a login server such as contoso\.azurecr\.io\./,
    },
    {
      what: 'a target registry of spaces only',
      inputs: { targetRegistry: '   ' },
      error: /^The input 'targetRegistry' is empty\./,
    },
    {
      what: 'a registry that is no host name',
      inputs: { sourceRegistry: 'not a registry!' },
      error:
        /^The input 'sourceRegistry' must be an ACR name such as contoso, a login server such as contoso\.azurecr\.io, or host:port, but it is 'not a registry!'\./,
    },
    {
      what: 'a registry with unicode',
      inputs: { targetRegistry: 'régistry.example.test' },
      error: /^The input 'targetRegistry' must be an ACR name .* but it is 'régistry\.example\.test'\./,
    },
    {
      what: 'a registry with control characters',
      inputs: { targetRegistry: 'prod\u0007\u001b.example.test' },
      error: /^The input 'targetRegistry' must be .* but it is 'prod\\u0007\\u001b\.example\.test'\./,
    },
    {
      what: 'a 120 KB registry',
      inputs: { sourceRegistry: 'a.'.repeat(huge / 2) + 'test' },
      error: /^The input 'sourceRegistry' must be .* but it is '(a\.){100}… \(122684 more characters\)'\./,
    },
    {
      what: 'a registry of another cloud, for an AzureCloud connection',
      connection: publicCloud,
      inputs: { sourceRegistry: 'contosononprod.azurecr.io', targetRegistry: 'contosoprod.azurecr.cn' },
      error:
        /^The input 'targetRegistry' is the registry contosoprod\.azurecr\.cn, which is in the cloud AzureChinaCloud, but its service connection is for AzureCloud, .* Set targetConnection to a service connection for AzureChinaCloud/,
    },
    {
      what: 'a public-cloud registry, for an Azure Stack connection',
      inputs: { sourceRegistry: 'contosononprod.azurecr.io' },
      error:
        /^The input 'sourceRegistry' is the registry contosononprod\.azurecr\.io, which is in the cloud AzureCloud, but its service connection is for AzureStack, .* Set sourceConnection to a service connection for AzureCloud/,
    },
    {
      what: 'a registry name in a cloud without a registry domain',
      inputs: { targetRegistry: 'contosoprod' },
      error:
        /^The input 'targetRegistry' is the registry name 'contosoprod', but the cloud 'AzureStack' has no well-known registry domain\. Give the full login server/,
    },
    // sourceImage
    {
      what: 'an empty source image',
      inputs: { sourceImage: '' },
      error: /^The input 'sourceImage' is empty\. Set sourceImage to the image without its registry/,
    },
    {
      what: 'a source image without a tag or digest',
      inputs: { sourceImage: 'shop/api' },
      error:
        /^The input 'sourceImage' must be repo:tag, repo@sha256:<64 hex> or repo:tag@sha256:<64 hex>.* but it is 'shop\/api'\./,
    },
    {
      what: 'a source image in upper case',
      inputs: { sourceImage: 'Shop/API:1.0' },
      error: /^The input 'sourceImage' must be .*lower-case repository, but it is 'Shop\/API:1\.0'\./,
    },
    {
      what: 'a source image with unicode',
      inputs: { sourceImage: 'shop/äpi:1.0' },
      error: /^The input 'sourceImage' must be .* but it is 'shop\/äpi:1\.0'\./,
    },
    {
      what: 'a source image with a short digest',
      inputs: { sourceImage: 'shop/api@sha256:1234' },
      error: /^The input 'sourceImage' must be .* but it is 'shop\/api@sha256:1234'\./,
    },
    {
      what: 'a source image that carries its registry',
      inputs: { sourceImage: 'contoso.azurecr.io/shop/api:1.0' },
      error:
        /^The input 'sourceImage' is 'contoso\.azurecr\.io\/shop\/api:1\.0', which starts with the registry 'contoso\.azurecr\.io'\. Put the registry in sourceRegistry/,
    },
    {
      what: 'a 120 KB source image',
      inputs: { sourceImage: `${'a'.repeat(huge)}:1` },
      error: /^The input 'sourceImage' must be .* but it is 'a{200}… \(122682 more characters\)'\./,
    },
    // target repository and tags
    {
      what: 'a target repository in upper case',
      inputs: { targetRepository: 'Shop/API' },
      error:
        /^The input 'targetRepository' must be a lower-case repository name such as shop\/api, but it is 'Shop\/API'\./,
    },
    {
      what: 'a 120 KB target repository',
      inputs: { targetRepository: 'a'.repeat(huge) },
      error: /^The input 'targetRepository' must be .* but it is 'a{200}… \(122680 more characters\)'\./,
    },
    {
      what: 'a target tag starting with a dash',
      inputs: { targetTags: '1.0\n-bad' },
      error: /^The target tag '-bad' is not valid\. Use up to 128 letters, digits/,
    },
    {
      what: 'a 120 KB target tag',
      inputs: { targetTags: 't'.repeat(huge) },
      error: /^The target tag 't{200}… \(122680 more characters\)' is not valid\./,
    },
    {
      what: 'a digest-only source and no target tag',
      inputs: { sourceImage: `shop/api@${digest}`, targetTags: ' \n ' },
      error:
        /^There is no tag to promote to: sourceImage 'shop\/api@sha256:a[0-9a-f]+' has no tag and targetTags is empty\. Add a line to targetTags/,
    },
    {
      what: 'the same source and target',
      inputs: () => ({ targetRegistry: world.nonprod.loginServer }),
      error:
        /^The source and the target are the same repository \(.*\/shop\/api\)\. Set targetRegistry or targetRepository/,
    },
    // booleans and the method
    {
      what: 'copyReferrers of another type',
      inputs: { copyReferrers: 'yes' },
      error: /^The input 'copyReferrers' must be true or false, but it is 'yes'\./,
    },
    {
      what: 'overwriteTags of another type',
      inputs: { overwriteTags: '1' },
      error: /^The input 'overwriteTags' must be true or false, but it is '1'\./,
    },
    {
      what: 'a 120 KB lockAfterPromotion',
      inputs: { lockAfterPromotion: 'x'.repeat(huge) },
      error:
        /^The input 'lockAfterPromotion' must be true or false, but it is 'x{200}… \(122680 more characters\)'\./,
    },
    {
      what: 'an unknown method',
      inputs: { method: 'server' },
      error: /^The input 'method' must be one of: auto, copy, import\. It is 'server'\./,
    },
    {
      what: 'import with a connection that names no subscription',
      inputs: { method: 'import' },
      connection: (base) => ({ ...base, data: { ...base.data, subscriptionId: '' } }),
      error:
        /^The input 'method' is import, but the service connection 'conn' \(sourceConnection\) names no subscription.*set method to copy/,
    },
    {
      what: 'import into a registry the connection cannot see',
      inputs: () => ({
        method: 'import',
        targetRegistry: `elsewhere.azurecr.azure.test:${world.front.port}`,
      }),
      looksFirst: true,
      error:
        /^The registry elsewhere\.azurecr\.azure\.test:\d+ \(targetRegistry\) is not among the registries the service connection 'conn' can see in the subscription 3f2b1c0d-0000-4000-8000-00000000acr0, so it cannot be imported server-side\..*set method to copy/,
    },
    {
      what: 'a target registry whose sign-in is at another host',
      inputs: () => ({ targetRegistry: world.cloud.azure.authority('lure.azure.test') }),
      looksFirst: true,
      untouched: 'collector.azure.test',
      error:
        /^The registry lure\.azure\.test:\d+ asks for sign-in at another host, collector\.azure\.test:\d+, so the target connection's token was not sent\. Check targetRegistry/,
    },
    // connections
    {
      what: 'no source connection',
      inputs: { sourceConnection: '' },
      error: /^The input 'sourceConnection' is empty\. Select an Azure Resource Manager service connection\./,
    },
    {
      what: 'a source connection that does not exist',
      connection: null,
      error: /^The service connection 'conn' named by the input 'sourceConnection' was not found/,
    },
    {
      what: 'a target connection that does not exist',
      inputs: { targetConnection: 'missing-conn' },
      error: /^The service connection 'missing-conn' named by the input 'targetConnection' was not found/,
    },
    {
      what: 'a connection of the wrong scheme',
      connection: (base) => ({
        ...base,
        scheme: 'UsernamePassword',
        parameters: { username: 'pipeline-user', password: 'wrong-scheme-password-2' },
      }),
      error:
        /^The service connection 'conn' uses the authentication scheme 'UsernamePassword', which is not supported\./,
    },
    {
      what: 'a connection whose authorization is not JSON',
      env: { ENDPOINT_AUTH_conn: `{"parameters":{"serviceprincipalkey":"${secretInAuthorization}"` },
      secrets: [secretInAuthorization],
      error:
        /^The service connection 'conn' named by the input 'sourceConnection' cannot be read: .*not a JSON object\. It is not shown here/,
    },
  ];

  for (const row of rows) {
    for (const node of ['node20', 'node24'] as const) {
      it(`refuses ${row.what} (${node})`, async () => {
        const run = await go(row, node);
        assertRefused(run, row.error);
        assert.equal(run.variables.size, 0, `variables were set: ${[...run.variables.keys()].join(', ')}`);
        for (const registry of [world.prod, world.nonprod]) {
          assert.equal(registry.stats.manifestPuts, 0, `a manifest was written to ${registry.name}`);
          assert.equal(registry.stats.blobBytesReceived, 0, `a blob was written to ${registry.name}`);
        }
        if (row.untouched) {
          const reached = world.cloud.azure.requests.filter((request) => request.host === row.untouched);
          assert.deepEqual(reached, [], `requests to ${row.untouched}`);
        }
        if (row.looksFirst) {
          // Token requests are POSTs that change nothing.
          const writes = world.front.requests.filter(
            (request) => !['GET', 'HEAD'].includes(request.method) && !request.path.startsWith('/oauth2/'),
          );
          assert.deepEqual(writes, [], 'registry writes');
          const outside = world.cloud.azure.requests.filter(
            (request) => !request.host.endsWith('.azure.test'),
          );
          assert.deepEqual(outside, [], 'requests outside the cloud');
        } else {
          assert.deepEqual(world.front.requests, [], 'registry requests');
          assert.deepEqual(world.cloud.azure.requests, [], 'sign-in or ARM requests');
        }
      });
    }
  }
});

function assertRefused(run: TaskRunResult, expected: RegExp): void {
  assert.equal(run.result?.status, 'Failed', run.log);
  assert.equal(run.exitCode, 1, run.log);
  const messages = run.errors.map((error) => error.message);
  assert.equal(messages.length, 1, messages.join('\n'));
  assert.match(messages[0] ?? '', expected);
  assert.ok((messages[0] ?? '').length < 1000, `an error line of ${messages[0]?.length} characters`);
  const outsideDebug = `${run.stdout}\n${run.stderr}`
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('##vso[task.debug]'))
    .join('\n');
  assert.doesNotMatch(outsideDebug, /(^|%0A)\s+at .+:\d+:\d+\)?/m, 'a stack trace outside debug lines');
}
