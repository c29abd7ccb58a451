import { strict as assert } from 'node:assert';
import { EmulatedDevOps } from './devops';
import { EmulatedEntra } from './entra';
import { EmulatedImds } from './imds';
import type { EmulatedRequest, EmulatedResponse } from './types';

function request(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body = '',
): EmulatedRequest {
  return { method, url: new URL(url), headers, body: Buffer.from(body) };
}

function json(response: EmulatedResponse | undefined): Record<string, unknown> {
  assert.ok(response, 'the handler should answer');
  return response.body as Record<string, unknown>;
}

describe('emulated identity services (transport-free)', () => {
  const login = 'https://login.azure.test:8443';
  const entra = new EmulatedEntra();
  const devops = new EmulatedDevOps();
  entra.trustIssuer(devops.issuer, devops.publicKey);
  const subject = devops.addServiceConnection({ id: 'conn-1', name: 'prod' });
  entra.addApp('t1', { clientId: 'app-secret', secrets: ['s1', { value: 'old', expiresAt: new Date(0) }] });
  entra.addApp('t1', { clientId: 'app-wif', federatedCredentials: [{ issuer: devops.issuer, subject }] });

  const token = (tenant: string, form: Record<string, string>) =>
    entra.handler(
      request(
        'POST',
        `${login}/${tenant}/oauth2/v2.0/token`,
        {},
        new URLSearchParams({
          grant_type: 'client_credentials',
          scope: 'https://vault.azure.test/.default',
          ...form,
        }).toString(),
      ),
    ) as EmulatedResponse;

  it('serves OpenID metadata whose issuer and endpoints carry the port', () => {
    const metadata = json(
      entra.handler(request('GET', `${login}/t1/v2.0/.well-known/openid-configuration`)) as EmulatedResponse,
    );
    assert.equal(metadata.issuer, `${login}/t1/v2.0`);
    assert.equal(metadata.token_endpoint, `${login}/t1/oauth2/v2.0/token`);
  });

  const errors: {
    name: string;
    tenant: string;
    form: Record<string, string>;
    status: number;
    code: number;
    error: string;
  }[] = [
    {
      name: 'wrong secret',
      tenant: 't1',
      form: { client_id: 'app-secret', client_secret: 'x' },
      status: 401,
      code: 7000215,
      error: 'invalid_client',
    },
    {
      name: 'expired secret',
      tenant: 't1',
      form: { client_id: 'app-secret', client_secret: 'old' },
      status: 401,
      code: 7000222,
      error: 'invalid_client',
    },
    {
      name: 'unknown tenant',
      tenant: 't9',
      form: { client_id: 'app-secret', client_secret: 's1' },
      status: 400,
      code: 90002,
      error: 'invalid_tenant',
    },
    {
      name: 'unknown app',
      tenant: 't1',
      form: { client_id: 'nope', client_secret: 's1' },
      status: 400,
      code: 700016,
      error: 'unauthorized_client',
    },
    {
      name: 'no credential',
      tenant: 't1',
      form: { client_id: 'app-secret' },
      status: 400,
      code: 7000218,
      error: 'invalid_client',
    },
  ];
  for (const row of errors) {
    it(`answers a ${row.name} with AADSTS${row.code}`, () => {
      const response = token(row.tenant, row.form);
      assert.equal(response.status, row.status);
      const body = json(response);
      assert.equal(body.error, row.error);
      assert.deepEqual(body.error_codes, [row.code]);
      assert.match(String(body.error_description), new RegExp(`^AADSTS${row.code}: `));
    });
  }

  it('issues access tokens that verifyAccessToken accepts only for their audience', () => {
    const body = json(token('t1', { client_id: 'app-secret', client_secret: 's1' }));
    const accessToken = String(body.access_token);
    assert.equal(entra.verifyAccessToken(accessToken, 'https://vault.azure.test/')?.appId, 'app-secret');
    assert.equal(entra.verifyAccessToken(accessToken, 'https://management.azure.test'), undefined);
    assert.equal(entra.verifyAccessToken(`${accessToken}x`, 'https://vault.azure.test'), undefined);
  });

  describe('Azure DevOps OIDC', () => {
    const base = 'https://dev.azure.test:8443/org';
    const oidcUrl = `${base}/${devops.projectId}/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken?serviceConnectionId=conn-1`;
    const auth = { authorization: `Bearer ${devops.systemAccessToken}` };

    it('lists the oidctoken location for the client to build its URL', () => {
      const body = json(
        devops.handler(request('OPTIONS', `${base}/_apis/distributedtask`)) as EmulatedResponse,
      );
      assert.equal((body.value as { resourceName: string }[])[0]?.resourceName, 'oidctoken');
    });

    it('requires the job access token', () => {
      assert.equal((devops.handler(request('POST', oidcUrl)) as EmulatedResponse).status, 401);
    });

    it('issues a token Entra exchanges, and an expired one it refuses with AADSTS700024', () => {
      const fresh = String(
        json(devops.handler(request('POST', oidcUrl, auth)) as EmulatedResponse).oidcToken,
      );
      const exchange = (assertion: string) =>
        token('t1', {
          client_id: 'app-wif',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        });
      assert.equal(exchange(fresh).status, 200);
      devops.oidcTokenLifetimeSeconds = -60;
      const stale = String(
        json(devops.handler(request('POST', oidcUrl, auth)) as EmulatedResponse).oidcToken,
      );
      devops.oidcTokenLifetimeSeconds = 600;
      assert.deepEqual(json(exchange(stale)).error_codes, [700024]);
    });
  });

  describe('IMDS', () => {
    const imds = new EmulatedImds(entra);
    const url =
      'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.test/';
    const rows: {
      name: string;
      headers: Record<string, string>;
      query: string;
      setup: () => unknown;
      status: number;
      description?: string;
      clientId?: string;
    }[] = [
      {
        name: 'the probe without Metadata',
        headers: {},
        query: '',
        setup: () => {},
        status: 400,
        description: 'Required metadata header not specified',
      },
      {
        name: 'no identity',
        headers: { metadata: 'true' },
        query: '',
        setup: () => {},
        status: 400,
        description: 'Identity not found',
      },
      {
        name: 'the system-assigned identity',
        headers: { metadata: 'true' },
        query: '',
        setup: () => (imds.systemAssigned = { tenantId: 't1', clientId: 'sys', objectId: 'o1' }),
        status: 200,
        clientId: 'sys',
      },
      {
        name: 'a user-assigned identity by client id',
        headers: { metadata: 'true' },
        query: '&client_id=user',
        setup: () => imds.userAssigned.push({ tenantId: 't1', clientId: 'user', objectId: 'o2' }),
        status: 200,
        clientId: 'user',
      },
      {
        name: 'an unknown client id',
        headers: { metadata: 'true' },
        query: '&client_id=other',
        setup: () => {},
        status: 400,
        description: 'Identity not found',
      },
    ];
    for (const row of rows) {
      it(`answers ${row.name}`, () => {
        row.setup();
        const response = imds.handler(request('GET', url + row.query, row.headers)) as EmulatedResponse;
        assert.equal(response.status, row.status);
        const body = json(response);
        if (row.description) assert.equal(body.error_description, row.description);
        if (row.clientId) {
          assert.equal(body.client_id, row.clientId);
          assert.equal(typeof body.expires_in, 'string');
          assert.ok(entra.verifyAccessToken(String(body.access_token), 'https://management.azure.test'));
        }
      });
    }
  });
});
