import assert from 'node:assert/strict';
import { createKeyVaultEmulator, type KeyVaultEmulator, type VaultPrincipal } from './keyvault';
import type { EmulatedRequest, EmulatedResponse } from './types';

const tenantId = '11111111-1111-1111-1111-111111111111';
const principal: VaultPrincipal = { appId: 'app-1', objectId: 'oid-1', tenantId };

function emulator(): KeyVaultEmulator {
  return createKeyVaultEmulator({
    tenantId,
    authorityUrl: 'https://login.azure.test:8443',
    authorize: (token, audience) =>
      token === 'good' && audience === 'https://vault.azure.test' ? principal : undefined,
  });
}

async function send(kv: KeyVaultEmulator, path: string, token = 'good', host = 'kv1.vault.azure.test:8443') {
  const request: EmulatedRequest = {
    method: 'GET',
    url: new URL(`https://${host}${path}`),
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: Buffer.alloc(0),
  };
  return (await kv.handler(request)) as EmulatedResponse & { body: unknown };
}

function errorOf(response: EmulatedResponse): { code: string; message: string; inner?: string } {
  const error = (response.body as { error: { code: string; message: string; innererror?: { code: string } } })
    .error;
  return { code: error.code, message: error.message, inner: error.innererror?.code };
}

describe('Key Vault emulator', () => {
  it('challenges an anonymous request with the authority and a resource the vault host ends with', async () => {
    const kv = emulator();
    kv.addVault('kv1');
    const response = await send(kv, '/secrets?api-version=2025-07-01', '');
    assert.equal(response.status, 401);
    assert.equal(
      response.headers?.['www-authenticate'],
      `Bearer authorization="https://login.azure.test:8443/${tenantId}", resource="https://vault.azure.test"`,
    );
    assert.equal((await send(kv, '/secrets?api-version=2025-07-01', 'forged')).status, 401);
  });

  it('pages the listing with maxresults and a nextLink carrying $skiptoken, like the service', async () => {
    const kv = emulator();
    const vault = kv.addVault('kv1');
    for (let i = 0; i < 60; i++) vault.setSecret(`s${String(i).padStart(2, '0')}`, `v${i}`);
    const names: string[] = [];
    let path: string | undefined = '/secrets?api-version=2025-07-01&maxresults=25';
    let pages = 0;
    while (path) {
      const response = await send(kv, path);
      assert.equal(response.status, 200);
      const body = response.body as { value: { id: string }[]; nextLink: string | null };
      names.push(...body.value.map((item) => item.id.split('/').pop() ?? ''));
      pages++;
      if (body.nextLink) {
        const next = new URL(body.nextLink);
        assert.equal(next.host, 'kv1.vault.azure.test:8443');
        assert.ok(next.searchParams.get('$skiptoken'));
        assert.equal(next.searchParams.get('maxresults'), '25');
      }
      path = body.nextLink ? new URL(body.nextLink).pathname + new URL(body.nextLink).search : undefined;
    }
    assert.equal(pages, 3);
    assert.equal(names.length, 60);
    assert.equal(new Set(names).size, 60);
    assert.equal((await send(kv, '/secrets?api-version=2025-07-01&maxresults=26')).status, 400);
  });

  it('lists disabled and expired secrets with their attributes, but never values', async () => {
    const kv = emulator();
    const vault = kv.addVault('kv1');
    vault.setSecret('off', 'x', { enabled: false });
    vault.setSecret('old', 'y', { expires: new Date('2020-01-01T00:00:00Z') });
    const body = (await send(kv, '/secrets?api-version=2025-07-01')).body as {
      value: { attributes: { enabled: boolean; exp?: number }; value?: string }[];
    };
    assert.deepEqual(
      body.value.map((item) => [item.attributes.enabled, item.attributes.exp, item.value]),
      [
        [false, undefined, undefined],
        [true, 1577836800, undefined],
      ],
    );
  });

  it('gets the latest value or a given version, case-insensitively', async () => {
    const kv = emulator();
    const vault = kv.addVault('kv1');
    const first = vault.setSecret('Db-Password', 'one');
    vault.setSecret('db-password', 'two');
    const latest = await send(kv, '/secrets/DB-PASSWORD/?api-version=2025-07-01');
    assert.equal((latest.body as { value: string }).value, 'two');
    const pinned = await send(kv, `/secrets/db-password/${first}?api-version=2025-07-01`);
    assert.equal((pinned.body as { value: string; id: string }).value, 'one');
    assert.match((pinned.body as { id: string }).id, new RegExp(`/secrets/Db-Password/${first}$`));
  });

  const errors: {
    name: string;
    arrange: (kv: KeyVaultEmulator) => void;
    path: string;
    status: number;
    code: string;
    inner?: string;
    message: RegExp;
  }[] = [
    {
      name: 'a missing secret',
      arrange: () => undefined,
      path: '/secrets/nope',
      status: 404,
      code: 'SecretNotFound',
      message: /^A secret with \(name\/id\) nope was not found in this key vault\./,
    },
    {
      name: 'an unknown version',
      arrange: (kv) => kv.vault('kv1').setSecret('a', 'v'),
      path: `/secrets/a/${'0'.repeat(32)}`,
      status: 404,
      code: 'SecretNotFound',
      message: new RegExp(`^A secret with \\(name/id\\) a/${'0'.repeat(32)} was not found`),
    },
    {
      name: 'a disabled secret',
      arrange: (kv) => kv.vault('kv1').setSecret('a', 'v', { enabled: false }),
      path: '/secrets/a',
      status: 403,
      code: 'Forbidden',
      inner: 'SecretDisabled',
      message: /^Operation get is not allowed on a disabled secret\.$/,
    },
    {
      name: 'an RBAC deny',
      arrange: (kv) => (kv.vault('kv1').permissions.get = false),
      path: '/secrets/a',
      status: 403,
      code: 'Forbidden',
      inner: 'ForbiddenByRbac',
      message:
        /^Caller is not authorized to perform action on resource\.\r\n.*Caller: appid=app-1;oid=oid-1;.*Action: 'Microsoft\.KeyVault\/vaults\/secrets\/getSecret\/action'/s,
    },
    {
      name: 'an access-policy deny',
      arrange: (kv) => {
        kv.vault('kv1').permissionModel = 'accessPolicy';
        kv.vault('kv1').permissions.list = false;
      },
      path: '/secrets',
      status: 403,
      code: 'Forbidden',
      inner: 'AccessDenied',
      message:
        /^The user, group or application 'appid=app-1;oid=oid-1;iss=https:\/\/sts\.windows\.net\/1{8}-.*\/' does not have secrets list permission on key vault 'kv1;location=westeurope'\./,
    },
    {
      name: 'the firewall',
      arrange: (kv) => (kv.vault('kv1').firewallBlocks = '203.0.113.7'),
      path: '/secrets',
      status: 403,
      code: 'Forbidden',
      inner: 'ForbiddenByFirewall',
      message:
        /^Client address is not authorized and caller is not a trusted service\.\r\nClient address: 203\.0\.113\.7/,
    },
  ];
  for (const each of errors) {
    it(`answers ${each.name} with the service's error`, async () => {
      const kv = emulator();
      kv.addVault('kv1');
      each.arrange(kv);
      const response = await send(kv, `${each.path}?api-version=2025-07-01`);
      assert.equal(response.status, each.status);
      const error = errorOf(response);
      assert.equal(error.code, each.code);
      assert.equal(error.inner, each.inner);
      assert.match(error.message, each.message);
    });
  }

  it('leaves unknown vault hosts to the front', async () => {
    const kv = emulator();
    kv.addVault('kv1');
    assert.equal(
      await send(kv, '/secrets?api-version=2025-07-01', 'good', 'other.vault.azure.test'),
      undefined,
    );
  });
});
