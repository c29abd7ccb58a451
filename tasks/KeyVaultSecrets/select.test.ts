import assert from 'node:assert/strict';
import { parseRules } from './rules';
import { closestName, fetchesLatest, planSecrets, type ListedSecret } from './select';
import type { Naming } from './naming';

const now = new Date('2030-01-01T00:00:00Z');
const past = new Date('2029-06-01T00:00:00Z');
const asIs: Naming = { mode: 'asIs', prefix: '' };
const upper: Naming = { mode: 'upperSnake', prefix: '' };
const listing: ListedSecret[] = [
  { name: 'app-key', enabled: true },
  { name: 'app-old', enabled: false },
  { name: 'app-expired', enabled: true, expiresOn: past },
  { name: 'db-password', enabled: true },
  { name: 'legacy-token', enabled: true },
];

function plan(lines: string[], naming = asIs, listed: ListedSecret[] | null = listing) {
  return planSecrets(parseRules(lines).rules, listed ?? undefined, naming, 'kv1', now);
}

describe('KeyVaultSecrets selection', () => {
  it('wildcards skip disabled and expired secrets with one warning each, and exclusions apply', () => {
    const result = plan(['*', '!legacy-*']);
    assert.deepEqual(
      result.targets.map((target) => target.variable),
      ['app-key', 'db-password'],
    );
    assert.deepEqual(
      result.warnings.map((warning) => [warning.key, warning.args[0]]),
      [
        ['SecretDisabledSkipped', 'app-old'],
        ['SecretExpiredSkipped', 'app-expired'],
      ],
    );
    assert.equal(result.errors.length, 0);
  });

  it('an exact rule that names a disabled or expired secret is an error', () => {
    const result = plan(['app-old', 'app-expired']);
    assert.deepEqual(
      result.errors.map((error) => [error.key, ...error.args]),
      [
        ['SecretDisabled', 'app-old', 'kv1'],
        ['SecretExpired', 'app-expired', past.toISOString(), 'kv1'],
      ],
    );
  });

  it('explicit mappings win over wildcard names for the same secret', () => {
    const result = plan(['*', 'db-password => DB'], upper);
    assert.deepEqual(
      result.targets.map((target) => `${target.secretName}->${target.variable}`),
      ['app-key->APP_KEY', 'legacy-token->LEGACY_TOKEN', 'db-password->DB'],
    );
  });

  it('missing: optional is a note, required an error with a suggestion', () => {
    const result = plan(['app-*', 'db-pasword', 'nothing-like-it', 'maybe?']);
    assert.deepEqual(
      result.errors.map((error) => [error.key, ...error.args]),
      [
        ['SecretNotFoundDidYouMean', 'db-pasword', 'kv1', 'db-password'],
        ['SecretNotFound', 'nothing-like-it', 'kv1'],
      ],
    );
    assert.deepEqual(
      result.notes.map((note) => note.key),
      ['SecretOptionalMissing'],
    );
  });

  it('a glob that matches nothing warns', () => {
    assert.deepEqual(
      plan(['nope-*']).warnings.map((warning) => warning.key),
      ['RuleMatchedNothing'],
    );
  });

  it('two secrets mapped to one variable are an error naming both, and neither is set', () => {
    const listed = [...listing, { name: 'dbPassword', enabled: true }];
    const result = plan(['db-*', 'dbPassword'], upper, listed);
    assert.deepEqual(
      result.errors.map((error) => [error.key, ...error.args]),
      [['VariableCollision', 'DB_PASSWORD', "db-password', 'dbpassword"]],
    );
    assert.equal(result.targets.length, 0);
    assert.deepEqual(
      result.outcomes.map((outcome) => outcome.status),
      ['failed', 'failed'],
    );
  });

  it('explicit mappings collide too, case-insensitively', () => {
    const result = plan(['app-key => X', 'db-password => x']);
    assert.equal(result.errors[0]?.key, 'VariableCollision');
  });

  it('one secret may feed two variables', () => {
    const result = plan(['db-password => A', 'db-password => B']);
    assert.equal(result.targets.length, 2);
    assert.equal(result.errors.length, 0);
  });

  it('without a listing, exact rules go straight to fetching', () => {
    const result = plan(['whatever', 'x?'], asIs, null);
    assert.deepEqual(
      result.targets.map((target) => target.secretName),
      ['whatever', 'x'],
    );
  });

  it('suggests only close names', () => {
    assert.equal(closestName('db-pasword', ['app-key', 'db-password']), 'db-password');
    assert.equal(closestName('zzz', ['app-key', 'db-password']), undefined);
  });

  // What is fetched while the listing pages in must be what the plan fetches (collisions aside).
  const ruleSets = [
    ['*'],
    ['*', '!legacy-*'],
    ['app-*', 'db-password => DB'],
    ['app-old', 'app-expired', 'APP-KEY'],
    [`db-password/${'c'.repeat(32)} => PINNED`, '*'],
    ['app-*', 'legacy-token?', 'missing?', '!app-key'],
  ];
  for (const lines of ruleSets) {
    it(`fetches ahead exactly the latest values the plan fetches: ${lines.join(', ')}`, () => {
      const rules = parseRules(lines).rules;
      const planned = fetchesLatest(rules, now);
      const ahead = listing.filter(planned).map((secret) => secret.name.toLowerCase());
      const fetched = planSecrets(rules, listing, asIs, 'kv1', now)
        .targets.filter((target) => !target.version)
        .map((target) => target.secretName.toLowerCase());
      assert.deepEqual([...new Set(fetched)].sort(), ahead.sort());
    });
  }
});
