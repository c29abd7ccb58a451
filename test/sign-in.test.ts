import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { AzureRmAuthentication, AzureRmConnection } from '../tasks/shared/azure-connection';
import {
  createCredential,
  diagnoseSignInFailure,
  requestOidcToken,
  signInError,
} from '../tasks/shared/azure-credential';
import { resolveCloud, scopeFor } from '../tasks/shared/cloud';
import type { NetworkSettings, RetryPolicy } from '../tasks/shared/network';
import { createAppCertificate } from './emulators/certificates';
import { startEmulatedCloud, type EmulatedCloud } from './emulators/cloud';
import { startConnectProxy, type ConnectProxy } from './support/connect-proxy';

const tenantId = '72f988bf-0000-4000-8000-000000000001';
const secretApp = { clientId: '11111111-0000-4000-8000-000000000001', secret: 'correct-horse-battery' };
const certApp = { clientId: '22222222-0000-4000-8000-000000000002' };
const wifApp = { clientId: '33333333-0000-4000-8000-000000000003' };
const wifConnectionId = 'aaaaaaaa-0000-4000-8000-00000000000a';
const fastRetry: RetryPolicy = { maxRetries: 0, initialDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 1000 };

describe('sign-in with an AzureRM service connection', () => {
  let cloud: EmulatedCloud;
  let network: NetworkSettings;
  let certificatePem: string;
  let armScope: string;
  let vaultScope: string;

  before(async () => {
    cloud = await startEmulatedCloud();
    network = { extraCaPem: cloud.azure.ca.caPem };
    const certificate = await createAppCertificate('release-flow-spn');
    certificatePem = certificate.certPem + certificate.keyPem;
    const subject = cloud.devops.addServiceConnection({ id: wifConnectionId, name: 'prod-wif' });
    cloud.entra.addApp(tenantId, { clientId: secretApp.clientId, secrets: [secretApp.secret] });
    cloud.entra.addApp(tenantId, { clientId: certApp.clientId, certificates: [certificate.certPem] });
    cloud.entra.addApp(tenantId, {
      clientId: wifApp.clientId,
      federatedCredentials: [{ issuer: cloud.devops.issuer, subject }],
    });
    cloud.imds.systemAssigned = { tenantId, clientId: 'system-mi', objectId: 'system-mi-object' };
    cloud.imds.userAssigned.push({ tenantId, clientId: 'user-mi', objectId: 'user-mi-object' });
    const sample = connection({ scheme: 'ManagedServiceIdentity' });
    armScope = scopeFor(sample.cloud.resourceManagerAudience);
    vaultScope = scopeFor(sample.cloud.keyVaultAudience);
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = cloud.azure.imdsUrl();
  });
  after(async () => {
    delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
    await cloud.azure.stop();
  });
  afterEach(() => {
    cloud.azure.reset();
    cloud.entra.accessTokenLifetimeSeconds = 3600;
    cloud.devops.oidcTokenLifetimeSeconds = 600;
  });

  function connection(authentication: AzureRmAuthentication, environment = 'AzureStack'): AzureRmConnection {
    return {
      id: authentication.scheme === 'WorkloadIdentityFederation' ? wifConnectionId : 'spn-connection',
      inputName: 'azureSubscription',
      cloud: resolveCloud('spn-connection', {
        environment,
        url: cloud.azure.url('management.azure.test', '/'),
        environmentAuthorityUrl: cloud.authorityHost,
        activeDirectoryServiceEndpointResourceId: 'https://management.azure.test/',
        azureKeyVaultDnsSuffix: cloud.azure.authority('vault.azure.test'),
      }),
      authentication,
    };
  }

  const wif = (): AzureRmAuthentication => ({
    scheme: 'WorkloadIdentityFederation',
    tenantId,
    clientId: wifApp.clientId,
    oidc: {
      collectionUri: cloud.collectionUri,
      projectId: cloud.devops.projectId,
      hostType: 'build',
      planId: 'plan-1',
      jobId: 'job-1',
      systemAccessToken: cloud.devops.systemAccessToken,
    },
  });

  const schemes: { name: string; auth: () => AzureRmAuthentication; appId: () => string }[] = [
    {
      name: 'service principal with a secret',
      auth: () => ({
        scheme: 'ServicePrincipal',
        tenantId,
        clientId: secretApp.clientId,
        secret: secretApp.secret,
      }),
      appId: () => secretApp.clientId,
    },
    {
      name: 'service principal with a certificate',
      auth: () => ({ scheme: 'ServicePrincipal', tenantId, clientId: certApp.clientId, certificatePem }),
      appId: () => certApp.clientId,
    },
    { name: 'workload identity federation', auth: wif, appId: () => wifApp.clientId },
    {
      name: 'system-assigned managed identity',
      auth: () => ({ scheme: 'ManagedServiceIdentity' }),
      appId: () => 'system-mi',
    },
    {
      name: 'user-assigned managed identity',
      auth: () => ({ scheme: 'ManagedServiceIdentity', clientId: 'user-mi' }),
      appId: () => 'user-mi',
    },
  ];
  for (const row of schemes) {
    it(`signs in with a ${row.name} for ARM and Key Vault`, async () => {
      const credential = createCredential(connection(row.auth()), network, fastRetry);
      const arm = await credential.getToken(armScope);
      const vault = await credential.getToken(vaultScope);
      assert.ok(arm && vault);
      const armPrincipal = cloud.entra.verifyAccessToken(arm.token, 'https://management.azure.test/');
      assert.equal(armPrincipal?.appId, row.appId());
      assert.equal(armPrincipal?.tenantId, tenantId);
      assert.ok(cloud.entra.verifyAccessToken(vault.token, `https://vault.azure.test`));
    });
  }

  const failures: {
    name: string;
    auth: () => AzureRmAuthentication;
    before?: () => void;
    key: string;
    code?: string;
  }[] = [
    {
      name: 'a wrong secret',
      auth: () => ({ scheme: 'ServicePrincipal', tenantId, clientId: secretApp.clientId, secret: 'wrong' }),
      key: 'SignInSecretInvalid',
      code: 'AADSTS7000215',
    },
    {
      name: 'an unknown tenant',
      auth: () => ({
        scheme: 'ServicePrincipal',
        tenantId: '00000000-dead-4000-8000-000000000000',
        clientId: secretApp.clientId,
        secret: secretApp.secret,
      }),
      key: 'SignInTenantNotFound',
      code: 'AADSTS90002',
    },
    {
      name: 'an unknown app',
      auth: () => ({ scheme: 'ServicePrincipal', tenantId, clientId: 'not-registered', secret: 'x' }),
      key: 'SignInAppNotFound',
      code: 'AADSTS700016',
    },
    {
      name: 'an expired federated assertion',
      auth: wif,
      before: () => (cloud.devops.oidcTokenLifetimeSeconds = -600),
      key: 'SignInAssertionExpired',
      code: 'AADSTS700024',
    },
    {
      name: 'a federated assertion no credential matches',
      auth: () => ({ ...wif(), clientId: secretApp.clientId }) as AzureRmAuthentication,
      key: 'SignInFederatedCredentialMismatch',
      code: 'AADSTS700211',
    },
    {
      name: 'a managed identity the VM does not have',
      auth: () => ({ scheme: 'ManagedServiceIdentity', clientId: 'not-assigned' }),
      key: 'SignInManagedIdentityUnavailable',
    },
  ];
  for (const row of failures) {
    it(`explains ${row.name}`, async () => {
      row.before?.();
      const target = connection(row.auth());
      const error = await createCredential(target, network, fastRetry)
        .getToken(armScope)
        .then(
          () => assert.fail('sign-in should fail'),
          (caught: unknown) => caught,
        );
      const explained = await diagnoseSignInFailure(error, target, network);
      assert.equal(explained.key, row.key, explained.message);
      assert.equal(explained.args[0], target.id);
      assert.equal(explained.args[1], target.authentication.scheme);
      if (row.code) assert.equal(explained.args[2], row.code);
      assert.ok(!explained.message.includes(secretApp.secret));
    });
  }

  it('maps a failure without an AADSTS code to the generic message', () => {
    const explained = signInError(new Error('socket hang up'), connection(wif()));
    assert.deepEqual(
      [explained.key, ...explained.args],
      ['SignInFailed', wifConnectionId, 'WorkloadIdentityFederation', 'socket hang up'],
    );
  });

  it('asks Azure DevOps for a fresh OIDC token whenever the access token must be renewed', async () => {
    // Below MSAL's five-minute renewal margin, every getToken goes back to Entra.
    cloud.entra.accessTokenLifetimeSeconds = 120;
    const credential = createCredential(connection(wif()), network, fastRetry);
    const issued = [cloud.devops.oidcTokensIssued];
    const first = await credential.getToken(armScope);
    issued.push(cloud.devops.oidcTokensIssued);
    const second = await credential.getToken(armScope);
    issued.push(cloud.devops.oidcTokensIssued);
    assert.ok(first && second && first.token !== second.token);
    assert.ok(
      issued[1]! > issued[0]! && issued[2]! > issued[1]!,
      `OIDC tokens issued: ${issued.join(' -> ')}`,
    );
    const tokenPosts = cloud.azure.requests.filter((entry) => entry.path.includes('/oauth2/v2.0/token'));
    assert.equal(tokenPosts.length, 2);
  });

  describe('through the agent proxy', () => {
    let proxy: ConnectProxy;
    before(async () => (proxy = await startConnectProxy()));
    after(() => proxy.close());
    beforeEach(() => proxy.tunnels.splice(0));

    it('signs in through the proxy, trusting Agent.CAInfo, and never asks the public cloud for instance discovery', async () => {
      const proxied: NetworkSettings = { ...network, proxy: { url: proxy.url, bypass: [] } };
      const auth: AzureRmAuthentication = {
        scheme: 'ServicePrincipal',
        tenantId,
        clientId: secretApp.clientId,
        secret: secretApp.secret,
      };
      const token = await createCredential(connection(auth), proxied, fastRetry).getToken(armScope);
      assert.ok(token?.token);
      const hosts = new Set(proxy.tunnels.map((target) => target.replace(/:\d+$/, '')));
      assert.deepEqual([...hosts], ['login.azure.test']);
    });

    it('fetches the OIDC token from Azure DevOps through the proxy, trusting Agent.CAInfo', async () => {
      const proxied: NetworkSettings = { ...network, proxy: { url: proxy.url, bypass: [] } };
      const auth = wif();
      assert.ok(auth.scheme === 'WorkloadIdentityFederation');
      const token = await requestOidcToken(auth.oidc, wifConnectionId, proxied, fastRetry);
      assert.equal(token.split('.').length, 3);
      assert.deepEqual(
        [...new Set(proxy.tunnels.map((target) => target.replace(/:\d+$/, '')))],
        ['dev.azure.test'],
      );
    });

    it('goes direct to hosts on the bypass list', async () => {
      const bypassed: NetworkSettings = {
        ...network,
        proxy: { url: proxy.url, bypass: [/login\.azure\.test/i, /dev\.azure\.test/i] },
      };
      const credential = createCredential(connection(wif()), bypassed, fastRetry);
      assert.ok(await credential.getToken(armScope));
      assert.deepEqual(proxy.tunnels, []);
    });
  });

  it('does not trust the emulator without Agent.CAInfo', async () => {
    const auth: AzureRmAuthentication = {
      scheme: 'ServicePrincipal',
      tenantId,
      clientId: secretApp.clientId,
      secret: secretApp.secret,
    };
    await assert.rejects(createCredential(connection(auth), {}, fastRetry).getToken(armScope));
  });
});

describe('readAzureRmConnection', () => {
  const id = 'c0ffee00-0000-4000-8000-000000000001';
  const base: Record<string, string> = {
    INPUT_AZURESUBSCRIPTION: id,
    [`ENDPOINT_URL_${id}`]: 'https://management.azure.test:8443/',
    [`ENDPOINT_DATA_${id}_ENVIRONMENT`]: 'AzureStack',
    [`ENDPOINT_DATA_${id}_ENVIRONMENTAUTHORITYURL`]: 'https://login.azure.test:8443/',
    [`ENDPOINT_DATA_${id}_SUBSCRIPTIONID`]: 'sub-1',
    [`ENDPOINT_AUTH_PARAMETER_${id}_TENANTID`]: 'tenant-1',
    [`ENDPOINT_AUTH_PARAMETER_${id}_SERVICEPRINCIPALID`]: 'client-1',
  };
  const job: Record<string, string> = {
    SYSTEM_COLLECTIONURI: 'https://dev.azure.test:8443/org/',
    SYSTEM_TEAMPROJECTID: 'project-1',
    SYSTEM_HOSTTYPE: 'build',
    SYSTEM_PLANID: 'plan-1',
    SYSTEM_JOBID: 'job-1',
    ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: 'system-token',
  };
  const scheme = (name: string) => ({ [`ENDPOINT_AUTH_SCHEME_${id}`]: name });

  const rows: {
    name: string;
    env: Record<string, string>;
    key?: string;
    args?: string[];
    check?: (c: ConnectionAsRead) => void;
  }[] = [
    {
      name: 'a service principal with a secret',
      env: {
        ...base,
        ...scheme('ServicePrincipal'),
        [`ENDPOINT_AUTH_PARAMETER_${id}_SERVICEPRINCIPALKEY`]: 's',
      },
      check: (c) => {
        assert.equal(c.authentication.secret, '<redacted>');
        assert.equal(c.subscriptionId, 'sub-1');
        assert.equal(c.cloud.keyVaultDnsSuffix, 'vault.azure.test:8443');
        assert.equal(c.cloud.isPublicCloudAuthority, false);
      },
    },
    {
      name: 'a service principal with a certificate',
      env: {
        ...base,
        ...scheme('ServicePrincipal'),
        [`ENDPOINT_AUTH_PARAMETER_${id}_AUTHENTICATIONTYPE`]: 'spnCertificate',
        [`ENDPOINT_AUTH_PARAMETER_${id}_SERVICEPRINCIPALCERTIFICATE`]: '-----BEGIN CERTIFICATE-----',
      },
      check: (c) => assert.equal(c.authentication.certificatePem, '<redacted>'),
    },
    {
      name: 'workload identity federation',
      env: { ...base, ...job, ...scheme('WorkloadIdentityFederation') },
      check: (c) => assert.equal(c.authentication.oidc?.planId, 'plan-1'),
    },
    {
      name: 'a managed identity with a client id',
      env: { ...base, ...scheme('ManagedServiceIdentity'), [`ENDPOINT_DATA_${id}_MSICLIENTID`]: 'mi-1' },
      check: (c) => assert.equal(c.authentication.clientId, 'mi-1'),
    },
    {
      name: 'the public cloud by default',
      env: {
        INPUT_AZURESUBSCRIPTION: id,
        ...scheme('ManagedServiceIdentity'),
        [`ENDPOINT_DATA_${id}_ENVIRONMENT`]: 'AzureCloud',
      },
      check: (c) => {
        assert.equal(c.cloud.authorityHost, 'https://login.microsoftonline.com');
        assert.equal(c.cloud.keyVaultDnsSuffix, 'vault.azure.net');
        assert.equal(c.cloud.isPublicCloudAuthority, true);
      },
    },
    {
      name: 'a missing secret',
      env: { ...base, ...scheme('ServicePrincipal') },
      key: 'SignInConnectionFieldMissing',
      args: [id, 'client secret (serviceprincipalkey)'],
    },
    {
      name: 'a missing tenant',
      env: {
        ...base,
        ...scheme('WorkloadIdentityFederation'),
        ...job,
        [`ENDPOINT_AUTH_PARAMETER_${id}_TENANTID`]: '',
      },
      key: 'SignInConnectionFieldMissing',
      args: [id, 'tenant ID (tenantid)'],
    },
    {
      name: 'a job without its OIDC context',
      env: { ...base, ...scheme('WorkloadIdentityFederation'), ...job, SYSTEM_PLANID: '' },
      key: 'SignInJobContextMissing',
      args: [id, 'System.PlanId'],
    },
    {
      name: 'an unsupported scheme',
      env: { ...base, ...scheme('PublishProfile') },
      key: 'SignInSchemeUnsupported',
      args: [id, 'PublishProfile', 'WorkloadIdentityFederation, ServicePrincipal, ManagedServiceIdentity'],
    },
    {
      name: 'an unknown connection',
      env: { INPUT_AZURESUBSCRIPTION: id },
      key: 'SignInConnectionNotFound',
      args: [id, 'azureSubscription'],
    },
    {
      name: 'authorization that is not JSON, without quoting it',
      env: {
        ...base,
        ...scheme('ServicePrincipal'),
        [`ENDPOINT_AUTH_${id}`]: '{"parameters":{"serviceprincipalkey":"cut-off-secret-value"',
      },
      key: 'ConnectionAuthorizationUnreadableFromInput',
      args: [id, 'azureSubscription'],
    },
    {
      name: 'authorization whose parameters are not an object',
      env: {
        ...base,
        ...scheme('ServicePrincipal'),
        [`ENDPOINT_AUTH_${id}`]: '{"parameters":"secret-text"}',
      },
      key: 'ConnectionAuthorizationUnreadableFromInput',
      args: [id, 'azureSubscription'],
    },
    {
      name: 'a parameter that is not text, as missing',
      env: {
        ...base,
        ...scheme('ServicePrincipal'),
        [`ENDPOINT_AUTH_${id}`]: JSON.stringify({
          scheme: 'ServicePrincipal',
          parameters: { tenantid: 'tenant-1', serviceprincipalid: 'client-1', serviceprincipalkey: 5 },
        }),
      },
      key: 'SignInConnectionFieldMissing',
      args: [id, 'client secret (serviceprincipalkey)'],
    },
    {
      name: 'a custom cloud without its authority',
      env: {
        ...base,
        ...scheme('ManagedServiceIdentity'),
        [`ENDPOINT_DATA_${id}_ENVIRONMENTAUTHORITYURL`]: '',
      },
      key: 'SignInCloudEndpointMissing',
      args: [id, 'AzureStack', 'environmentAuthorityUrl'],
    },
  ];
  for (const row of rows) {
    it(`reads ${row.name}`, async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--require', 'tsx/cjs', resolve(__dirname, 'support', 'read-connection.ts'), 'azureSubscription'],
        {
          env: { PATH: process.env.PATH ?? '', ...withEndpointAuthorization(row.env) },
          cwd: resolve(__dirname, '..'),
        },
      );
      const result = JSON.parse(/^result: (.*)$/m.exec(stdout)?.[1] ?? stdout) as {
        connection?: Record<string, unknown>;
        key?: string;
        args?: string[];
      };
      if (row.key) {
        assert.deepEqual({ key: result.key, args: result.args }, { key: row.key, args: row.args }, stdout);
      } else {
        assert.ok(result.connection, stdout);
        row.check?.(result.connection as unknown as ConnectionAsRead);
      }
    });
  }
});

/** The connection as the child process prints it, secrets redacted. */
interface ConnectionAsRead {
  readonly subscriptionId?: string;
  readonly cloud: Readonly<Record<string, unknown>>;
  readonly authentication: Readonly<Record<string, unknown>> & {
    readonly oidc?: Readonly<Record<string, unknown>>;
  };
}

/**
 * Adds ENDPOINT_AUTH_<id> (the authorization as JSON), which the agent sets beside the
 * ENDPOINT_AUTH_SCHEME_<id> and ENDPOINT_AUTH_PARAMETER_<id>_<KEY> variables of a connection.
 */
function withEndpointAuthorization(env: Record<string, string>): Record<string, string> {
  const authorizations = new Map<string, { scheme?: string; parameters: Record<string, string> }>();
  const of = (id: string) => authorizations.get(id) ?? authorizations.set(id, { parameters: {} }).get(id)!;
  for (const [name, value] of Object.entries(env)) {
    const scheme = /^ENDPOINT_AUTH_SCHEME_(.+)$/.exec(name);
    if (scheme) of(scheme[1]!).scheme = value;
    const parameter = /^ENDPOINT_AUTH_PARAMETER_(.+)_([A-Z]+)$/.exec(name);
    if (parameter) of(parameter[1]!).parameters[parameter[2]!.toLowerCase()] = value;
  }
  const derived = Object.fromEntries(
    [...authorizations].map(([id, authorization]) => [`ENDPOINT_AUTH_${id}`, JSON.stringify(authorization)]),
  );
  return { ...derived, ...env };
}
