import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { assertNoLeaks, findLeaks, fingerprint, needles, type LeakCheckInput } from './leak-check';

const secret = { value: 'hunter2-hunter2', origin: 'test secret #1' };

function input(overrides: Partial<LeakCheckInput>): LeakCheckInput {
  return { secrets: [secret], trace: [], registered: [], logLines: [], files: new Map(), ...overrides };
}

describe('harness: leak check', () => {
  const cases: { name: string; input: LeakCheckInput; where: RegExp[] }[] = [
    {
      name: 'a secret registered before it is printed is fine',
      input: input({
        trace: [
          { stream: 'stdout', raw: `##vso[task.setsecret]${secret.value}`, registeredCount: 1 },
          { stream: 'stdout', raw: `value ${secret.value}`, registeredCount: 1 },
        ],
        registered: [secret.value],
        logLines: ['value ***'],
      }),
      where: [],
    },
    {
      name: 'a secret printed before its registration leaks',
      input: input({
        trace: [
          { stream: 'stderr', raw: `value ${secret.value}`, registeredCount: 0 },
          { stream: 'stdout', raw: `##vso[task.setsecret]${secret.value}`, registeredCount: 1 },
        ],
        registered: [secret.value],
      }),
      where: [/^raw stderr line 1, before it was registered as a secret$/],
    },
    {
      name: 'a secret that is never registered leaks wherever it appears',
      input: input({
        trace: [
          { stream: 'stdout', raw: `##vso[task.setvariable variable=x]${secret.value}`, registeredCount: 0 },
        ],
      }),
      where: [/^raw stdout line 1, and it is never registered$/],
    },
    {
      name: 'a secret in the masked log leaks',
      input: input({ registered: [secret.value], logLines: ['ok', `x ${secret.value}`] }),
      where: [/^masked log line 2$/],
    },
    {
      name: 'a secret in a file leaks',
      input: input({ files: new Map([['/run/_work/_temp/out.json', `{"v":"${secret.value}"}`]]) }),
      where: [/^file \/run\/_work\/_temp\/out\.json$/],
    },
  ];
  for (const { name, input: given, where } of cases) {
    it(name, () => {
      const leaks = findLeaks(given);
      assert.equal(leaks.length, where.length, JSON.stringify(leaks));
      leaks.forEach((leak, index) => assert.match(leak.where, where[index]!));
    });
  }

  it('looks for each line of a multi-line secret', () => {
    const multi = { value: 'first-line\nsecond-line\nab', origin: 'secret variable MULTI' };
    assert.deepEqual(needles(multi.value), [multi.value, 'first-line', 'second-line']);
    const leaks = findLeaks(input({ secrets: [multi], logLines: ['leaked second-line here'] }));
    assert.equal(leaks.length, 1);
    assert.equal(leaks[0]!.origin, 'secret variable MULTI (one line of it)');
  });

  it('counts only the private key of PEM text, not the certificate or armour', () => {
    const pem = [
      '-----BEGIN CERTIFICATE-----',
      'MIIBcertificatebody',
      '-----END CERTIFICATE-----',
      '-----BEGIN PRIVATE KEY-----',
      'MIIEvQprivatekeyline1',
      'privatekeyline2==',
      '-----END PRIVATE KEY-----',
    ].join('\n');
    assert.deepEqual(needles(pem), [pem, 'MIIEvQprivatekeyline1', 'privatekeyline2==']);
  });

  it('names where a secret leaked without ever printing it', () => {
    const leaky = input({ logLines: [secret.value], files: new Map([['/f', secret.value]]) });
    assert.throws(
      () => assertNoLeaks(leaky, 'Task X'),
      (error: unknown) => {
        assert.ok(error instanceof AssertionError);
        assert.ok(!error.message.includes(secret.value));
        assert.match(error.message, /Task X leaked secrets \(2\)/);
        assert.ok(error.message.includes(fingerprint(secret.value)));
        assert.match(error.message, /test secret #1 \[hu…\(15 chars\)\] in masked log line 1/);
        return true;
      },
    );
  });
});
