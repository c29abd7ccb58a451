import assert from 'node:assert/strict';
import { RestError } from '@azure/core-rest-pipeline';
import { TaskError, TaskErrors } from '../shared/task-error';
import { parseRules } from './rules';
import { run, type RunConfig, type RunDeps } from './run';
import type { ListedSecret } from './select';
import type { FetchedSecret, VaultClient } from './vault';

const now = new Date('2030-01-01T00:00:00Z');
const version = 'a'.repeat(32);

interface FakeSecret {
  value: string;
  enabled?: boolean;
  expiresOn?: Date;
}

function forbidden(inner: string, message: string): RestError {
  return Object.assign(new RestError(message, { statusCode: 403, code: 'Forbidden' }), {
    details: { error: { code: 'Forbidden', message, innerError: { code: inner } } },
  });
}

// A vault in memory that behaves as the service does towards the task's client.
function fakeVault(secrets: Record<string, FakeSecret>, failures: { list?: unknown; get?: unknown } = {}) {
  const calls = { list: 0, get: [] as string[] };
  const vault: VaultClient = {
    async listSecrets(): Promise<ListedSecret[]> {
      calls.list++;
      if (failures.list) throw failures.list;
      return Object.entries(secrets).map(([name, secret]) => ({
        name,
        enabled: secret.enabled ?? true,
        ...(secret.expiresOn ? { expiresOn: secret.expiresOn } : {}),
      }));
    },
    async getSecret(name, wanted): Promise<FetchedSecret> {
      calls.get.push(wanted ? `${name}/${wanted}` : name);
      if (failures.get) throw failures.get;
      const secret = secrets[name];
      if (!secret || (wanted && wanted !== version)) {
        throw new RestError(`A secret with (name/id) ${name} was not found`, {
          statusCode: 404,
          code: 'SecretNotFound',
        });
      }
      if (secret.enabled === false)
        throw forbidden('SecretDisabled', 'Operation get is not allowed on a disabled secret.');
      return {
        value: secret.value,
        version,
        enabled: true,
        ...(secret.expiresOn ? { expiresOn: secret.expiresOn } : {}),
      };
    },
  };
  return { vault, calls };
}

function harness(vault: VaultClient) {
  const seen = {
    variables: new Map<string, string>(),
    outputs: new Map<string, string>(),
    warnings: [] as string[],
    infos: [] as string[],
    files: new Map<string, string>(),
    summary: '',
  };
  const deps: RunDeps = {
    vault,
    setSecretVariable: (name, value) => seen.variables.set(name, value),
    setOutputVariable: (name, value) => seen.outputs.set(name, value),
    warn: (warning) => seen.warnings.push(`${warning.key}:${warning.args.join('|')}`),
    info: (message) => seen.infos.push(`${message.key}:${message.args.join('|')}`),
    writeSecretFile: (path, content) => seen.files.set(path, content),
    uploadSummary: (markdown) => (seen.summary = markdown),
    describeSignInFailure: () => new TaskError('SignInFailed'),
    now: () => now,
  };
  return { deps, seen };
}

function config(lines: string[], overrides: Partial<RunConfig> = {}): RunConfig {
  const { rules, errors } = parseRules(lines);
  assert.equal(errors.length, 0);
  return {
    vaultName: 'kv1',
    rules,
    naming: { mode: 'asIs', prefix: '' },
    allowEmptyValues: false,
    concurrency: 4,
    ...overrides,
  };
}

async function failures(promise: Promise<void>): Promise<string[]> {
  try {
    await promise;
    return [];
  } catch (error) {
    assert.ok(error instanceof TaskErrors, String(error));
    return error.errors.map((each) => `${each.key}:${each.args.join('|')}`);
  }
}

describe('KeyVaultSecrets run', () => {
  it('sets every selected secret, reports names not values, and summarises', async () => {
    const { vault, calls } = fakeVault({
      'app-key': { value: 'k3y-value' },
      'db-password': { value: 'p@ss;]%' },
    });
    const { deps, seen } = harness(vault);
    await run(config(['*', 'db-password => DB_PASSWORD']), deps);
    assert.deepEqual(
      [...seen.variables],
      [
        ['app-key', 'k3y-value'],
        ['DB_PASSWORD', 'p@ss;]%'],
      ],
    );
    assert.equal(seen.outputs.get('secretNames'), 'app-key,DB_PASSWORD');
    assert.equal(calls.list, 1);
    assert.match(seen.summary, /\| DB_PASSWORD \| db-password \| `a{32}` \| set \|/);
    assert.ok(!seen.summary.includes('k3y-value') && !seen.summary.includes('p@ss'));
    assert.deepEqual(seen.infos, ['SecretsLoaded:2|kv1']);
  });

  it('exact rules alone never list (Get is enough)', async () => {
    const { vault, calls } = fakeVault({ a: { value: 'value-a' } });
    const { deps } = harness(vault);
    await run(config(['a', `a/${version} => PINNED`]), deps);
    assert.equal(calls.list, 0);
    assert.deepEqual(calls.get, ['a', `a/${version}`]);
  });

  it('tries every rule, keeps what it set, and fails with one line per problem', async () => {
    const { vault } = fakeVault({ good: { value: 'good-value' }, off: { value: 'x', enabled: false } });
    const { deps, seen } = harness(vault);
    const problems = await failures(
      run(config(['good', 'goodd', 'off', `good/${'b'.repeat(32)} => OTHER`, 'maybe?']), deps),
    );
    assert.deepEqual(problems, [
      'SecretNotFoundDidYouMean:goodd|kv1|good',
      'SecretDisabled:off|kv1',
      `SecretVersionNotFound:good|${'b'.repeat(32)}|kv1`,
    ]);
    assert.deepEqual([...seen.variables.keys()], ['good']);
    assert.deepEqual(seen.infos[0], 'SecretOptionalMissing:maybe|kv1');
    assert.match(seen.summary, /1 set, 1 skipped, 3 failed/);
  });

  it('skips empty values unless allowed, and warns about short ones', async () => {
    const { vault } = fakeVault({ empty: { value: '' }, short: { value: 'ab' } });
    const skipped = harness(vault);
    await run(config(['*']), skipped.deps);
    assert.deepEqual([...skipped.seen.variables.keys()], ['short']);
    assert.deepEqual(skipped.seen.warnings, ['SecretEmptySkipped:empty', 'SecretTooShortToMask:short|4']);
    const allowed = harness(vault);
    await run(config(['*'], { allowEmptyValues: true }), allowed.deps);
    assert.equal(allowed.seen.variables.get('empty'), '');
  });

  it('an exact rule on a secret found expired when fetched is an error', async () => {
    const expiresOn = new Date('2029-01-01T00:00:00Z');
    const { vault } = fakeVault({ old: { value: 'old-value', expiresOn } });
    const { deps, seen } = harness(vault);
    assert.deepEqual(await failures(run(config(['old']), deps)), [
      `SecretExpired:old|${expiresOn.toISOString()}|kv1`,
    ]);
    assert.equal(seen.variables.size, 0);
  });

  it('without List permission the wildcards fail but the exact rules still load', async () => {
    const denied = forbidden('ForbiddenByRbac', 'Caller is not authorized to perform action on resource.');
    const { vault } = fakeVault({ a: { value: 'value-a' } }, { list: denied });
    const { deps, seen } = harness(vault);
    assert.deepEqual(await failures(run(config(['app-*', 'a']), deps)), ['RbacDeniedList:kv1|app-*']);
    assert.deepEqual([...seen.variables.keys()], ['a']);
  });

  it('a vault-wide failure stops the fetching and is reported once', async () => {
    const blocked = forbidden(
      'ForbiddenByFirewall',
      'Client address is not authorized and caller is not a trusted service.',
    );
    const { vault, calls } = fakeVault(
      Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`s${i}`, { value: 'v' }])),
      { get: blocked },
    );
    const { deps } = harness(vault);
    const names = Array.from({ length: 50 }, (_, i) => `s${i}`);
    assert.deepEqual(await failures(run(config(names, { concurrency: 2 }), deps)), ['VaultFirewall:kv1']);
    assert.ok(calls.get.length <= 3, `${calls.get.length} gets after the firewall refused`);
  });

  it('a listing that cannot reach the vault fails at once', async () => {
    const { vault } = fakeVault({}, { list: new RestError('getaddrinfo ENOTFOUND', { code: 'ENOTFOUND' }) });
    const { deps } = harness(vault);
    assert.deepEqual(await failures(run(config(['*']), deps)), ['VaultNotFound:kv1|kv1']);
  });

  it('exports what it set, and warns once that a file holds secrets', async () => {
    const { vault } = fakeVault({ a: { value: 'value-a' }, b: { value: 'line1\nline2' } });
    const { deps, seen } = harness(vault);
    await run(config(['*'], { export: { path: '/tmp/x/app.json', format: 'json' } }), deps);
    assert.deepEqual(JSON.parse(seen.files.get('/tmp/x/app.json') ?? ''), {
      a: 'value-a',
      b: 'line1\nline2',
    });
    assert.deepEqual(seen.warnings, ['ExportHoldsSecrets:/tmp/x/app.json|2']);
  });
});
