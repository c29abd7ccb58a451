import assert from 'node:assert/strict';
import { expandMacros, macroNames, VariableScope } from './variables';

describe('runner: variables', () => {
  it('looks names up without case, inner scopes first', () => {
    const run = new VariableScope();
    run.set('Build.BuildId', '7');
    const job = run.child();
    job.set('build.buildid', '8');
    assert.equal(job.value('BUILD.BUILDID'), '8');
    assert.equal(run.value('build.buildId'), '7');
    assert.equal(job.get('build.buildid')?.name, 'Build.BuildId', 'the first spelling is kept');
  });

  it('keeps a secret secret when it is set again without the flag', () => {
    const scope = new VariableScope();
    scope.set('token', 'a', { secret: true });
    scope.set('token', 'b');
    assert.deepEqual(scope.get('token'), { name: 'token', value: 'b', secret: true, readonly: false });
    assert.deepEqual(scope.secretValues(), ['b']);
  });

  const macros: [string, string][] = [
    ['$(a)/$(B)', 'one/two'],
    ['$(missing) stays', '$(missing) stays'],
    ['$(a.b)', 'dotted'],
    ['$(nested)', '$(a)'],
    ['$[ variables.a ] and ${{ x }}', '$[ variables.a ] and ${{ x }}'],
    ['$( a)', '$( a)'],
  ];
  for (const [text, expanded] of macros) {
    it(`expands ${text} once`, () => {
      const values: Record<string, string> = { a: 'one', b: 'two', 'a.b': 'dotted', nested: '$(a)' };
      assert.equal(
        expandMacros(text, (name) => values[name.toLowerCase()]),
        expanded,
      );
    });
  }

  it('lists the macros a text refers to', () => {
    assert.deepEqual(macroNames('x $(A) $(b.c) $(A)'), ['A', 'b.c', 'A']);
  });
});
