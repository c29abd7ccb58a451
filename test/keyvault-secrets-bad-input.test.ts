import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, runTask, type Endpoint, type TaskRun, type TaskRunResult } from './harness/agent';
import type { RunDirectories } from './harness/agent';
import { startEmulatedCloud, type EmulatedCloud } from './emulators/cloud';
import { createKeyVaultEmulator, type KeyVaultEmulator } from './emulators/keyvault';

/**
 * KeyVaultSecrets@1's bad input, through the agent harness on Node 20 and 24: each row is
 * refused with its error lines (the input, what is wrong, the fix), no stack trace outside
 * debug lines, no secret (the harness's leak check, which knows the connection's secret
 * and every vault value), and nothing done: no variable set, no file exported, and no
 * request sent anywhere, sign-in included.
 */

const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const clientId = '5b6e2c1a-0d0b-4b8e-9d7f-3c2a1e0f9a11';
const clientSecret = 'bad-input-client-secret-value-1';
const vaultName = 'ci-kv';
const secretValues = { 'app-key': 'app-key-value-0001', 'db-password': 'db-password-value-0002' };

interface Row {
  readonly what: string;
  /** Inputs over the defaults; a function when they need the running cloud. */
  readonly inputs?: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
  /** Changes to the connection, or `null` for no connection at all. */
  readonly connection?: ((base: Endpoint) => Endpoint) | null;
  readonly env?: Readonly<Record<string, string>>;
  readonly secrets?: readonly string[];
  readonly prepare?: (dirs: RunDirectories) => void;
  /** One pattern per error line, in order. */
  readonly errors: readonly RegExp[];
}

const huge = 120 * 1024;

describe('KeyVaultSecrets@1 bad input', function () {
  this.timeout(120_000);
  let cloud: EmulatedCloud;
  let keyVault: KeyVaultEmulator;

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
    const vault = keyVault.addVault(vaultName);
    for (const [name, value] of Object.entries(secretValues)) vault.setSecret(name, value);
  });
  after(async () => {
    await cloud?.azure.stop();
  });
  beforeEach(() => cloud.azure.reset());

  function connection(): Endpoint {
    return {
      url: cloud.azure.url('management.azure.test', '/'),
      scheme: 'ServicePrincipal',
      parameters: {
        tenantid: tenantId,
        serviceprincipalid: clientId,
        serviceprincipalkey: clientSecret,
        authenticationType: 'spnKey',
      },
      data: {
        environment: 'AzureCloud',
        subscriptionId: '00000000-0000-0000-0000-000000000001',
        environmentAuthorityUrl: cloud.authorityHost,
        AzureKeyVaultDnsSuffix: cloud.azure.authority('vault.azure.test'),
        AzureKeyVaultServiceEndpointResourceId: keyVault.resource,
      },
    };
  }

  function go(row: Row, node: 'node20' | 'node24', extra: Partial<TaskRun> = {}): Promise<TaskRunResult> {
    const inputs = typeof row.inputs === 'function' ? row.inputs() : row.inputs;
    const run: TaskRun = {
      task: 'KeyVaultSecrets',
      node,
      inputs: { azureSubscription: 'conn', keyVaultName: vaultName, secrets: '*', ...inputs },
      endpoints: row.connection === null ? {} : { conn: (row.connection ?? ((each) => each))(connection()) },
      env: { ...cloud.azure.env(), ...row.env },
      secrets: [...Object.values(secretValues), clientSecret, ...(row.secrets ?? [])],
      ...(row.prepare ? { prepare: row.prepare } : {}),
      ...extra,
    };
    return runTask(run);
  }

  const secretInAuthorization = 'only-in-the-malformed-authorization-9d2e';
  const rows: Row[] = [
    // keyVaultName
    {
      what: 'an empty vault name',
      inputs: { keyVaultName: '' },
      errors: [/^The input 'keyVaultName' is empty\. Set keyVaultName to a vault name such as contoso-ci-kv/],
    },
    {
      what: 'a vault name of spaces only',
      inputs: { keyVaultName: '  \t ' },
      errors: [/^The input 'keyVaultName' is empty\./],
    },
    {
      what: 'a vault name too short',
      inputs: { keyVaultName: 'kv' },
      errors: [
        /^The key vault name 'kv' is not valid: a vault name is 3 to 24 letters, digits and dashes.*for example contoso-ci-kv/,
      ],
    },
    {
      what: 'a vault name with unicode',
      inputs: { keyVaultName: 'kv-密码-🔑' },
      errors: [/^The key vault name 'kv-密码-🔑' is not valid/],
    },
    {
      what: 'a vault name with control characters',
      inputs: { keyVaultName: 'kv\u0001\u001b[31mred\u007f' },
      errors: [/^The key vault name 'kv\\u0001\\u001b\[31mred\\u007f' is not valid/],
    },
    {
      what: 'a 120 KB vault name',
      inputs: { keyVaultName: 'a'.repeat(huge) },
      errors: [/^The key vault name 'a{200}… \(122680 more characters\)' is not valid/],
    },
    {
      what: 'a vault URL of a host outside the cloud',
      inputs: { keyVaultName: 'https://evil.example.com/' },
      errors: [
        /^The key vault URL 'https:\/\/evil\.example\.com\/' is not a vault of the service connection's cloud AzureCloud: a vault's host there ends in \.vault\.azure\.test:\d+, such as https:\/\/contoso-ci-kv\.vault\.azure\.test:\d+\/\./,
      ],
    },
    {
      what: 'a vault URL of a host the agent can reach, outside the cloud',
      inputs: () => ({ keyVaultName: cloud.azure.url('evil.example.azure.test', '/') }),
      errors: [
        /^The key vault URL 'https:\/\/evil\.example\.azure\.test:\d+\/' is not a vault of the service connection's cloud AzureCloud/,
      ],
    },
    {
      what: 'a vault URL of the public cloud, with a connection of another',
      inputs: { keyVaultName: 'https://ci-kv.vault.azure.net/' },
      errors: [
        /is not a vault of the service connection's cloud AzureCloud: a vault's host there ends in \.vault\.azure\.test:\d+.*use a service connection of the vault's cloud/,
      ],
    },
    {
      what: 'a plain-http vault URL',
      inputs: { keyVaultName: 'http://ci-kv.vault.azure.test/' },
      errors: [
        /^The key vault URL 'http:\/\/ci-kv\.vault\.azure\.test\/' is not valid: give the vault's https URL/,
      ],
    },
    {
      what: 'a vault URL with a path',
      inputs: { keyVaultName: 'https://ci-kv.vault.azure.test/secrets/x' },
      errors: [/^The key vault URL .* is not valid: give the vault's https URL with nothing after the host/],
    },
    // secrets
    {
      what: 'rules of spaces and commas only',
      inputs: { secrets: ' ,\n  , ' },
      errors: [/^The input 'secrets' has no rules\. Write \* to load every secret/],
    },
    {
      what: 'a pattern longer than Key Vault allows, on line 3',
      inputs: { secrets: `app-key\n\ndb-${'x'.repeat(140)}*` },
      errors: [
        /^The input 'secrets', line 3: the rule 'db-x+\*' is not valid: a secret name or pattern is at most 127 characters, and this one has 144\. Accepted forms:/,
      ],
    },
    {
      what: 'a 120 KB rule',
      inputs: { secrets: 'a'.repeat(huge) },
      errors: [
        /^The input 'secrets', line 1: the rule 'a{200}… \(122680 more characters\)' is not valid: .* at most 127 characters/,
      ],
    },
    {
      what: 'two malformed rules, each with its line',
      inputs: { secrets: 'app-*\napp-* => X\n\ndb_password' },
      errors: [
        /^The input 'secrets', line 2: the rule 'app-\* => X' is not valid: a glob matches many secrets/,
        /^The input 'secrets', line 4: the rule 'db_password' is not valid: a secret name is 1 to 127 letters/,
      ],
    },
    // naming
    {
      what: 'an unknown naming mode',
      inputs: { variableNames: 'camelCase' },
      errors: [/^The input 'variableNames' must be one of: asIs, upperSnake, prefix\. It is 'camelCase'\./],
    },
    {
      what: 'the prefix mode without a prefix',
      inputs: { variableNames: 'prefix', variablePrefix: ' ' },
      errors: [
        /^The input 'variablePrefix' is empty, but variableNames is 'prefix'\. Set a prefix such as KV_/,
      ],
    },
    {
      what: 'a prefix with spaces',
      inputs: { variableNames: 'prefix', variablePrefix: 'KV PREFIX' },
      errors: [/^The variable prefix 'KV PREFIX' is not valid: use letters, digits/],
    },
    // allowEmptyValues, runAsPreJob, concurrency
    {
      what: 'a boolean that is not true or false',
      inputs: { allowEmptyValues: 'yes' },
      errors: [/^The input 'allowEmptyValues' must be true or false, but it is 'yes'\./],
    },
    {
      what: 'runAsPreJob of another type',
      inputs: { runAsPreJob: '1' },
      errors: [/^The input 'runAsPreJob' must be true or false, but it is '1'\./],
    },
    {
      what: 'a concurrency of 0',
      inputs: { concurrency: '0' },
      errors: [/^The input 'concurrency' must be a whole number from 1 to 64, but it is '0'\./],
    },
    {
      what: 'a concurrency above 64',
      inputs: { concurrency: '65' },
      errors: [/^The input 'concurrency' must be a whole number from 1 to 64, but it is '65'\./],
    },
    { what: 'a fractional concurrency', inputs: { concurrency: '2.5' }, errors: [/but it is '2\.5'\./] },
    { what: 'a concurrency in words', inputs: { concurrency: 'sixteen' }, errors: [/but it is 'sixteen'\./] },
    {
      what: 'a 120 KB concurrency',
      inputs: { concurrency: '9'.repeat(huge) },
      errors: [
        /^The input 'concurrency' must be a whole number from 1 to 64, but it is '9{200}… \(122680 more characters\)'\./,
      ],
    },
    // exportFile, exportFormat
    {
      what: 'an unknown export format',
      inputs: { exportFile: 'app.env', exportFormat: 'xml' },
      errors: [/^The input 'exportFormat' must be one of: dotenv, json, kubernetesSecret\. It is 'xml'\./],
    },
    {
      what: 'an export file that is a folder',
      inputs: { exportFile: 'out/' },
      prepare: (dirs) => mkdirSync(join(dirs.sources, 'out')),
      errors: [
        /^The input 'exportFile' is '.*\/out', where the secrets cannot be written: it is a folder, not a file\. Give a file name such as app\.env/,
      ],
    },
    {
      what: 'an export file inside a file',
      inputs: { exportFile: 'notes.txt/app.env' },
      prepare: (dirs) => writeFileSync(join(dirs.sources, 'notes.txt'), 'x'),
      errors: [
        /^The input 'exportFile' is '.*notes\.txt\/app\.env', where the secrets cannot be written: .*notes\.txt is a file, not a folder\./,
      ],
    },
    {
      what: 'an export file with control characters',
      inputs: { exportFile: 'app\u0001\u0002.env' },
      errors: [
        /^The input 'exportFile' is '.*app\\u0001\\u0002\.env', where the secrets cannot be written: it holds control characters\./,
      ],
    },
    {
      what: 'an export file name of 120 KB',
      inputs: { exportFile: `${'n'.repeat(huge)}.env` },
      errors: [
        /^The input 'exportFile' is '.{200}… \(\d+ more characters\)', where the secrets cannot be written: a name in it is longer than 255 bytes\./,
      ],
    },
    // the connection
    {
      what: 'no connection named',
      inputs: { azureSubscription: '' },
      errors: [
        /^The input 'azureSubscription' is empty\. Select an Azure Resource Manager service connection\./,
      ],
    },
    {
      what: 'a 120 KB connection name',
      inputs: { azureSubscription: 'c'.repeat(huge) },
      errors: [
        /^The service connection 'c{200}… \(122680 more characters\)' named by the input 'azureSubscription' was not found/,
      ],
    },
    {
      what: 'a connection that does not exist',
      connection: null,
      errors: [
        /^The service connection 'conn' named by the input 'azureSubscription' was not found, or this pipeline is not authorised to use it\./,
      ],
    },
    {
      what: 'a connection of the wrong scheme',
      connection: (base) => ({
        ...base,
        scheme: 'UsernamePassword',
        parameters: { username: 'pipeline-user', password: 'wrong-scheme-password-1' },
      }),
      errors: [
        /^The service connection 'conn' uses the authentication scheme 'UsernamePassword', which is not supported\. Use an Azure Resource Manager connection with one of: WorkloadIdentityFederation, ServicePrincipal, ManagedServiceIdentity\./,
      ],
    },
    {
      what: 'a connection without its client secret',
      connection: (base) => ({
        ...base,
        parameters: { tenantid: tenantId, serviceprincipalid: clientId, authenticationType: 'spnKey' },
      }),
      errors: [
        /^The service connection 'conn' has no client secret \(serviceprincipalkey\)\. Edit or recreate it/,
      ],
    },
    {
      what: 'a connection whose authorization is not JSON',
      env: { ENDPOINT_AUTH_conn: `{"parameters":{"serviceprincipalkey":"${secretInAuthorization}"` },
      secrets: [secretInAuthorization],
      errors: [
        /^The service connection 'conn' named by the input 'azureSubscription' cannot be read: the authorization the agent passed for it is not a JSON object\. It is not shown here/,
      ],
    },
    {
      what: 'a connection whose authorization is JSON but not an object',
      env: { ENDPOINT_AUTH_conn: JSON.stringify([secretInAuthorization]) },
      secrets: [secretInAuthorization],
      errors: [/^The service connection 'conn' named by the input 'azureSubscription' cannot be read/],
    },
  ];

  for (const row of rows) {
    for (const node of ['node20', 'node24'] as const) {
      it(`refuses ${row.what} (${node})`, async () => {
        const run = await go(row, node);
        assertRefused(run, row.errors);
        assert.equal(run.variables.size, 0, `variables were set: ${[...run.variables.keys()].join(', ')}`);
        assert.deepEqual(exported(run), [], 'a file was exported');
        assert.deepEqual(
          cloud.azure.requests.map((request) => `${request.method} ${request.host}${request.path}`),
          [],
          'requests were sent',
        );
      });
    }
  }

  for (const node of ['node20', 'node24'] as const) {
    it(`exports to a path with spaces and unicode (${node})`, async () => {
      const file = 'out dir/ünïcödé 密码 🔑.env';
      const run = await go(
        { what: 'unicode', inputs: { secrets: 'app-key', exportFile: file }, errors: [] },
        node,
        {
          expectedSecretFiles: [/\.env$/],
        },
      );
      assert.equal(run.result?.status, 'Succeeded', run.log);
      const path = join(run.dirs.sources, file);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(readFileSync(path, 'utf8'), 'app-key=app-key-value-0001\n');
    }).timeout(60_000);
  }
});

// The unicode row writes its export on purpose, so the leak check is told; every other
// run must leave no file but the summary the task may write.
function exported(run: TaskRunResult): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(env|json|ya?ml)$/.test(entry.name) && entry.name !== 'task.json') found.push(path);
    }
  };
  walk(run.dirs.sources);
  walk(run.dirs.temp);
  return found;
}

function assertRefused(run: TaskRunResult, expected: readonly RegExp[]): void {
  assert.equal(run.result?.status, 'Failed', run.log);
  assert.equal(run.exitCode, 1, run.log);
  const messages = run.errors.map((error) => error.message);
  assert.equal(messages.length, expected.length, messages.join('\n'));
  expected.forEach((pattern, index) => assert.match(messages[index] ?? '', pattern));
  for (const message of messages)
    assert.ok(message.length < 1000, `an error line of ${message.length} characters`);
  const outsideDebug = `${run.stdout}\n${run.stderr}`
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('##vso[task.debug]'))
    .join('\n');
  assert.doesNotMatch(outsideDebug, /(^|%0A)\s+at .+:\d+:\d+\)?/m, 'a stack trace outside debug lines');
}

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
    statSync(join(repoRoot, 'scripts', 'build.mjs')).mtimeMs,
  );
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= sources) return;
  const built = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
}
