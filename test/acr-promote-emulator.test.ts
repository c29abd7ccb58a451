import assert from 'node:assert/strict';
import { ContainerRegistryClient } from '@azure/container-registry';
import { ClientSecretCredential } from '@azure/identity';
import {
  challengeHeader,
  covers,
  grantScopes,
  parseRegistryPath,
  parseScopes,
  requiredAction,
} from './emulators/acr';
import { createCredential } from '../tasks/shared/azure-credential';
import { resolveCloud, scopeFor } from '../tasks/shared/cloud';
import { AcrCredentials } from '../tasks/shared/registry/acr-auth';
import { isRegistryError } from '../tasks/shared/registry/errors';
import { Transport } from '../tasks/shared/registry/transport';
import { singleArchImage } from './oci/content';
import { startPromoteWorld, type PromoteWorld } from './oci/fixture';
import { send } from './oci/push';

describe('ACR front emulator: auth decisions', () => {
  it('parses scopes, names with slashes included', () => {
    assert.deepEqual(parseScopes('repository:shop/api:pull,push registry:catalog:*'), [
      { type: 'repository', name: 'shop/api', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });

  const grants = [
    { roles: ['AcrPull'], asked: 'repository:app:pull,push', granted: ['pull'] },
    { roles: ['AcrPush'], asked: 'repository:app:pull,push', granted: ['pull', 'push'] },
    { roles: [], asked: 'repository:app:pull', granted: undefined },
    { roles: ['AcrPull'], asked: 'repository:app:metadata_write', granted: undefined },
  ] as const;
  for (const row of grants) {
    it(`grants ${row.roles.join('+') || 'no role'} asking ${row.asked}: ${row.granted ?? 'nothing'}`, () => {
      const granted = grantScopes(parseScopes(row.asked), new Set(row.roles));
      assert.deepEqual(granted[0]?.actions, row.granted);
    });
  }

  it('checks actions per repository, and maps methods to actions', () => {
    const granted = [{ type: 'repository', name: 'app', actions: ['pull'] }];
    assert.ok(covers(granted, 'app', 'pull'));
    assert.ok(!covers(granted, 'app', 'push'));
    assert.ok(!covers(granted, 'other', 'pull'));
    assert.deepEqual(['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'].map(requiredAction), [
      'pull',
      'pull',
      'push',
      'push',
      'push',
      'delete',
    ]);
    assert.deepEqual(parseRegistryPath('/v2/shop/api/blobs/uploads/'), {
      repository: 'shop/api',
      kind: 'blobs',
      rest: 'uploads/',
    });
    assert.equal(parseRegistryPath('/v2/'), undefined);
    assert.equal(
      challengeHeader('c.azurecr.azure.test:8443', 'repository:a:pull'),
      'Bearer realm="https://c.azurecr.azure.test:8443/oauth2/token",service="c.azurecr.azure.test",scope="repository:a:pull"',
    );
  });
});

// The front against the real @azure/container-registry client and a real registry.
describe('ACR front emulator: served to the real SDK', function () {
  this.timeout(60_000);
  let world: PromoteWorld;

  before(async () => {
    world = await startPromoteWorld();
  });
  after(async () => {
    await world.stop();
  });

  function sdkClient(): ContainerRegistryClient {
    const tlsOptions = { ca: [world.cloud.azure.ca.caPem] };
    const credential = new ClientSecretCredential(world.tenantId, world.app.clientId, world.app.secret, {
      authorityHost: world.cloud.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions,
    });
    return new ContainerRegistryClient(world.prod.url, credential, {
      audience: world.registryAudience,
      tlsOptions,
    });
  }

  it('challenges an anonymous /v2/ call the way ACR does', async () => {
    const answer = await send({ baseUrl: world.prod.url, caPem: world.cloud.azure.ca.caPem }, 'GET', '/v2/');
    assert.equal(answer.status, 401);
    assert.match(
      String(answer.headers['www-authenticate']),
      /^Bearer realm="https:\/\/prod\.azurecr\.azure\.test:\d+\/oauth2\/token",service="prod\.azurecr\.azure\.test"/,
    );
  });

  it('signs the SDK in through /oauth2/exchange and /oauth2/token and serves tag and manifest properties, locks included', async () => {
    const image = singleArchImage();
    await world.seed(world.prod, 'sdk/app', image, ['1.0']);
    const artifact = sdkClient().getArtifact('sdk/app', '1.0');
    const tag = await artifact.getTagProperties('1.0');
    assert.equal(tag.digest, image.digest);
    assert.equal(tag.canWrite, true);
    const manifest = await artifact.updateManifestProperties({ canWrite: false, canDelete: false });
    assert.equal(manifest.digest, image.digest);
    assert.equal(manifest.canDelete, false);
    await artifact.updateTagProperties('1.0', { canWrite: false });
    // The lock holds on the wire: a push to the tag is refused, even with every scope.
    const other = singleArchImage();
    await world.seed(world.prod, 'sdk/app', other);
    const refused = await send(
      {
        baseUrl: world.prod.url,
        caPem: world.cloud.azure.ca.caPem,
        authorization: world.front.adminAuthorization('prod'),
      },
      'PUT',
      '/v2/sdk/app/manifests/1.0',
      other.bytes,
      { 'content-type': other.mediaType },
    );
    assert.equal(refused.status, 405);
    assert.match(refused.body.toString(), /DENIED/);
  });

  it('denies properties to a principal without a role', async () => {
    await world.seed(world.prod, 'sdk/denied', singleArchImage(), ['1.0']);
    world.front.revoke('prod', world.app.objectId);
    try {
      await assert.rejects(
        sdkClient().getArtifact('sdk/denied', '1.0').getTagProperties('1.0'),
        /401|authentication/i,
      );
    } finally {
      world.front.grant('prod', world.app.objectId, 'AcrPush');
    }
  });

  it('caches ACR tokens per registry and scope, and renews them before they expire', async () => {
    const network = { extraCaPem: world.cloud.azure.ca.caPem };
    const cloud = resolveCloud('c', {
      environment: 'AzureStack',
      url: world.cloud.azure.url('management.azure.test', '/'),
      environmentAuthorityUrl: world.cloud.authorityHost,
      activeDirectoryServiceEndpointResourceId: 'https://management.azure.test/',
      azureKeyVaultDnsSuffix: 'vault.azure.test',
    });
    const credential = createCredential(
      {
        id: 'c',
        inputName: 'sourceConnection',
        cloud,
        authentication: {
          scheme: 'ServicePrincipal',
          tenantId: world.tenantId,
          clientId: world.app.clientId,
          secret: world.app.secret,
        },
      },
      network,
    );
    let now = Date.now();
    const transport = new Transport({ network });
    const credentials = new AcrCredentials(
      transport,
      credential,
      scopeFor(cloud.containerRegistryAudience),
      () => now,
    );
    try {
      const pull = await credentials.authorization(world.prod.loginServer, ['repository:a:pull'], false);
      assert.equal(
        await credentials.authorization(world.prod.loginServer, ['repository:a:pull'], false),
        pull,
      );
      assert.equal(credentials.tokenRequests, 2, 'one exchange and one token');
      const push = await credentials.authorization(world.prod.loginServer, ['repository:a:pull,push'], false);
      assert.notEqual(push, pull);
      assert.equal(credentials.tokenRequests, 3, 'another scope: a token, no new exchange');
      // Within five minutes of expiry (tokens live an hour here), both tokens are renewed.
      now += 56 * 60_000;
      await credentials.authorization(world.prod.loginServer, ['repository:a:pull'], false);
      assert.equal(credentials.tokenRequests, 5, 'a new refresh token and a new access token');
    } finally {
      transport.close();
    }
  });

  it('sends no Entra token to a realm on another host than the registry', async () => {
    const seen: string[] = [];
    const collector = world.cloud.azure.url('collector.azure.test', '/oauth2/token');
    const unregisterLure = world.cloud.azure.register('lure.azure.test', (request) =>
      request.url.pathname === '/v2/'
        ? {
            status: 401,
            headers: { 'www-authenticate': `Bearer realm="${collector}",service="lure.azure.test"` },
          }
        : undefined,
    );
    const unregisterCollector = world.cloud.azure.register('collector.azure.test', (request) => {
      seen.push(`${request.method} ${request.url.pathname}`);
      return { status: 200, body: {} };
    });
    let tokensAsked = 0;
    const credential = {
      getToken: async () => {
        tokensAsked++;
        return { token: 'entra-token-for-the-registry-only', expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const transport = new Transport({ network: { extraCaPem: world.cloud.azure.ca.caPem } });
    try {
      const lure = world.cloud.azure.authority('lure.azure.test');
      await assert.rejects(
        new AcrCredentials(transport, credential, 'https://management.azure.test/.default').authorization(
          lure,
          ['repository:a:pull'],
          false,
        ),
        (error: unknown) =>
          isRegistryError(error, 'SignInElsewhere') &&
          error.realmHost === world.cloud.azure.authority('collector.azure.test'),
      );
      assert.equal(tokensAsked, 0, 'an Entra token was asked for');
      assert.deepEqual(seen, [], 'the realm was contacted');
    } finally {
      transport.close();
      unregisterLure();
      unregisterCollector();
    }
  });
});
