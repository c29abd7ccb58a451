import * as assert from 'node:assert/strict';
import { createRedactor } from '../shared/redaction';
import { evaluateAssertions, type ObservedResponse } from './assertions';

const noRedaction = (text: string): string => text;
import type { Assertion } from './checks';

const response: ObservedResponse = {
  status: 200,
  headers: { 'content-type': 'application/json; charset=utf-8', 'x-secret-echo': 'Bearer hunter2-token' },
  body: JSON.stringify({
    status: 'ok',
    version: '1.4.2',
    items: [
      { id: 'a1', ready: true },
      { id: 'b2', ready: false },
    ],
    count: 2,
  }),
};

const cases: { name: string; assertion: Assertion; failure?: RegExp }[] = [
  {
    name: 'jsonPath equals (string)',
    assertion: { target: 'jsonPath', path: '$.status', operator: { op: 'equals', value: 'ok' } },
  },
  {
    name: 'jsonPath equals (number)',
    assertion: { target: 'jsonPath', path: '$.count', operator: { op: 'equals', value: 2 } },
  },
  {
    name: 'jsonPath equals fails',
    assertion: { target: 'jsonPath', path: '$.status', operator: { op: 'equals', value: 'down' } },
    failure: /\$\.status: expected "down", found "ok"/,
  },
  {
    name: 'jsonPath equals on nothing',
    assertion: { target: 'jsonPath', path: '$.missing', operator: { op: 'equals', value: 1 } },
    failure: /found nothing/,
  },
  {
    name: 'jsonPath matches',
    assertion: { target: 'jsonPath', path: '$.version', operator: { op: 'matches', pattern: /^1\.\d+/ } },
  },
  {
    name: 'jsonPath matches fails',
    assertion: { target: 'jsonPath', path: '$.version', operator: { op: 'matches', pattern: /^2\./ } },
    failure: /expected a match for \/\^2\\.\/, found "1.4.2"/,
  },
  {
    name: 'jsonPath filter expression',
    assertion: {
      target: 'jsonPath',
      path: '$.items[?(@.ready)].id',
      operator: { op: 'equals', value: 'a1' },
    },
  },
  {
    name: 'jsonPath exists',
    assertion: { target: 'jsonPath', path: '$.items[1]', operator: { op: 'exists', present: true } },
  },
  {
    name: 'jsonPath exists fails',
    assertion: { target: 'jsonPath', path: '$.nothing', operator: { op: 'exists', present: true } },
    failure: /expected a value, found none/,
  },
  {
    name: 'jsonPath contains (array)',
    assertion: { target: 'jsonPath', path: '$.items[*].id', operator: { op: 'contains', text: 'b2' } },
  },
  {
    name: 'body regex',
    assertion: { target: 'body', operator: { op: 'matches', pattern: /"ready":\s*true/ } },
  },
  {
    name: 'body regex fails',
    assertion: { target: 'body', operator: { op: 'matches', pattern: /maintenance/ } },
    failure: /body: expected a match/,
  },
  { name: 'body contains', assertion: { target: 'body', operator: { op: 'contains', text: '"version"' } } },
  {
    name: 'body contains fails',
    assertion: { target: 'body', operator: { op: 'contains', text: 'degraded' } },
    failure: /body: expected it to contain "degraded"/,
  },
  {
    name: 'header equals',
    assertion: {
      target: 'header',
      name: 'content-type',
      operator: { op: 'equals', value: 'application/json; charset=utf-8' },
    },
  },
  {
    name: 'header matches',
    assertion: {
      target: 'header',
      name: 'content-type',
      operator: { op: 'matches', pattern: /^application\/json/ },
    },
  },
  {
    name: 'header contains',
    assertion: { target: 'header', name: 'content-type', operator: { op: 'contains', text: 'json' } },
  },
  {
    name: 'header absent',
    assertion: { target: 'header', name: 'server', operator: { op: 'exists', present: false } },
  },
  {
    name: 'header missing',
    assertion: { target: 'header', name: 'etag', operator: { op: 'equals', value: 'x' } },
    failure: /header etag: missing/,
  },
  {
    name: 'header mismatch never quotes the value',
    assertion: { target: 'header', name: 'x-secret-echo', operator: { op: 'equals', value: 'Bearer other' } },
    failure: /^header x-secret-echo: its value does not equal the expected one$/,
  },
];

describe('assertions', () => {
  for (const c of cases) {
    it(c.name, () => {
      const failures = evaluateAssertions([c.assertion], response, noRedaction);
      if (c.failure) {
        assert.equal(failures.length, 1, JSON.stringify(failures));
        assert.match(failures[0] as string, c.failure);
        assert.doesNotMatch(failures[0] as string, /hunter2/);
      } else {
        assert.deepEqual(failures, []);
      }
    });
  }

  it('reports a JSONPath on a body that is not JSON', () => {
    const failures = evaluateAssertions(
      [{ target: 'jsonPath', path: '$.a', operator: { op: 'exists', present: true } }],
      {
        ...response,
        body: '<html>',
      },
      noRedaction,
    );
    assert.deepEqual(failures, ['$.a: the body is not JSON']);
  });

  it('redacts a quoted value before cutting it, wherever the secret falls', () => {
    const token = 'QZ7VK2MX9PR4TW8YB3NF6HJ1CL5DG0SA7EU4IO2KM9XQ';
    const redact = createRedactor([token]);
    for (let offset = 0; offset <= 90; offset++) {
      const echoed = `${'.'.repeat(offset)}Bearer ${token}${'.'.repeat(40)}`;
      const [failure = ''] = evaluateAssertions(
        [{ target: 'jsonPath', path: '$.echo', operator: { op: 'equals', value: 'x' } }],
        { ...response, body: JSON.stringify({ echo: echoed }) },
        redact,
      );
      for (let start = 0; start + 4 <= token.length; start++) {
        assert.ok(!failure.includes(token.slice(start, start + 4)), `offset ${offset}: ${failure}`);
      }
    }
  });
});
