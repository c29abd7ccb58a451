import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTask, type TaskRun } from './agent';
import { endsWithin } from '../support/processes';

/**
 * The harness end to end, on tiny fixture "tasks" written to a temp folder: a script that
 * prints `##vso` lines (some through task-lib itself, to prove the environment is the one
 * task-lib expects). No task bundles are needed.
 */
const fixtures = mkdtempSync(join(tmpdir(), 'harness-fixtures-'));
const taskLib = JSON.stringify(require.resolve('azure-pipelines-task-lib/task'));

function fixture(name: string, script: string): string {
  const dir = join(fixtures, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.js'), script);
  return dir;
}

// Killed processes whose parent died may linger as zombies when PID 1 does not reap them.
function run(task: string, options: Omit<TaskRun, 'task'> = {}) {
  return runTask({ task, ...options });
}

describe('harness: runTask', () => {
  it('passes inputs, variables, secret variables and connections the way task-lib reads them', async () => {
    const task = fixture(
      'env',
      `const tl = require(${taskLib});
       const seen = {
         input: tl.getInput('Key Vault.Name'),
         variable: tl.getVariable('Build.BuildId'),
         secret: tl.getVariable('db.password'),
         url: tl.getEndpointUrl('conn', false),
         scheme: tl.getEndpointAuthorizationScheme('conn', false),
         key: tl.getEndpointAuthorizationParameter('conn', 'serviceprincipalkey', false),
         auth: tl.getEndpointAuthorization('conn', false).parameters.tenantid,
         data: tl.getEndpointDataParameter('conn', 'subscriptionId', false),
         token: tl.getEndpointAuthorizationParameter('SYSTEMVSSCONNECTION', 'AccessToken', false),
         temp: tl.getVariable('Agent.TempDirectory'),
         cwd: process.cwd(),
         leftover: Object.keys(process.env).filter((k) => /^(INPUT|SECRET|ENDPOINT_AUTH)_/.test(k)),
         home: process.env.HOME,
       };
       tl.setVariable('seen', JSON.stringify(seen));
       tl.setResult(tl.TaskResult.Succeeded, 'ok');`,
    );
    const result = await run(task, {
      inputs: { 'Key Vault.Name': 'contoso-kv' },
      secretVariables: { 'db.password': 's3cret-db-pass' },
      accessToken: 'job-access-token-123',
      endpoints: {
        conn: {
          url: 'https://management.azure.test/',
          scheme: 'ServicePrincipal',
          parameters: {
            tenantid: 'tenant-1',
            serviceprincipalid: 'client-1',
            serviceprincipalkey: 'sp-key-value',
          },
          data: { subscriptionId: 'sub-1' },
        },
      },
    });
    assert.equal(result.exitCode, 0);
    assert.equal(result.agentResult, 'Succeeded');
    assert.deepEqual(result.result, { status: 'Succeeded', message: 'ok' });
    assert.deepEqual(JSON.parse(result.variables.get('seen')!.value), {
      input: 'contoso-kv',
      variable: '1234',
      secret: 's3cret-db-pass',
      url: 'https://management.azure.test/',
      scheme: 'ServicePrincipal',
      key: 'sp-key-value',
      auth: 'tenant-1',
      data: 'sub-1',
      token: 'job-access-token-123',
      temp: result.dirs.temp,
      cwd: result.dirs.sources,
      leftover: [],
      home: result.dirs.home,
    });
    assert.ok(result.secrets.includes('sp-key-value'));
    assert.ok(result.secrets.includes('job-access-token-123'));
  });

  it('reads commands from stderr too, and masks output from registration on', async () => {
    const task = fixture(
      'stderr',
      // stdout and stderr are two pipes, so the order the agent reads them in is only
      // certain when the writes are apart in time.
      `const pause = () => new Promise((resume) => setTimeout(resume, 100));
       (async () => {
         console.error('##vso[task.setsecret]late-secret-1');
         await pause();
         console.log('after late-secret-1');
         await pause();
         console.error('##vso[task.issue type=warning]careful');
       })();`,
    );
    const result = await run(task, { secrets: ['late-secret-1'] });
    assert.deepEqual(result.logLines, ['after ***', '##[warning]careful']);
    assert.equal(result.warnings[0]?.message, 'careful');
    assert.equal(result.agentResult, 'Succeeded');
  });

  it('reads attachment contents once the task has exited', async () => {
    const task = fixture(
      'attach',
      `const fs = require('fs'); const path = require('path');
       const file = path.join(process.env.AGENT_TEMPDIRECTORY, 'summary.md');
       fs.writeFileSync(file, '# first');
       console.log('##vso[task.uploadsummary]' + file);
       fs.writeFileSync(file, '# final');
       console.log('##vso[results.publish type=JUnit;runTitle=t%3B1;]' + file);`,
    );
    const result = await run(task);
    assert.equal(result.summaries[0]?.content, '# final');
    assert.deepEqual(result.publishedTestResults, [
      { properties: { type: 'JUnit', runTitle: 't;1' }, data: result.summaries[0]!.path },
    ]);
  });

  it('blocks commands in restricted mode with the agent warning', async () => {
    const task = fixture(
      'restricted',
      `console.log('##vso[task.uploadsummary]/nonexistent.md');
       console.log('##vso[task.setvariable variable=allowed]1');
       console.log('##vso[task.setvariable variable=denied]2');`,
    );
    const result = await run(task, { restrictedCommands: true, settableVariables: ['allowed'] });
    assert.equal(result.blockedCommands.length, 1);
    assert.deepEqual([...result.variables.keys()], ['allowed']);
    assert.equal(result.warnings.length, 2);
  });

  it('kills the whole process tree on timeout and says so', async () => {
    const task = fixture(
      'hang',
      `const child = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
       console.log('grandchild ' + child.pid);
       setInterval(() => {}, 1000);`,
    );
    const result = await run(task, { timeoutMs: 1_000 });
    assert.equal(result.timedOut, true);
    const grandchild = Number(/grandchild (\d+)/.exec(result.log)?.[1]);
    assert.ok(await endsWithin(grandchild), "the task's own child is gone too");
    assert.equal(result.exitCode, null);
    assert.equal(result.agentResult, 'Failed');
    assert.match(result.log, /timed out after 1000 ms/);
  });

  it('runs on the bundled Node 24', async () => {
    const task = fixture('version', `console.log(process.version);`);
    const result = await run(task, { node: 'node24' });
    assert.match(result.logLines[0]!, /^v24\./);
  });

  describe('leak check', () => {
    const leakCases: { name: string; script: string; options: Omit<TaskRun, 'task'>; where: RegExp }[] = [
      {
        name: 'a test secret printed before the task registers it',
        script: `console.log('value kv-value-1'); console.log('##vso[task.setsecret]kv-value-1');`,
        options: { secrets: ['kv-value-1'] },
        where: /test secret #1 \[kv…\(10 chars\)\] in raw stdout line 1, before it was registered/,
      },
      {
        name: 'a test secret set as a plain variable',
        script: `console.log('##vso[task.setvariable variable=x]kv-value-2');`,
        options: { secrets: ['kv-value-2'] },
        where: /never registered/,
      },
      {
        name: 'a connection key written to a file',
        script: `require('fs').writeFileSync(process.env.AGENT_TEMPDIRECTORY + '/creds.json', process.env.ENDPOINT_AUTH_PARAMETER_conn_SERVICEPRINCIPALKEY);`,
        options: {
          endpoints: {
            conn: {
              url: 'https://x.azure.test/',
              scheme: 'ServicePrincipal',
              parameters: { serviceprincipalkey: 'sp-key-abc' },
            },
          },
        },
        where:
          /connection conn parameter serviceprincipalkey \[sp…\(10 chars\)\] in file .*_temp\/creds\.json/,
      },
      {
        name: 'a secret variable written to a file under HOME',
        script: `require('fs').writeFileSync(process.env.HOME + '/.config', 'pw=' + require(${taskLib}).getVariable('pw'));`,
        options: { secretVariables: { pw: 'password-123' } },
        where: /secret variable pw .* in file .*home\/\.config/,
      },
    ];
    for (const { name, script, options, where } of leakCases) {
      it(`fails a run that leaks ${name}`, async () => {
        const task = fixture(name.replace(/\W+/g, '-'), script);
        await assert.rejects(run(task, options), (error: unknown) => {
          assert.ok(error instanceof AssertionError);
          assert.match(error.message, where);
          for (const value of ['kv-value-1', 'kv-value-2', 'sp-key-abc', 'password-123']) {
            assert.ok(!error.message.includes(value), 'the report must not show the value');
          }
          return true;
        });
      });
    }

    it('accepts a file the test declares as an expected secret file', async () => {
      const task = fixture(
        'export',
        `const tl = require(${taskLib});
         tl.setVariable('DB', 'exported-1', true);
         require('fs').writeFileSync(tl.getVariable('Agent.TempDirectory') + '/app.env', 'DB=exported-1\\n');`,
      );
      const result = await run(task, { secrets: ['exported-1'], expectedSecretFiles: ['app.env'] });
      assert.equal(result.variables.get('DB')?.secret, true);
      await assert.rejects(run(task, { secrets: ['exported-1'] }), AssertionError);
    });

    it('can be switched off for the harness tests themselves', async () => {
      const task = fixture('leaky', `console.log('kv-value-3');`);
      const result = await run(task, { secrets: ['kv-value-3'], skipLeakCheckForHarnessTests: true });
      assert.deepEqual(result.logLines, ['kv-value-3']);
    });
  });
});
