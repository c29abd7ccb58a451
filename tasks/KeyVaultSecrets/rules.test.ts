import assert from 'node:assert/strict';
import { needsListing, parseRule, parseRules, type Rule } from './rules';
import { TaskError } from '../shared/task-error';

const version = '0123456789abcdef0123456789abcdef';

describe('KeyVaultSecrets rules', () => {
  const accepted: { text: string; expect: Partial<Rule> & { kind: Rule['kind'] } }[] = [
    { text: '*', expect: { kind: 'glob' } },
    { text: 'app-*', expect: { kind: 'glob' } },
    { text: 'db-password', expect: { kind: 'exact', name: 'db-password', optional: false } },
    {
      text: 'db-password => DB_PASSWORD',
      expect: { kind: 'exact', name: 'db-password', variable: 'DB_PASSWORD' },
    },
    { text: 'db-password=>DB.PW', expect: { kind: 'exact', variable: 'DB.PW' } },
    { text: `db-password/${version} => DB_PW`, expect: { kind: 'exact', version, variable: 'DB_PW' } },
    { text: `db-password/${version.toUpperCase()}`, expect: { kind: 'exact', version } },
    { text: 'feature-flag?', expect: { kind: 'exact', name: 'feature-flag', optional: true } },
    { text: 'feature-flag? => FLAG', expect: { kind: 'exact', optional: true, variable: 'FLAG' } },
    { text: '!legacy-*', expect: { kind: 'exclude' } },
    { text: '! old', expect: { kind: 'exclude' } },
  ];
  for (const { text, expect } of accepted) {
    it(`accepts ${text}`, () => {
      const rule = parseRule(text);
      for (const [key, value] of Object.entries(expect)) {
        assert.deepEqual((rule as unknown as Record<string, unknown>)[key], value, key);
      }
    });
  }

  const rejected: { text: string; reason: RegExp }[] = [
    { text: 'db_password', reason: /1 to 127 letters, digits and dashes/ },
    { text: 'db-password =>', reason: /variable name/ },
    { text: 'a => B => C', reason: /at most one =>/ },
    { text: 'app-* => APP', reason: /cannot map to one variable/ },
    { text: 'app-*/abc', reason: /cannot pin a version/ },
    { text: 'db-password/v1', reason: /32 hex digits/ },
    { text: 'a/b/c', reason: /name or name\/version/ },
    { text: 'app-*?', reason: /\? is not needed/ },
    { text: '!', reason: /exclusion/ },
    { text: 'x => 1 2', reason: /variable name/ },
  ];
  for (const { text, reason } of rejected) {
    it(`rejects ${text}`, () => {
      assert.throws(
        () => parseRule(text),
        (error: unknown) =>
          error instanceof TaskError &&
          error.key === 'RuleMalformed' &&
          error.args[1] === text &&
          reason.test(String(error.args[2])),
      );
    });
  }

  it('splits lines and commas, and collects every malformed rule', () => {
    const { rules, errors } = parseRules(['a, b => B', '', 'bad_name, c?', '  ']);
    assert.deepEqual(
      rules.map((rule) => rule.text),
      ['a', 'b => B', 'c?'],
    );
    assert.deepEqual(
      errors.map((error) => error.args.slice(0, 2)),
      [[3, 'bad_name']],
    );
  });

  it('says a name or pattern is too long, on which line, and quotes only the start of it', () => {
    const long = `app-${'x'.repeat(200)}`;
    const { errors } = parseRules(['app-key', '', `db-password, ${long}*`]);
    assert.equal(errors.length, 1);
    const [line, text, reason] = errors[0]!.args;
    assert.equal(line, 3);
    assert.match(String(text), /^app-x+… \(\d+ more characters\)$/);
    assert.ok(String(text).length < 240);
    assert.match(String(reason), /at most 127 characters, and this one has 205/);
  });

  it('reports an input with no rules', () => {
    assert.deepEqual(
      parseRules([' , ']).errors.map((error) => error.key),
      ['RulesEmpty'],
    );
  });

  it('matches globs without case and lists only for wildcards', () => {
    const glob = parseRule('App-*');
    assert.ok(glob.kind === 'glob' && glob.matches('app-key') && !glob.matches('my-app-key'));
    assert.equal(needsListing([parseRule('a'), parseRule('!b')]), false);
    assert.equal(needsListing([parseRule('a'), parseRule('b-*')]), true);
  });
});
