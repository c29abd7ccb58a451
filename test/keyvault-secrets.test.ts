import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, runTask, type Endpoint, type TaskRun, type TaskRunResult } from './harness/agent';
import { startEmulatedCloud, type EmulatedCloud } from './emulators/cloud';
import { createKeyVaultEmulator, type EmulatedVault, type KeyVaultEmulator } from './emulators/keyvault';

/**
 * KeyVaultSecrets@1 as the agent runs it: the bundled task, spawned by the harness,
 * signing in to the emulated Entra ID and reading the emulated Key Vault with the real
 * SDK clients. Every run ends with the harness's leak check over the vault's values.
 */

const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const clientId = '5b6e2c1a-0d0b-4b8e-9d7f-3c2a1e0f9a11';
const clientSecret = 'emulated-client-secret-value-1';
const vaultName = 'ci-kv';

const tricky = {
  multiLine:
    '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n',
  json: '{ "user": "svc",\n  "password": "p;w]d%AZP25" , "n": [1,2] }',
  unicode: 'pässwörd-密码-🔑',
  specials: 'a%b;c]d%25e%3Bf',
  vso: 'x##vso[task.setvariable variable=PWNED]gotcha',
  crlf: 'first line\r\nsecond line',
};

describe('KeyVaultSecrets@1 through the agent harness', function () {
  this.timeout(120_000);
  let cloud: EmulatedCloud;
  let keyVault: KeyVaultEmulator;
  let vault: EmulatedVault;
  let versions: Record<string, string[]>;

  before(async () => {
    buildIfStale();
    cloud = await startEmulatedCloud();
    cloud.entra.addApp(tenantId, { clientId, secrets: [clientSecret] });
    keyVault = createKeyVaultEmulator({
      tenantId,
      authorityUrl: cloud.authorityHost.replace(/\/$/, ''),
      authorize: (token, audience) => cloud.entra.verifyAccessToken(token, audience),
    });
    cloud.azure.register(/\.vault\.azure\.test$/, keyVault.handler);
  });

  after(async () => {
    await cloud?.azure.stop();
  });

  beforeEach(() => {
    cloud.azure.reset();
    vault = keyVault.addVault(vaultName);
    versions = {};
    const put = (name: string, value: string, options = {}): void => {
      (versions[name] ??= []).push(vault.setSecret(name, value, options));
    };
    put('app-key', 'app-key-value-0001');
    put('app-config', tricky.json);
    put('db-password', 'db-password-old-0001');
    put('db-password', 'db-password-new-0002');
    put('legacy-token', 'legacy-token-value-0001');
    put('app-disabled', 'disabled-value-0001', { enabled: false });
    put('app-expired', 'expired-value-0001', { expires: new Date('2021-03-04T05:06:07Z') });
  });

  function endpoint(overrides: Partial<Record<string, string>> = {}): Endpoint {
    return {
      url: cloud.azure.url('management.azure.test', '/'),
      scheme: 'ServicePrincipal',
      parameters: {
        tenantid: tenantId,
        serviceprincipalid: clientId,
        serviceprincipalkey: overrides.secret ?? clientSecret,
        authenticationType: 'spnKey',
      },
      data: {
        environment: 'AzureCloud',
        subscriptionId: '00000000-0000-0000-0000-000000000001',
        environmentAuthorityUrl: cloud.authorityHost,
        AzureKeyVaultDnsSuffix: overrides.keyVaultDnsSuffix ?? cloud.azure.authority('vault.azure.test'),
        AzureKeyVaultServiceEndpointResourceId: keyVault.resource,
      },
    };
  }

  // Every value any vault serves, plus the connection's secret: none may leak.
  function knownSecrets(): string[] {
    const values = Object.keys(versions).flatMap((name) => vault.versions(name).map((each) => each.value));
    return [...values, clientSecret].filter((value) => value.length >= 4);
  }

  function go(inputs: Record<string, string>, extra: Partial<TaskRun> = {}): Promise<TaskRunResult> {
    return runTask({
      task: 'KeyVaultSecrets',
      node: 'node20',
      inputs: { azureSubscription: 'conn', keyVaultName: vaultName, secrets: '*', ...inputs },
      endpoints: { conn: endpoint() },
      env: cloud.azure.env(),
      secrets: knownSecrets(),
      ...extra,
    });
  }

  describe('rules and names', () => {
    for (const node of ['node20', 'node24'] as const) {
      it(`loads every rule form on ${node}: *, !exclude, =>, pinned version, optional`, async () => {
        const run = await go(
          {
            secrets: `*, !legacy-*\ndb-password => DB_PASSWORD\ndb-password/${versions['db-password']?.[0]} => DB_PASSWORD_OLD\nnot-there?`,
          },
          { node },
        );
        assertSucceeded(run);
        assert.deepEqual(secretVariables(run), {
          'app-config': tricky.json,
          'app-key': 'app-key-value-0001',
          DB_PASSWORD: 'db-password-new-0002',
          DB_PASSWORD_OLD: 'db-password-old-0001',
        });
        assert.equal(
          run.outputVariables.get('secretNames')?.value,
          'app-config,app-key,DB_PASSWORD,DB_PASSWORD_OLD',
        );
        assert.deepEqual(warningsAbout(run), ['app-disabled', 'app-expired']);
        assert.match(run.log, /The optional secret 'not-there' is not in the vault 'ci-kv'/);
        assert.equal(run.summaries[0]?.name, 'Key Vault secrets (ci-kv).md');
        const summary = run.summaries[0]?.content ?? '';
        assert.match(summary, /\| DB_PASSWORD_OLD \| db-password \| `[0-9a-f]{32}` \| set \|/);
        assert.match(summary, /\| app-disabled \| app-disabled \| {2}\| skipped \|/);
      });
    }

    it('upperSnake and prefix modes; explicit mappings still win', async () => {
      const upper = await go({ secrets: 'app-*\ndb-password => dbpw', variableNames: 'upperSnake' });
      assertSucceeded(upper);
      assert.deepEqual(Object.keys(secretVariables(upper)).sort(), ['APP_CONFIG', 'APP_KEY', 'dbpw']);
      const prefixed = await go({ secrets: 'app-key', variableNames: 'prefix', variablePrefix: 'KV_' });
      assertSucceeded(prefixed);
      assert.deepEqual(Object.keys(secretVariables(prefixed)), ['KV_app-key']);
    });

    it('two secrets mapped to one variable fail naming both, and the rest are still set', async () => {
      const run = await go({ secrets: 'app-key => SAME\nlegacy-token => same\ndb-password' });
      assertFailed(run, [/More than one secret maps to the variable 'SAME': 'app-key', 'legacy-token'/]);
      assert.deepEqual(Object.keys(secretVariables(run)), ['db-password']);
    });
  });

  describe('disabled, expired and missing secrets', () => {
    it('wildcards skip them with one warning each', async () => {
      const run = await go({ secrets: 'app-*' });
      assertSucceeded(run);
      assert.deepEqual(warningsAbout(run), ['app-disabled', 'app-expired']);
      assert.match(run.warnings[1]?.message ?? '', /expired on 2021-03-04T05:06:07.000Z/);
    });

    it('exact rules fail on them, after trying every rule', async () => {
      const run = await go({ secrets: 'app-disabled\napp-expired\napp-kye\napp-key' });
      assertFailed(run, [
        /The secret 'app-disabled' in the vault 'ci-kv' is disabled/,
        /The secret 'app-expired' expired on 2021-03-04T05:06:07.000Z/,
        /The secret 'app-kye' was not found in the vault 'ci-kv'. Did you mean 'app-key'\?/,
      ]);
      assert.deepEqual(Object.keys(secretVariables(run)), ['app-key']);
    });

    it('exact rules without a listing still suggest a name, and report a disabled secret from its 403', async () => {
      vault.permissions.list = true;
      const run = await go({ secrets: 'app-kye, app-disabled' });
      assertFailed(run, [/Did you mean 'app-key'\?/, /'app-disabled' in the vault 'ci-kv' is disabled/]);
    });
  });

  describe('each error names its cause and fix', () => {
    const cases: {
      name: string;
      arrange?: () => void;
      inputs?: Record<string, string>;
      endpoint?: Partial<Record<string, string>>;
      expect: RegExp[];
    }[] = [
      {
        name: 'Azure RBAC without Get',
        arrange: () => (vault.permissions.get = false),
        inputs: { secrets: 'app-key' },
        expect: [
          /may not read the secret 'app-key'.*Azure RBAC.*'Key Vault Secrets User'.*List is needed only for wildcard rules/,
        ],
      },
      {
        name: 'Azure RBAC without Get, for many secrets: one line naming the count and the first names',
        arrange: () => (vault.permissions.get = false),
        inputs: { secrets: '*\nnot-there' },
        expect: [
          /The secret 'not-there' was not found in the vault 'ci-kv'/,
          /may not read 4 secrets in the vault 'ci-kv' \(Azure RBAC denied Get\), among them 'app-config', 'app-key', 'db-password'\..*'Key Vault Secrets User'/,
        ],
      },
      {
        name: 'Azure RBAC without List, for a wildcard',
        arrange: () => (vault.permissions.list = false),
        inputs: { secrets: 'app-*\ndb-password' },
        expect: [
          /may not list the secrets of the vault 'ci-kv' \(Azure RBAC denied List\).*wildcard rules \(app-\*\).*'Key Vault Secrets User'/,
        ],
      },
      {
        name: 'an access policy without Get',
        arrange: () => {
          vault.permissionModel = 'accessPolicy';
          vault.permissions.get = false;
        },
        inputs: { secrets: 'app-key' },
        expect: [/access policy lacks the Get secret permission/],
      },
      {
        name: 'an access policy without Get, for many secrets',
        arrange: () => {
          vault.permissionModel = 'accessPolicy';
          vault.permissions.get = false;
        },
        inputs: { secrets: 'app-*, db-password' },
        expect: [
          /may not read 3 secrets in the vault 'ci-kv', among them 'app-config', 'app-key', 'db-password': its access policy lacks the Get secret permission/,
        ],
      },
      {
        name: 'an access policy without List',
        arrange: () => {
          vault.permissionModel = 'accessPolicy';
          vault.permissions.list = false;
        },
        inputs: { secrets: '*' },
        expect: [/access policy lacks the List secret permission/],
      },
      {
        name: 'the firewall',
        arrange: () => (vault.firewallBlocks = '203.0.113.7'),
        inputs: { secrets: '*' },
        expect: [/refused the request at its firewall/],
      },
      {
        name: 'a vault the cloud does not know',
        inputs: { keyVaultName: 'no-such-kv' },
        expect: [/The vault 'no-such-kv' does not exist, or its DNS name .* does not resolve/],
      },
      {
        name: 'a vault whose DNS name does not resolve',
        inputs: { keyVaultName: 'https://no-such-kv.vault.invalid/' },
        endpoint: { keyVaultDnsSuffix: 'vault.invalid' },
        expect: [
          /The vault 'no-such-kv' does not exist, or its DNS name no-such-kv.vault.invalid does not resolve/,
        ],
      },
      {
        name: 'a wrong client secret',
        endpoint: { secret: 'not-the-secret' },
        expect: [/conn.*ServicePrincipal.*AADSTS7000215/],
      },
      {
        name: 'a secret unknown at that version',
        inputs: { secrets: `app-key/${'0'.repeat(32)}` },
        expect: [/The secret 'app-key' has no version '0{32}' in the vault 'ci-kv'/],
      },
    ];
    for (const each of cases) {
      it(each.name, async () => {
        each.arrange?.();
        const run = await go(
          each.inputs ?? {},
          each.endpoint ? { endpoints: { conn: endpoint(each.endpoint) } } : {},
        );
        assertFailed(run, each.expect);
      });
    }
  });

  describe('retries', () => {
    it('rides out 429 storms, 5xx and dropped connections during paging and gets', async () => {
      for (let i = 0; i < 40; i++) vault.setSecret(`bulk-${String(i).padStart(2, '0')}`, `bulk-value-${i}-x`);
      const isList = (path: string) => path === '/secrets';
      const isGet = (path: string) => path.startsWith('/secrets/');
      const vaultHost = (host: string) => host.endsWith('.vault.azure.test');
      let listed = 0;
      cloud.azure.injectFault({
        match: (request) => vaultHost(request.url.hostname) && isList(request.url.pathname) && ++listed === 2,
        fault: { kind: 'throttle', retryAfterSeconds: 1 },
        times: 1,
      });
      cloud.azure.injectFault({
        match: (request) =>
          vaultHost(request.url.hostname) &&
          isList(request.url.pathname) &&
          !!request.url.searchParams.get('$skiptoken'),
        fault: { kind: 'status', status: 503 },
        times: 1,
      });
      cloud.azure.injectFault({
        match: (request) => vaultHost(request.url.hostname) && isGet(request.url.pathname),
        fault: { kind: 'throttle', retryAfterSeconds: 1 },
        times: 3,
      });
      cloud.azure.injectFault({
        match: (request) => vaultHost(request.url.hostname) && isGet(request.url.pathname),
        fault: { kind: 'drop' },
        times: 2,
      });
      cloud.azure.injectFault({
        match: (request) => vaultHost(request.url.hostname) && isGet(request.url.pathname),
        fault: { kind: 'status', status: 500 },
        times: 2,
      });
      const run = await go({ secrets: 'bulk-*' });
      assertSucceeded(run);
      assert.equal(Object.keys(secretVariables(run)).length, 40);
      const faults = cloud.azure.requests.filter((entry) => entry.fault).map((entry) => entry.fault);
      assert.deepEqual([...new Set(faults)].sort(), ['drop', 'status', 'throttle']);
    });

    it('gives up at once, naming the vault and the status, when Retry-After is past what it honours', async () => {
      cloud.azure.injectFault({
        match: (request) =>
          request.url.hostname.endsWith('.vault.azure.test') && request.url.pathname === '/secrets',
        fault: { kind: 'throttle', retryAfterSeconds: 600 },
        times: 1,
      });
      const run = await go({ secrets: '*' });
      assertFailed(run, [/The vault 'ci-kv' kept failing .* the last status was 429 \(Retry-After 600 s\)/]);
    });
  });

  describe('values', () => {
    it('keeps every value byte for byte and masked, and leaves multi-line secrets switched off', async () => {
      const names = Object.keys(tricky);
      for (const [name, value] of Object.entries(tricky)) vault.setSecret(`v-${name.toLowerCase()}`, value);
      vault.setSecret('v-empty', '');
      vault.setSecret('v-abc', 'abc');
      const run = await go({ secrets: 'v-*' }, { secrets: [...knownSecrets(), ...Object.values(tricky)] });
      assertSucceeded(run);
      const variables = secretVariables(run);
      for (const name of names) {
        assert.equal(variables[`v-${name.toLowerCase()}`], tricky[name as keyof typeof tricky], name);
      }
      assert.equal(variables['v-empty'], undefined);
      assert.equal(variables['v-abc'], 'abc');
      assert.ok(
        run.secrets.includes('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'),
        'each line of a multi-line value is masked',
      );
      assert.notEqual(variables['PWNED'], 'gotcha');
      assert.ok(!secretVariables(run)['PWNED'] && !run.variables.has('PWNED'));
      const switchValue = [...run.variables.values()].find(
        (each) => each.name === 'SYSTEM_UNSAFEALLOWMULTILINESECRET',
      );
      assert.notEqual(switchValue?.value.toLowerCase(), 'true');
      assert.equal(run.environment['SYSTEM_UNSAFEALLOWMULTILINESECRET'], undefined);
      assert.match(run.log, /Skipped the secret 'v-empty': its value is empty/);
      assert.match(run.log, /The secret 'v-abc' is shorter than 4 characters/);
    });

    it('sets an empty value when allowEmptyValues is true', async () => {
      vault.setSecret('v-empty', '');
      const run = await go({ secrets: 'v-empty', allowEmptyValues: 'true' });
      assertSucceeded(run);
      assert.equal(secretVariables(run)['v-empty'], '');
    });
  });

  describe('pre-job mode', () => {
    it('loads the secrets in the pre-job phase when runAsPreJob is true', async () => {
      const run = await go({ secrets: 'app-key', runAsPreJob: 'true' }, { entry: 'prejob.js' });
      assertSucceeded(run);
      assert.deepEqual(Object.keys(secretVariables(run)), ['app-key']);
    });

    it('the step itself then only says so', async () => {
      const run = await go({ secrets: 'app-key', runAsPreJob: 'true' });
      assertSucceeded(run);
      assert.equal(run.variables.size, 0);
      assert.match(run.log, /runAsPreJob is true/);
      assert.equal(cloud.azure.requests.length, 0);
    });

    it('the pre-job phase is quiet when runAsPreJob is false', async () => {
      const run = await go({ secrets: 'app-key' }, { entry: 'prejob.js' });
      assertSucceeded(run);
      assert.equal(run.variables.size, 0);
      assert.equal(cloud.azure.requests.length, 0);
    });
  });

  describe('exports', () => {
    const formats: { format: string; file: string; check: (text: string) => void }[] = [
      {
        format: 'dotenv',
        file: 'app.env',
        check: (text) => assert.match(text, /^app-key=app-key-value-0001$/m),
      },
      {
        format: 'json',
        file: 'app.json',
        check: (text) =>
          assert.equal((JSON.parse(text) as Record<string, string>)['app-config'], tricky.json),
      },
      {
        format: 'kubernetesSecret',
        file: 'app-secrets.yaml',
        check: (text) => {
          assert.match(text, /kind: Secret\nmetadata:\n {2}name: app-secrets\n/);
          assert.match(
            text,
            new RegExp(`"app-key": ${Buffer.from('app-key-value-0001').toString('base64')}`),
          );
        },
      },
    ];
    for (const { format, file, check } of formats) {
      it(`writes ${format} with mode 0600 under Agent.TempDirectory and says so once, as an info line`, async () => {
        const run = await go(
          { secrets: 'app-*', exportFile: file, exportFormat: format },
          { expectedSecretFiles: [new RegExp(`${file.replace('.', '\\.')}$`)] },
        );
        assertSucceeded(run);
        const path = join(run.dirs.temp, file);
        assert.equal(statSync(path).mode & 0o777, 0o600);
        check(readFileSync(path, 'utf8'));
        assert.deepEqual(
          run.warnings.filter((warning) => /clear text/.test(warning.message)),
          [],
          'a file the agent deletes after the job is no warning',
        );
        assert.equal(
          run.log
            .split('\n')
            .filter((line) => /clear text\) under Agent\.TempDirectory, which the agent deletes/.test(line))
            .length,
          1,
          run.log,
        );
      });
    }
  });

  describe('bad input: one clear line, no stack trace', () => {
    const cases: { name: string; inputs: Record<string, string>; expect: RegExp }[] = [
      {
        name: 'an empty vault name',
        inputs: { keyVaultName: '' },
        expect: /The input 'keyVaultName' is empty/,
      },
      {
        name: 'an invalid vault name',
        inputs: { keyVaultName: 'my_vault!' },
        expect: /The key vault name 'my_vault!' is not valid/,
      },
      {
        name: 'a malformed rule',
        inputs: { secrets: 'app-* => X' },
        expect: /The input 'secrets', line 1: the rule 'app-\* => X' is not valid/,
      },
      {
        name: 'an unknown version',
        inputs: { secrets: `app-key/${'f'.repeat(32)}` },
        expect: /The secret 'app-key' has no version 'f{32}'/,
      },
      {
        name: 'a negative concurrency',
        inputs: { concurrency: '-4' },
        expect: /The input 'concurrency' must be a whole number from 1 to 64, but it is '-4'/,
      },
    ];
    for (const each of cases) {
      it(each.name, async () => {
        const run = await go({ secrets: '*', ...each.inputs });
        assertFailed(run, [each.expect]);
      });
    }
  });
});

function assertSucceeded(run: TaskRunResult): void {
  assert.deepEqual(
    run.errors.map((error) => error.message),
    [],
  );
  assert.equal(run.result?.status, 'Succeeded', run.log);
  assert.equal(run.exitCode, 0);
}

// One error line per expected problem, in order, and nothing that looks like a stack trace.
function assertFailed(run: TaskRunResult, expected: readonly RegExp[]): void {
  assert.equal(run.result?.status, 'Failed', run.log);
  const messages = run.errors.map((error) => error.message);
  assert.equal(messages.length, expected.length, messages.join('\n'));
  expected.forEach((pattern, index) => assert.match(messages[index] ?? '', pattern));
  assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at .+:\d+:\d+\)?\n/);
}

function secretVariables(run: TaskRunResult): Record<string, string> {
  return Object.fromEntries(
    [...run.variables.values()].filter((each) => each.secret).map((each) => [each.name, each.value]),
  );
}

function warningsAbout(run: TaskRunResult): string[] {
  return run.warnings.map((warning) => /'([^']+)'/.exec(warning.message)?.[1] ?? warning.message);
}

// The harness runs the bundle, so rebuild when a source is newer than it.
function buildIfStale(): void {
  const bundle = join(repoRoot, 'dist', 'tasks', 'KeyVaultSecrets', 'index.js');
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
        entry.isDirectory() ? newest(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs,
      ),
    );
  const sources = Math.max(
    newest(join(repoRoot, 'tasks', 'KeyVaultSecrets')),
    newest(join(repoRoot, 'tasks', 'shared')),
  );
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= sources) return;
  const built = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
}
