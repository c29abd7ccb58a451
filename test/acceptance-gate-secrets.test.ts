import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runTask, type TaskRunResult } from './harness/agent';
import { paddedEchoPath, startStagingApp, type StagingApp } from './fixtures/staging-app';

/**
 * AcceptanceGate@1 quotes response bodies in its failures and cuts the quotes short. A
 * credential that a response echoes must be masked before the cut: once a cut has shortened
 * it, neither the gate nor the agent recognises what is left. Each run here sends one check
 * per offset, so that the echoed credential straddles every cut the gate makes (a quoted
 * JSON value, a quoted body), and then looks for any piece of it in everything written.
 */
describe('AcceptanceGate@1 keeps a cut-short secret out of everything it writes', function () {
  this.timeout(120_000);
  const repoRoot = resolve(__dirname, '..');
  // 46 characters, upper case and digits: no 4-character piece of it occurs in a log by chance.
  const token = 'QZ7VK2MX9PR4TW8YB3NF6HJ1CL5DG0SA7EU4IO2KM9XQ3R';
  // Past the longest cut (a quoted body, 160 characters) by more than the credential's length.
  const offsets = Array.from({ length: 231 }, (_, at) => at);
  let staging: StagingApp;

  before(() => {
    const built = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(built.status, 0, built.stderr);
  });
  beforeEach(async () => {
    staging = await startStagingApp();
  });
  afterEach(() => staging.stop());

  /** One check per offset: a wrong status quotes the body, a wrong value quotes the JSON value. */
  const checksFor = (authorization: string) =>
    [
      'defaults:',
      '  headers:',
      `    Authorization: ${authorization}`,
      'checks:',
      ...offsets.flatMap((at) => [
        `  - name: echo at ${at}`,
        `    path: ${paddedEchoPath}?at=${at}`,
        '    status: 201',
        '    assertions:',
        '      - jsonPath: $.text',
        '        equals: something else',
      ]),
    ].join('\n');

  function assertNoPieceOf(secret: string, run: TaskRunResult): void {
    const junit = readFileSync(run.publishedTestResults[0]?.properties.resultFiles ?? '', 'utf8');
    const written: [string, string][] = [
      ['raw output', run.stdout.replace(/^##vso\[task\.setsecret\].*$/gm, '')],
      ['raw error output', run.stderr],
      ['log', run.log],
      ['JUnit file', junit],
      ['summary', run.summaries[0]?.content ?? ''],
    ];
    for (const [where, text] of written) {
      for (let start = 0; start + 4 <= secret.length; start++) {
        const piece = secret.slice(start, start + 4);
        const at = text.indexOf(piece);
        assert.equal(at, -1, `the ${where} shows '${piece}': …${text.slice(Math.max(0, at - 60), at + 20)}`);
      }
    }
    assert.match(junit, /found &quot;\.+\*\*\*|found "\.+\*\*\*/, 'the quoted value is still shown, masked');
  }

  for (const node of ['node20', 'node24'] as const) {
    it(`from a secret variable (${node})`, async () => {
      const run = await runTask({
        task: 'AcceptanceGate',
        node,
        inputs: { baseUrl: staging.url, checks: checksFor('Bearer $(apiToken)') },
        secretVariables: { apiToken: token },
      });
      assert.equal(run.result?.status, 'Failed', run.log);
      assert.equal(staging.hits(paddedEchoPath), offsets.length);
      assertNoPieceOf(token, run);
    });
  }

  it('from a literal credential header, which is redacted but never registered', async () => {
    const run = await runTask({
      task: 'AcceptanceGate',
      inputs: { baseUrl: staging.url, checks: checksFor(`Bearer ${token}`) },
      secrets: [token],
    });
    assert.equal(run.result?.status, 'Failed', run.log);
    assert.ok(!run.secrets.includes(token), 'a literal header value is not registered with the agent');
    assertNoPieceOf(token, run);
  });
});
