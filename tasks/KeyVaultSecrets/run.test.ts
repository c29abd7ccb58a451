import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { RestError } from '@azure/core-rest-pipeline';
import { TaskError, TaskErrors } from '../shared/task-error';
import { parseRules } from './rules';
import { run, type RunConfig, type RunDeps } from './run';
import type { ListedSecret } from './select';
import { VaultGaveUp, type FetchedSecret, type VaultClient } from './vault';

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

// A vault in memory that behaves as the service does towards the task's client, listing
// two secrets a page.
function fakeVault(secrets: Record<string, FakeSecret>, failures: { list?: unknown; get?: unknown } = {}) {
  const calls = { list: 0, get: [] as string[] };
  const vault: VaultClient = {
    async *listSecretPages(): AsyncGenerator<ListedSecret[]> {
      calls.list++;
      if (failures.list) throw failures.list;
      const listed = Object.entries(secrets).map(([name, secret]) => ({
        name,
        enabled: secret.enabled ?? true,
        ...(secret.expiresOn ? { expiresOn: secret.expiresOn } : {}),
      }));
      for (let i = 0; i < listed.length; i += 2) yield listed.slice(i, i + 2);
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
    assert.deepEqual(seen.infos, ['SecretsLoaded:2 secrets|kv1']);
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

  it('exports what it set, and warns once that a file outside the temporary folder holds secrets', async () => {
    const { vault } = fakeVault({ a: { value: 'value-a' }, b: { value: 'line1\nline2' } });
    const { deps, seen } = harness(vault);
    await run(config(['*'], { export: { path: '/tmp/x/app.json', format: 'json', temporary: false } }), deps);
    assert.deepEqual(JSON.parse(seen.files.get('/tmp/x/app.json') ?? ''), {
      a: 'value-a',
      b: 'line1\nline2',
    });
    assert.deepEqual(seen.warnings, ['ExportHoldsSecrets:/tmp/x/app.json|2 secret values']);
  });

  it('says once, as an info line, that a file under Agent.TempDirectory holds a secret', async () => {
    const { vault } = fakeVault({ a: { value: 'value-a' } });
    const { deps, seen } = harness(vault);
    await run(
      config(['*'], { export: { path: '/agent/_temp/app.env', format: 'dotenv', temporary: true } }),
      deps,
    );
    assert.deepEqual(seen.warnings, []);
    assert.deepEqual(seen.infos, [
      'ExportInTempDirectory:/agent/_temp/app.env|1 secret value',
      'SecretsLoaded:1 secret|kv1',
    ]);
  });

  it('collapses Gets refused for want of permission into one line per kind, beside the other problems', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `s${String(i).padStart(2, '0')}`);
    const denied = forbidden('ForbiddenByRbac', 'Caller is not authorized to perform action on resource.');
    const { vault, calls } = fakeVault(Object.fromEntries(names.map((name) => [name, { value: 'v' }])), {
      get: denied,
    });
    const { deps, seen } = harness(vault);
    assert.deepEqual(await failures(run(config(['s*', 'nope', 's01 => ALSO']), deps)), [
      'SecretNotFound:nope|kv1',
      "RbacDeniedGetMany:30|kv1|s00', 's02', 's03",
    ]);
    assert.equal(calls.get.length, 30);
    assert.equal(seen.variables.size, 0);
    assert.match(seen.summary, /0 set, 0 skipped, 31 failed/);
  });

  it('names the access policy when it refuses, and keeps the one-secret line for one secret', async () => {
    const denied = forbidden(
      'AccessDenied',
      "The user, group or application 'x' does not have secrets get permission on key vault 'kv1'.",
    );
    const { vault } = fakeVault({ a: { value: 'value-a' }, b: { value: 'value-b' } }, { get: denied });
    assert.deepEqual(await failures(run(config(['*']), harness(vault).deps)), [
      "AccessPolicyDeniedGetMany:2|kv1|a', 'b",
    ]);
    assert.deepEqual(await failures(run(config(['a', 'a => AGAIN']), harness(vault).deps)), [
      'AccessPolicyDeniedGet:a|kv1',
    ]);
  });
});

// A vault whose listing pages arrive only when the test releases them, and whose gets take
// a few turns of the event loop each; it records the order of events and the gets in flight.
function pacedVault(pages: readonly (readonly string[])[]) {
  const events: string[] = [];
  const gets = { inFlight: 0, peak: 0 };
  let released = 0;
  let wake: (() => void) | undefined;
  const vault: VaultClient = {
    async *listSecretPages() {
      for (const [index, names] of pages.entries()) {
        while (released <= index) await new Promise<void>((resolve) => (wake = resolve));
        events.push(`page ${index}`);
        yield names.map((name) => ({ name, enabled: true }));
      }
    },
    async getSecret(name): Promise<FetchedSecret> {
      gets.peak = Math.max(gets.peak, ++gets.inFlight);
      events.push(`get ${name}`);
      for (let i = 0; i < 3; i++) await tick();
      gets.inFlight--;
      return { value: `value-of-${name}`, version, enabled: true };
    },
  };
  const releasePage = async (): Promise<void> => {
    released++;
    wake?.();
    for (let i = 0; i < 5; i++) await tick();
  };
  return { vault, events, gets, releasePage };
}

describe('KeyVaultSecrets run, fetching while the listing pages in', () => {
  const pages = [0, 1, 2].map((page) => Array.from({ length: 10 }, (_, i) => `p${page}-s${i}`));

  it('starts the gets of a page before the next page arrives, never above the bound', async () => {
    const paced = pacedVault(pages);
    const { deps, seen } = harness(paced.vault);
    const done = run(config(['*'], { concurrency: 3 }), deps);
    await paced.releasePage();
    assert.ok(
      paced.events.some((event) => event.startsWith('get ')),
      'no get started after the first page',
    );
    assert.ok(!paced.events.includes('page 1'));
    await paced.releasePage();
    await paced.releasePage();
    await done;
    assert.ok(paced.events.indexOf('get p0-s0') < paced.events.indexOf('page 2'));
    assert.equal(paced.gets.peak, 3);
    assert.equal(seen.variables.size, 30);
    assert.equal(seen.variables.get('p2-s9'), 'value-of-p2-s9');
    assert.equal(paced.events.filter((event) => event.startsWith('get ')).length, 30);
  });

  it('a pool of one keeps one get in flight while the listing goes on', async () => {
    const paced = pacedVault(pages);
    const { deps, seen } = harness(paced.vault);
    const done = run(config(['*'], { concurrency: 1 }), deps);
    for (let i = 0; i < pages.length; i++) await paced.releasePage();
    await done;
    assert.equal(paced.gets.peak, 1);
    assert.equal(seen.variables.size, 30);
  });

  it('fetches ahead only what the plan would fetch, each secret once', async () => {
    const expiresOn = new Date('2029-01-01T00:00:00Z');
    const { vault, calls } = fakeVault({
      'app-a': { value: 'value-a' },
      'app-off': { value: 'x', enabled: false },
      'app-old': { value: 'x', expiresOn },
      'legacy-x': { value: 'x' },
      other: { value: 'x' },
      named: { value: 'value-named' },
      pinned: { value: 'value-pinned' },
    });
    const { deps, seen } = harness(vault);
    await run(
      config(['app-*', '*-x', '!legacy-*', 'named => N', 'NAMED => M', `pinned/${version} => P`]),
      deps,
    );
    assert.deepEqual(calls.get, ['app-a', 'named', `pinned/${version}`]);
    assert.deepEqual([...seen.variables.keys()], ['app-a', 'N', 'M', 'P']);
  });

  it('drops a value fetched ahead for a secret the plan does not set', async () => {
    const { vault, calls } = fakeVault({
      'db-password': { value: 'first-value' },
      a: { value: 'value-a' },
      dbPassword: { value: 'second-value' },
    });
    const { deps, seen } = harness(vault);
    const problems = await failures(
      run(
        config(['*'], {
          naming: { mode: 'upperSnake', prefix: '' },
          export: { path: '/tmp/x/app.env', format: 'dotenv', temporary: false },
        }),
        deps,
      ),
    );
    assert.deepEqual(problems, ["VariableCollision:DB_PASSWORD|db-password', 'dbpassword"]);
    assert.deepEqual(calls.get, ['db-password', 'a', 'dbPassword']);
    assert.deepEqual([...seen.variables], [['A', 'value-a']]);
    const everything = JSON.stringify([
      [...seen.outputs],
      seen.warnings,
      seen.infos,
      [...seen.files],
      seen.summary,
    ]);
    assert.ok(!everything.includes('first-value') && !everything.includes('second-value'));
  });

  it('a listing that fails vault-wide after gets started waits for them, starts no more, and sets nothing', async () => {
    const paced = pacedVault(pages);
    const pagesThenFail: VaultClient = {
      ...paced.vault,
      async *listSecretPages() {
        for await (const page of paced.vault.listSecretPages()) {
          yield page;
          throw new VaultGaveUp('503', 1000);
        }
      },
    };
    const { deps, seen } = harness(pagesThenFail);
    const done = failures(run(config(['*'], { concurrency: 2 }), deps));
    await paced.releasePage();
    assert.deepEqual(await done, ['VaultGaveUp:kv1|503']);
    assert.equal(paced.gets.inFlight, 0);
    assert.ok(paced.events.filter((event) => event.startsWith('get ')).length <= 2);
    assert.equal(seen.variables.size, 0);
  });
});
