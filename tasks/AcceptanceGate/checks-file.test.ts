import * as assert from 'node:assert/strict';
import { parseChecks, type ChecksProblem, type PipelineVariable } from './checks-file';

const variables: Record<string, PipelineVariable> = {
  apiToken: { value: 'tok-123456789', secret: true },
  tenant: { value: 'contoso', secret: false },
};
const lookup = (name: string) => variables[name];

function problems(yaml: string): ChecksProblem[] {
  const parsed = parseChecks(yaml, 'checks.yaml', lookup);
  assert.equal(parsed.ok, false, 'expected problems');
  return parsed.ok ? [] : [...parsed.problems];
}

describe('checks file', () => {
  it('parses a complete file with defaults, every assertion kind and variables in headers', () => {
    const parsed = parseChecks(
      [
        'defaults:',
        '  headers:',
        '    Authorization: Bearer $(apiToken)',
        '  timeoutMs: 5000',
        'checks:',
        '  - name: health',
        '    path: /healthz',
        '  - name: create order',
        '    method: post',
        '    url: https://orders.example.com/api/orders',
        '    headers:',
        '      X-Tenant: $(tenant)',
        '    body: { sku: A1, quantity: 2 }',
        '    status: [201, 3xx]',
        '    maxLatencyMs: 800',
        '    repeat: 20',
        '    p95LatencyMs: 300',
        '    assertions:',
        '      - jsonPath: $.status',
        '        equals: created',
        '      - jsonPath: $.id',
        '        matches: ^[a-f0-9]+$',
        '      - regex: "\\"id\\""',
        '      - contains: created',
        '      - header: Content-Type',
        '        contains: json',
        '      - header: x-request-id',
        '        exists: true',
      ].join('\n'),
      'checks.yaml',
      lookup,
    );
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
    const [health, order] = parsed.checks;
    assert.deepEqual(health?.target, { path: '/healthz' });
    assert.deepEqual(health?.status, { codes: [], classes: [2] });
    assert.equal(health?.headers.authorization, 'Bearer tok-123456789');
    assert.equal(health?.timeoutMs, 5000);
    assert.equal(health?.source, 'checks.yaml:6');
    assert.equal(order?.method, 'POST');
    assert.equal(order?.body, '{"sku":"A1","quantity":2}');
    assert.equal(order?.headers['content-type'], 'application/json');
    assert.equal(order?.headers['x-tenant'], 'contoso');
    assert.deepEqual(order?.status, { codes: [201], classes: [3] });
    assert.equal(order?.repeat, 20);
    assert.equal(order?.p95LatencyMs, 300);
    assert.deepEqual(
      order?.assertions.map((a) => `${a.target}:${a.operator.op}`),
      [
        'jsonPath:equals',
        'jsonPath:matches',
        'body:matches',
        'body:contains',
        'header:contains',
        'header:exists',
      ],
    );
    assert.deepEqual(parsed.secretValues, ['tok-123456789'], 'only secret variables are secret values');
  });

  it('accepts a bare list of checks', () => {
    const parsed = parseChecks('- name: a\n  path: /a\n', 'inline', lookup);
    assert.ok(parsed.ok);
    assert.equal(parsed.checks.length, 1);
  });

  const cases: { name: string; yaml: string; line: number; field: string; problem: RegExp }[] = [
    {
      name: 'malformed YAML',
      yaml: 'checks:\n  - name: a\n    path: /a\n   bad: [1, 2\n',
      line: 4,
      field: '(yaml)',
      problem: /YAML syntax/,
    },
    {
      name: 'a JSONPath that does not compile',
      yaml: 'checks:\n  - name: a\n    path: /a\n    assertions:\n      - jsonPath: $.version[?(@ =~ /^1/\n        matches: x\n',
      line: 5,
      field: 'checks[0] (a).assertions[0].jsonPath',
      problem: /^is not a valid JSONPath: the "\(" at character 12 is not closed; close it with "\)"$/,
    },
    {
      name: 'a repeated key',
      yaml: 'checks:\n  - name: a\n    path: /a\n    path: /b\n',
      line: 4,
      field: '(yaml)',
      problem: /the key "path" is repeated in one mapping \(first on line 3\)/,
    },
    {
      name: 'an unknown assertion',
      yaml: 'checks:\n  - name: a\n    path: /a\n    assertions:\n      - jsonPath: $.x\n        startsWith: y\n',
      line: 6,
      field: 'checks[0] (a).assertions[0].startsWith',
      problem: /unknown assertion "startsWith"; accepted: jsonPath or header/,
    },
    {
      name: 'an unknown key',
      yaml: 'checks:\n  - name: a\n    path: /a\n    expect: 200\n',
      line: 4,
      field: 'checks[0].expect',
      problem: /unknown key; accepted: name, method/,
    },
    {
      name: 'a bad status',
      yaml: 'checks:\n  - name: a\n    path: /a\n    status: ok\n',
      line: 4,
      field: 'checks[0] (a).status',
      problem: /status such as 200.*it is "ok"/,
    },
    {
      name: 'no path or url',
      yaml: 'checks:\n  - name: a\n    method: GET\n',
      line: 2,
      field: 'checks[0] (a)',
      problem: /needs "path"/,
    },
    {
      name: 'a path without a slash',
      yaml: 'checks:\n  - name: a\n    path: healthz\n',
      line: 3,
      field: 'checks[0] (a).path',
      problem: /must start with "\/"/,
    },
    {
      name: 'a duplicate name',
      yaml: 'checks:\n  - name: a\n    path: /a\n  - name: a\n    path: /b\n',
      line: 4,
      field: 'checks[1].name',
      problem: /already used by checks\[0\]/,
    },
    {
      name: 'a p95 without repeats',
      yaml: 'checks:\n  - name: a\n    path: /a\n    p95LatencyMs: 100\n',
      line: 4,
      field: 'checks[0] (a).p95LatencyMs',
      problem: /needs "repeat"/,
    },
    {
      name: 'an unset variable',
      yaml: 'checks:\n  - name: a\n    path: /a\n    headers:\n      Authorization: Bearer $(missing)\n',
      line: 5,
      field: 'checks[0] (a).headers.Authorization',
      problem: /pipeline variable "missing", which is not set/,
    },
    {
      name: 'a bad regular expression',
      yaml: 'checks:\n  - name: a\n    path: /a\n    assertions:\n      - regex: "(unclosed"\n',
      line: 5,
      field: 'checks[0] (a).assertions[0].regex',
      problem: /not a valid regular expression/,
    },
    {
      name: 'a bad method',
      yaml: 'checks:\n  - name: a\n    path: /a\n    method: FETCH\n',
      line: 4,
      field: 'checks[0] (a).method',
      problem: /must be one of GET/,
    },
    {
      name: 'a body on GET',
      yaml: 'checks:\n  - name: a\n    path: /a\n    body: hello\n',
      line: 4,
      field: 'checks[0] (a).body',
      problem: /has no body/,
    },
    {
      name: 'no checks',
      yaml: 'checks: []\n',
      line: 1,
      field: 'checks',
      problem: /non-empty list/,
    },
    {
      name: 'a JSONPath without $',
      yaml: 'checks:\n  - name: a\n    path: /a\n    assertions:\n      - jsonPath: status\n        equals: ok\n',
      line: 5,
      field: 'checks[0] (a).assertions[0].jsonPath',
      problem: /must start with "\$"/,
    },
  ];
  for (const c of cases) {
    it(`reports ${c.name} with its file, line and field`, () => {
      const found = problems(c.yaml);
      const match = found.find((p) => p.field === c.field);
      assert.ok(match, `no problem for ${c.field}; got ${JSON.stringify(found)}`);
      assert.equal(match.file, 'checks.yaml');
      assert.equal(match.line, c.line);
      assert.match(match.problem, c.problem);
    });
  }

  it('reports every mistake, not just the first', () => {
    const found = problems(
      'checks:\n  - name: a\n    path: a\n  - name: b\n    path: /b\n    status: nope\n',
    );
    assert.deepEqual(
      found.map((p) => p.line),
      [3, 6],
    );
  });
});

describe('checks file at scale', function () {
  // A guard, not a benchmark: quadratic work (1 MB took 40 s once) fails it, noise does not.
  this.timeout(120_000);

  /** A checks file of about `bytes`: many checks, and one POST whose body is a large mapping. */
  function largeChecksFile(bytes: number): string {
    const checks: string[] = [];
    let size = 0;
    for (let index = 0; size < bytes / 10; index++) {
      const check = [
        `  - name: item ${index}`,
        `    path: /items/${index}`,
        '    headers:',
        '      Authorization: Bearer $(apiToken)',
        '    assertions:',
        `      - jsonPath: $.items[?(@.sku == 'A${index}')].quantity`,
        '        equals: 2',
      ].join('\n');
      checks.push(check);
      size += check.length + 1;
    }
    const fields: string[] = [];
    for (let index = 0; size < bytes; index++) {
      const field = `field${index}: value ${index}`;
      fields.push(field);
      size += field.length + 2;
    }
    checks.push(`  - name: bulk upload\n    method: POST\n    path: /bulk\n    body: {${fields.join(', ')}}`);
    return `checks:\n${checks.join('\n')}\n`;
  }

  function secondsToParse(text: string): number {
    const started = performance.now();
    const parsed = parseChecks(text, 'large.yaml', lookup);
    const seconds = (performance.now() - started) / 1000;
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems.slice(0, 3)));
    return seconds;
  }

  it('validates a 1 MB file in time that grows about as fast as its size', () => {
    const quarter = secondsToParse(largeChecksFile(256 * 1024));
    const whole = secondsToParse(largeChecksFile(1024 * 1024));
    assert.ok(whole < 10, `1 MB took ${whole.toFixed(1)} s`);
    // Four times the text may take about four times as long; quadratic work takes sixteen.
    assert.ok(whole < 12 * quarter + 0.5, `256 KB took ${quarter.toFixed(2)} s, 1 MB ${whole.toFixed(2)} s`);
  });
});
