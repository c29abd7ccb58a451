import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runTask, type TaskRun, type TaskRunResult } from './harness/agent';
import { endsWithin } from './support/processes';
import { startEmulatedCloud, type EmulatedCloud } from './emulators/cloud';
import { EmulatedLogAnalytics } from './emulators/log-analytics';
import { startStagingApp, type StagingApp } from './fixtures/staging-app';

const repoRoot = resolve(__dirname, '..');
const mochaBin = join(repoRoot, 'node_modules', 'mocha', 'bin', 'mocha.js');
const apiToken = 'gate-api-token-5e9a1c';
const tenantId = '72f988bf-0000-4000-8000-0000000000bb';
const app = { clientId: '55555555-0000-4000-8000-000000000005', secret: 'gate-connection-secret' };

const checksFile = `
defaults:
  headers:
    Authorization: Bearer $(apiToken)
checks:
  - name: health
    path: /healthz
    assertions:
      - jsonPath: $.status
        equals: ok
      - header: content-type
        matches: ^application/json
  - name: version
    path: /healthz
    repeat: 5
    p95LatencyMs: 5000
    assertions:
      - jsonPath: $.version
        matches: ^1\\.
      - regex: '"status":\\s*"ok"'
      - contains: version
  - name: caller is authorised
    path: /echo
    assertions:
      - jsonPath: $.headers.authorization
        exists: true
`;

describe('AcceptanceGate@1 (bundled, run as the agent runs it)', function () {
  this.timeout(120_000);
  let staging: StagingApp;

  before(() => {
    const built = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(built.status, 0, built.stderr);
  });
  beforeEach(async () => {
    staging = await startStagingApp({
      '/healthz': { body: { status: 'ok', version: '1.4.2' } },
      '/ready': { body: 'ready' },
    });
  });
  afterEach(() => staging.stop());

  const gate = (inputs: Record<string, string>, extra: Partial<TaskRun> = {}): Promise<TaskRunResult> =>
    runTask({
      task: 'AcceptanceGate',
      inputs: { baseUrl: staging.url, ...inputs },
      secretVariables: { apiToken },
      ...extra,
      prepare: (dirs) => writeFileSync(join(dirs.sources, 'acceptance-checks.yaml'), checksFile),
    });
  const errorLines = (run: TaskRunResult) => run.errors.map((e) => e.message);

  for (const node of ['node20', 'node24'] as const) {
    it(`passes, publishes one JUnit file and a summary, and sets the output variables (${node})`, async () => {
      const run = await gate({ checks: 'acceptance-checks.yaml' }, { node });
      assert.equal(run.result?.status, 'Succeeded', run.log);
      assert.match(run.result?.message ?? '', /passed: 100%/);
      assert.equal(run.outputVariables.get('passRate')?.value, '100');
      assert.equal(run.outputVariables.get('verdict')?.value, 'Passed');
      const [published] = run.publishedTestResults;
      assert.equal(published?.properties.type, 'JUnit');
      const junit = readFileSync(published?.properties.resultFiles ?? '', 'utf8');
      assert.match(junit, /<testcase classname="Acceptance checks" name="caller is authorised"/);
      assert.equal(run.summaries.length, 1);
      assert.equal(
        run.summaries[0]?.name,
        `Acceptance gate (${new URL(staging.url).host.replace(':', '-')}).md`,
      );
      assert.match(run.summaries[0]?.content ?? '', /## Acceptance gate: ✅ passed/);
      assert.doesNotMatch(run.summaries[0]?.content ?? '', /<svg/);
      assert.equal(
        staging.requests.filter((r) => r.path === '/echo')[0]?.headers.authorization,
        `Bearer ${apiToken}`,
      );
    });
  }

  it('keeps header secrets out of the log, the JUnit file and the summary, even when a response echoes them', async () => {
    const run = await gate({
      checks: [
        'checks:',
        '  - name: echo leaks the token',
        '    path: /echo',
        '    headers:',
        '      X-Api-Key: $(apiToken)',
        '    assertions:',
        '      - jsonPath: $.headers.x-api-key',
        '        equals: something-else',
        '      - jsonPath: $.headers',
        '        contains: nothing',
      ].join('\n'),
    });
    assert.equal(run.result?.status, 'Failed');
    const junit = readFileSync(run.publishedTestResults[0]?.properties.resultFiles ?? '', 'utf8');
    assert.match(
      junit,
      /expected &quot;something-else&quot;, found &quot;\*\*\*&quot;|expected "something-else", found "\*\*\*"/,
    );
    // Raw stdout holds the value once, in the command that registers it as a secret.
    const rawOutput = run.stdout
      .split('\n')
      .filter((line) => !line.startsWith('##vso[task.setsecret]'))
      .join('\n');
    for (const text of [rawOutput, run.stderr, run.log, junit, run.summaries[0]?.content ?? '']) {
      assert.ok(!text.includes(apiToken), 'the token leaked');
    }
    assert.ok(run.secrets.includes(apiToken), 'the header value is registered as a secret');
  });

  it('registers only secret variables with the agent, never literal header values or plain variables', async () => {
    const run = await gate(
      {
        checks: [
          'checks:',
          '  - name: create',
          '    method: POST',
          '    path: /echo',
          '    headers:',
          '      Authorization: Bearer literal-credential-value',
          '      X-Tenant: $(tenant)',
          '      X-Key: $(apiToken)',
          '    body: { sku: A1 }',
        ].join('\n'),
      },
      { variables: { tenant: 'contoso-production' } },
    );
    assert.equal(run.result?.status, 'Succeeded', run.log);
    const registered = run.commands.filter((c) => c.area === 'task' && c.event === 'setsecret');
    assert.deepEqual(
      registered.map((c) => c.data),
      [apiToken],
    );
    for (const value of ['application/json', 'contoso-production', 'literal-credential-value']) {
      assert.ok(!run.secrets.includes(value), `${value} must not be masked in later steps`);
    }
    assert.equal(staging.requests[0]?.headers['content-type'], 'application/json');
  });

  it('waits for readiness with backoff before any check runs', async () => {
    staging.flap('/ready', 2);
    const run = await gate({
      checks: 'acceptance-checks.yaml',
      waitUntilReady: '/ready',
      readinessTimeoutSeconds: '60',
    });
    assert.equal(run.result?.status, 'Succeeded', run.log);
    assert.equal(staging.hits('/ready'), 3);
    const firstCheck = staging.requests.findIndex((r) => r.path !== '/ready');
    assert.equal(firstCheck, 3, 'checks start only after the deployment is ready');
    assert.match(run.summaries[0]?.content ?? '', /Ready after \d+ s \(3 polls of /);
  });

  it('fails when readiness times out, and runs no check', async () => {
    staging.fail('/ready', 503);
    const run = await gate({
      checks: 'acceptance-checks.yaml',
      waitUntilReady: '/ready',
      readinessTimeoutSeconds: '2',
    });
    assert.equal(run.result?.status, 'Failed');
    assert.match(
      errorLines(run).join('\n') + run.result?.message,
      /\/ready was not ready within 2 s \(\d+ polls; last: status 503\)/,
    );
    assert.equal(staging.requests.filter((r) => r.path !== '/ready').length, 0);
    assert.equal(run.outputVariables.get('verdict')?.value, 'Failed');
    assert.equal(run.outputVariables.get('passRate')?.value, '0', 'a gate that ran nothing has no pass rate');
    const summary = run.summaries[0]?.content ?? '';
    assert.match(summary, /\*\*Nothing ran\*\*: .*\/ready was not ready within 2 s, so no check or test ran/);
    assert.doesNotMatch(summary, /Pass rate/);
  });

  it('reports 0% when the test run leaves only stale results', async () => {
    const run = await runTask({
      task: 'AcceptanceGate',
      inputs: { baseUrl: staging.url, testCommand: 'exit 0', testResults: 'results/TEST-*.xml' },
      prepare: (dirs) => {
        mkdirSync(join(dirs.sources, 'results'));
        const old = join(dirs.sources, 'results', 'TEST-old.xml');
        writeFileSync(old, '<testsuite name="old"><testcase name="passed long ago"/></testsuite>');
        utimesSync(old, new Date('2024-01-01'), new Date('2024-01-01'));
      },
    });
    assert.equal(run.result?.status, 'Failed');
    assert.match(run.result?.message ?? '', /Only files from before this run match the test results glob/);
    assert.equal(run.outputVariables.get('passRate')?.value, '0');
    assert.match(run.summaries[0]?.content ?? '', /\*\*Nothing ran\*\*: no check or test result was counted/);
    assert.match(run.log, /no check or test ran \(0 skipped\), so passRate is 0/);
  });

  it('retries a flapping check and reports it as flaky, passing the gate', async () => {
    staging.flap('/healthz', 1);
    const run = await gate({ checks: '- name: health\n  path: /healthz\n', retryFailed: '2' });
    assert.equal(run.result?.status, 'Succeeded', run.log);
    assert.match(run.result?.message ?? '', /0 passed, 1 flaky/);
    assert.match(
      run.summaries[0]?.content ?? '',
      /\| health \| ⚠️ flaky \| [█▏▎▍▌▋▊▉]+ \| \d+ ms \| – \| 2 \|/,
    );
  });

  it('merges a real mocha suite (xunit reporter) into the one JUnit file, and its failures count', async () => {
    const run = await runTask({
      task: 'AcceptanceGate',
      inputs: {
        baseUrl: staging.url,
        checks: '- name: health\n  path: /healthz\n',
        testCommand: `"${process.execPath}" "${mochaBin}" --no-config --reporter xunit --reporter-option output=results/TEST-acceptance.xml acceptance.spec.js`,
        testResults: 'results/TEST-*.xml',
        minPassRate: '60',
      },
      prepare: (dirs) =>
        writeFileSync(
          join(dirs.sources, 'acceptance.spec.js'),
          `const assert = require('node:assert');
           describe('orders api', () => {
             it('reaches staging', async () => {
               const response = await fetch(process.env.STAGING_BASE_URL + '/healthz');
               assert.strictEqual(response.status, 200);
             });
             it('has a refund endpoint', async () => {
               const response = await fetch(process.env.STAGING_BASE_URL + '/refunds');
               assert.strictEqual(response.status, 200, 'refunds answered ' + response.status);
             });
           });`,
        ),
    });
    assert.equal(run.result?.status, 'Succeeded', run.log);
    assert.equal(run.outputVariables.get('passRate')?.value, '66.66');
    const junit = readFileSync(run.publishedTestResults[0]?.properties.resultFiles ?? '', 'utf8');
    assert.match(junit, /<testsuite name="Acceptance checks"/);
    assert.match(
      junit,
      /<testcase classname="orders api" name="has a refund endpoint"[^>]*>\s*<failure message="refunds answered 404/,
    );
    assert.match(run.summaries[0]?.content ?? '', /\| Mocha Tests \| 1 \| 0 \| 1 \| 0 \|/);
  });

  describe('test command time limit (on a clock 600 times faster)', () => {
    const fastClock = {
      NODE_OPTIONS: `--require ${join(repoRoot, 'test', 'fixtures', 'fast-clock.cjs')}`,
      GATE_CLOCK_SPEEDUP: '60',
    };

    for (const node of ['node20', 'node24'] as const) {
      it(`stops a command that never ends, with all it started, says so, and shows progress meanwhile (${node})`, async () => {
        const run = await runTask({
          task: 'AcceptanceGate',
          node,
          inputs: {
            baseUrl: staging.url,
            testCommand: 'sleep 600 & echo $! > background.pid; sleep 600',
            testTimeoutMinutes: '2',
          },
          env: fastClock,
          timeoutMs: 20_000,
        });
        assert.equal(run.result?.status, 'Failed', run.log);
        assert.match(
          run.result?.message ?? '',
          /^The test command 'sleep 600 & .*' did not finish within 2 minutes, so it was stopped with every process it started\. .*raise testTimeoutMinutes\.$/,
        );
        const progress = run.logLines.filter((line) => /^The test command is still running \(/.test(line));
        assert.ok(progress.length >= 2, run.log);
        assert.match(progress[0] ?? '', /\(\d+ s of at most 2 min\)/);
        assert.ok(run.durationMs < 15_000, `took ${run.durationMs} ms`);
        const background = Number(readFileSync(join(run.dirs.sources, 'background.pid'), 'utf8'));
        assert.ok(await endsWithin(background), 'the background child of the command was stopped');
        assert.equal(run.outputVariables.get('passRate')?.value, '0');
        assert.equal(run.outputVariables.get('verdict')?.value, 'Failed');
      });
    }
  });

  describe('restricted command mode', () => {
    it('says so once, publishes nothing it cannot, and still decides the verdict', async () => {
      staging.fail('/healthz', 500);
      const run = await gate(
        { checks: 'acceptance-checks.yaml', commandsRestricted: 'true' },
        { restrictedCommands: true },
      );
      assert.equal(run.result?.status, 'Failed');
      assert.equal(run.warnings.filter((w) => /restricted command mode/.test(w.message)).length, 1);
      assert.deepEqual(run.blockedCommands, []);
      assert.equal(run.outputVariables.get('verdict')?.value, 'Failed');
      assert.match(run.log, /## Acceptance gate: ❌ failed/, 'the summary is in the log instead');
    });

    it('decides the verdict even when the pipeline does not declare the mode', async () => {
      const run = await gate({ checks: 'acceptance-checks.yaml' }, { restrictedCommands: true });
      assert.equal(run.result?.status, 'Succeeded');
      assert.deepEqual(run.blockedCommands.map((c) => `${c.command.area}.${c.command.event}`).sort(), [
        'results.publish',
        'task.uploadsummary',
      ]);
      assert.equal(run.outputVariables.get('verdict')?.value, 'Passed');
    });
  });

  describe('health in Azure Monitor (the emulated workspace runs the KQL over its tables)', () => {
    let cloud: EmulatedCloud;
    let logs: EmulatedLogAnalytics;
    /** Each test's own workspace, so that one test's rows never reach another's queries. */
    let workspace: string;
    before(async () => {
      cloud = await startEmulatedCloud();
      logs = new EmulatedLogAnalytics((token, audience) => cloud.entra.verifyAccessToken(token, audience));
      cloud.azure.register('loganalytics.azure.test', logs.handler);
      cloud.entra.addApp(tenantId, { clientId: app.clientId, secrets: [app.secret] });
    });
    after(() => cloud.azure.stop());
    // The release started 10 minutes ago; the previous one served the 10 minutes before.
    let deployStart: number;
    beforeEach(() => {
      workspace = randomUUID();
      logs.addWorkspace(workspace);
      deployStart = Date.now() - 10 * 60_000;
    });
    const sent = () => logs.queries.filter((query) => query.target === workspace);

    /** What Container Insights and Application Insights wrote about the release (and the one before). */
    interface Telemetry {
      readonly restarts?: number;
      readonly errorLines?: number;
      /** Durations of this release's requests (ms); 1 in `failedEvery` answers 500. */
      readonly durations?: readonly number[];
      readonly failedEvery?: number;
      /** Durations of the previous release's requests, before the deploy. */
      readonly previousDurations?: readonly number[];
    }
    const releasePods = [
      { name: 'orders-5d8f9c7b4-x1', uid: '11111111-0000-4000-8000-000000000001' },
      { name: 'orders-5d8f9c7b4-x2', uid: '11111111-0000-4000-8000-000000000002' },
    ];
    function seed(telemetry: Telemetry): void {
      const at = deployStart + 5 * 60_000;
      const pod = (name: string, uid: string, hash: string, restarts: number) => ({
        TimeGenerated: at,
        ClusterName: 'aks-staging',
        Namespace: 'shop',
        Name: name,
        PodUid: uid,
        PodLabel: JSON.stringify([{ app: 'orders', 'pod-template-hash': hash }]),
        PodStatus: 'Running',
        ContainerName: `${uid}/orders`,
        ContainerStatus: 'running',
        ContainerRestartCount: restarts,
        ContainerLastStatus: '{}',
      });
      logs.ingest(workspace, 'KubePodInventory', [
        ...releasePods.map((p, index) =>
          pod(p.name, p.uid, '5d8f9c7b4', index === 0 ? (telemetry.restarts ?? 0) : 0),
        ),
        // The previous release's pod, still in the namespace: not this release's.
        pod('orders-4a1b2c3d-old', '22222222-0000-4000-8000-000000000001', '4a1b2c3d', 7),
      ]);
      logs.ingest(
        workspace,
        'ContainerLogV2',
        Array.from({ length: 20 }, (_, index) => ({
          TimeGenerated: at,
          PodName: releasePods[index % 2]?.name,
          PodNamespace: 'shop',
          ContainerName: 'orders',
          LogSource: 'stdout',
          LogMessage:
            index < (telemetry.errorLines ?? 0) ? `ERROR order ${index} failed` : `served order ${index}`,
        })),
      );
      const request = (durationMs: number, index: number, version: string, time: number) =>
        logs.recordRequest(workspace, {
          TimeGenerated: time,
          AppRoleName: 'orders',
          AppVersion: version,
          Name: 'GET /orders',
          DurationMs: durationMs,
          ResultCode: telemetry.failedEvery && index % telemetry.failedEvery === 0 ? '500' : '200',
        });
      (telemetry.durations ?? []).forEach((ms, index) => request(ms, index + 1, '1.4.2', at));
      (telemetry.previousDurations ?? []).forEach((ms, index) =>
        request(ms, index + 1, '1.4.1', deployStart - 5 * 60_000),
      );
    }
    const steady = Array.from({ length: 100 }, (_, index) => 100 + index * 2); // p95 around 290 ms

    const release = {
      clusterName: 'aks-staging',
      namespace: 'shop',
      podTemplateHash: '5d8f9c7b4',
      appRoleName: 'orders',
      appVersion: '1.4.2',
    };
    const withHealth = (inputs: Record<string, string>, extra: Partial<TaskRun> = {}) =>
      gate(
        {
          checks: '- name: health\n  path: /healthz\n',
          azureSubscription: 'staging-connection',
          logAnalyticsWorkspaceId: workspace,
          logAnalyticsEndpoint: cloud.azure.url('loganalytics.azure.test', ''),
          ...inputs,
        },
        {
          env: { ...cloud.azure.env(), ...extra.env },
          variables: { 'System.PipelineStartTime': new Date(deployStart).toISOString() },
          endpoints: {
            'staging-connection': cloud.servicePrincipalEndpoint({ tenantId, ...app }),
          },
          ...(extra.node ? { node: extra.node } : {}),
        },
      );
    // After the emulators' own preload (loopback DNS), which NODE_OPTIONS must keep. 60 times faster,
    // not 600: sign-in's connect timeout (10 s) must still fit a TLS handshake on a busy machine.
    const fastClock = () => ({
      NODE_OPTIONS: `${cloud.azure.env().NODE_OPTIONS ?? ''} --require ${join(repoRoot, 'test', 'fixtures', 'fast-clock.cjs')}`,
      GATE_CLOCK_SPEEDUP: '60',
    });

    for (const node of ['node20', 'node24'] as const) {
      it(`passes a healthy release on the default thresholds, scoped to its pods, role and version (${node})`, async () => {
        seed({ durations: steady });
        const run = await withHealth(release, { node });
        assert.equal(run.result?.status, 'Succeeded', run.log);
        assert.equal(run.outputVariables.get('verdict')?.value, 'Passed');
        assert.equal(run.outputVariables.get('score')?.value, '100');
        const queries = sent();
        assert.equal(queries.length, 6, 'six metrics, each once, each finding the pods itself');
        const containerInsights = queries.filter((q) => q.query.includes('KubePodInventory'));
        assert.equal(containerInsights.length, 4);
        assert.ok(containerInsights.every((q) => q.query.includes("PodLabel has_any ('5d8f9c7b4')")));
        assert.match(
          queries.map((q) => q.query).join('\n'),
          /AppRoleName == 'orders' and AppVersion == '1\.4\.2'/,
        );
        assert.ok(queries.every((q) => q.timespan?.startsWith(new Date(deployStart).toISOString())));
        const summary = run.summaries[0]?.content ?? '';
        assert.match(summary, /^## Acceptance gate: ✅ passed/);
        assert.match(summary, /Score \*\*100\*\* of 100 over 6 of 6 metrics with data/);
        assert.match(
          summary,
          /\| error log lines `errorLogLines` \| Container Insights \| 0 \| <= 0 \| <= 5 \| – \| 1 \| ✅ passed \|/,
        );
        assert.match(
          summary,
          /\| restarts `restarts` \| Container Insights \| 0 \|/,
          "the old release's 7 restarts are not this one's",
        );
      });

      it(`fails a release whose pods restart although its HTTP checks pass (${node})`, async () => {
        seed({ durations: steady, restarts: 3 });
        const run = await withHealth(release, { node });
        assert.equal(run.result?.status, 'Failed', run.log);
        assert.equal(run.outputVariables.get('verdict')?.value, 'Failed');
        assert.equal(run.outputVariables.get('passRate')?.value, '100');
        assert.equal(run.outputVariables.get('score')?.value, '83.3');
        assert.match(
          run.result?.message ?? '',
          /^Health in Azure Monitor: restarts \(restarts\) is 3, which fails its threshold \(pass <= 0\)\. Look at the release/,
        );
      });

      it(`is Inconclusive when no telemetry arrives within the wait, saying what to check (on a clock 60 times faster) (${node})`, async () => {
        // No HTTP check: on this clock a request's 30 s timeout would pass in half a second.
        const run = await withHealth(
          { ...release, checks: '', healthWaitMinutes: '1' },
          { node, env: fastClock() },
        );
        assert.equal(run.result?.status, 'SucceededWithIssues', run.log);
        assert.equal(run.outputVariables.get('verdict')?.value, 'Inconclusive');
        assert.equal(run.outputVariables.get('score')?.value, '0');
        const progress = run.logLines.filter((line) => /^Health: no data yet for /.test(line));
        assert.ok(progress.length >= 3, run.log);
        assert.match(
          progress[0] ?? '',
          /^Health: no data yet for failedRatePercent, p95DurationMs, restarts, oomKilled, podsNotReady, errorLogLines; no answer shows the release's pods in KubePodInventory yet\. Asking again in 10 s \(\d+ s left of 1 minute\)\.$/,
        );
        assert.ok(
          run.warnings.some((w) =>
            /^Health in Azure Monitor: no data for restarts \(restarts\) arrived within 1 minute, so it is inconclusive\. Check that Container Insights is enabled on cluster aks-staging/.test(
              w.message,
            ),
          ),
          run.warnings.map((w) => w.message).join('\n'),
        );
        assert.match(
          run.result?.message ?? '',
          /^The acceptance gate's verdict is Inconclusive \(health score 0, pass rate 0%\)/,
        );
        assert.match(run.summaries[0]?.content ?? '', /No data arrived within 1 min for `failedRatePercent`/);
        // Every round asks each of the six metrics once, all at once.
        assert.equal(sent().length, 6 * (progress.length + 1));
      });
    }

    it('waits for telemetry that arrives late (on a clock 60 times faster)', async () => {
      // Visible 1.5 s (real) after it is written: some rounds find nothing, a later one everything.
      logs.ingestionDelayMs = 1_500;
      try {
        seed({ durations: steady });
        const run = await withHealth(
          { ...release, checks: '', healthWaitMinutes: '5' },
          { env: fastClock() },
        );
        assert.equal(run.result?.status, 'Succeeded', run.log);
        assert.equal(run.outputVariables.get('verdict')?.value, 'Passed');
        const progress = run.logLines.filter((line) => /^Health: no data yet for /.test(line));
        assert.ok(progress.length >= 1, run.log);
        assert.match(
          progress[0] ?? '',
          /^Health: no data yet for failedRatePercent, p95DurationMs, restarts, oomKilled, podsNotReady, errorLogLines; no answer shows the release's pods in KubePodInventory yet\. Asking again in 10 s/,
        );
        assert.equal(run.outputVariables.get('score')?.value, '100');
      } finally {
        logs.ingestionDelayMs = 0;
      }
    });

    it('gives a Warning, succeeding with issues, when error log lines are within the warning line', async () => {
      seed({ durations: steady, errorLines: 3 });
      const run = await withHealth(release);
      assert.equal(run.result?.status, 'SucceededWithIssues', run.log);
      assert.equal(run.outputVariables.get('verdict')?.value, 'Warning');
      assert.equal(run.outputVariables.get('score')?.value, '91.7');
      assert.match(
        run.warnings[0]?.message ?? '',
        /: error log lines \(errorLogLines\) is 3, which misses its pass line <= 0/,
      );
    });

    it('fails a release whose new pods log errors past the warning line, though its HTTP checks pass, and says what had no data', async () => {
      // No request reached the app yet, and the gate does not wait: those metrics are said as warnings.
      seed({ errorLines: 8 });
      const run = await withHealth({ ...release, healthWaitMinutes: '0' });
      assert.equal(run.result?.status, 'Failed', run.log);
      assert.equal(run.outputVariables.get('verdict')?.value, 'Failed');
      assert.equal(run.outputVariables.get('passRate')?.value, '100');
      assert.match(
        run.result?.message ?? '',
        /: error log lines \(errorLogLines\) is 8, which fails its threshold \(pass <= 0, warn <= 5\)/,
      );
      assert.deepEqual(
        run.warnings.map(
          (w) =>
            /no data for ([a-z0-9 ]+) \(.* arrived within 0 minutes \(healthWaitMinutes is 0/.exec(
              w.message,
            )?.[1],
        ),
        ['failed rate', 'p95 duration'],
      );
    });

    it('catches a p95 regression against the previous release with a relative threshold', async () => {
      seed({ durations: steady.map((ms) => ms * 1.5), previousDurations: steady });
      const run = await withHealth({
        ...release,
        healthThresholds: 'p95DurationMs: pass <= +10%, warn <= +25%',
      });
      assert.equal(run.result?.status, 'Failed', run.log);
      assert.match(
        run.result?.message ?? '',
        /: p95 duration \(p95DurationMs\) is [\d.]+ ms, which fails its threshold \(pass <= \+10% \([\d.]+ ms\), warn <= \+25% \([\d.]+ ms\)\)/,
      );
      const baseline = sent().find((q) => q.timespan?.endsWith(`/${new Date(deployStart).toISOString()}`));
      assert.ok(baseline, 'the baseline was queried over the window before the release');
      assert.doesNotMatch(baseline.query, /AppVersion/);
      assert.match(
        run.summaries[0]?.content ?? '',
        /\| [\d.]+ ms \| <= \+10% \([\d.]+ ms\) \| <= \+25% \([\d.]+ ms\) \| [\d.]+ ms \| 1 \| ❌ failed \|/,
      );
    });

    it('judges the columns of a custom health query', async () => {
      seed({ durations: steady, failedEvery: 4 });
      const run = await withHealth({
        healthQuery:
          'AppRequests | where AppRoleName == "orders" | summarize errorBudget = round(100.0 * countif(Success == false) / count(), 1)',
        healthThresholds: 'errorBudget <= 1',
      });
      assert.equal(run.result?.status, 'Failed');
      assert.match(
        run.result?.message ?? '',
        /: error budget \(errorBudget\) is 25, which fails its threshold \(pass <= 1\)/,
      );
    });

    it('reports a bad KQL in one clear line', async () => {
      const run = await withHealth({ healthQuery: 'AppRequests | summarise count()' });
      assert.equal(run.result?.status, 'Failed');
      assert.match(
        run.result?.message ?? '',
        /The health query for workspace .* was rejected: Query could not be parsed at 'summarise'/,
      );
    });
  });

  describe('bad input: one clear line each', () => {
    const table: { name: string; inputs: Record<string, string>; message: RegExp }[] = [
      {
        name: 'a malformed checks file',
        inputs: { checks: 'checks:\n  - name: a\n    path: /a\n   bad: [1, 2\n' },
        message: /^checks \(inline\):4: \(yaml\) .*fix the YAML syntax\.$/,
      },
      {
        name: 'an unknown assertion',
        inputs: {
          checks:
            'checks:\n  - name: a\n    path: /a\n    assertions:\n      - jsonPath: $.x\n        startsWith: y\n',
        },
        message:
          /^checks \(inline\):6: checks\[0\] \(a\)\.assertions\[0\]\.startsWith unknown assertion "startsWith"/,
      },
      {
        name: 'an unreachable baseUrl',
        inputs: { baseUrl: 'http://127.0.0.1:1', checks: '- name: a\n  path: /a\n' },
        message:
          /^The staging endpoint http:\/\/127\.0\.0\.1:1 could not be reached \(request failed: .*ECONNREFUSED/,
      },
      {
        name: 'a results glob that matches nothing',
        inputs: { testCommand: 'exit 0', testResults: 'out/TEST-*.xml' },
        message:
          /^No file matches the test results glob 'out\/TEST-\*\.xml' \(the test command exited with code 0/,
      },
      {
        name: 'a checks file that does not exist',
        inputs: { checks: 'missing-checks.yaml' },
        message: /^The checks file 'missing-checks.yaml' does not exist/,
      },
    ];
    for (const row of table) {
      it(row.name, async () => {
        const run = await gate(row.inputs);
        assert.equal(run.result?.status, 'Failed');
        const lines = [...errorLines(run), run.result?.message ?? ''].filter((l) => l);
        assert.ok(
          lines.some((line) => row.message.test(line)),
          lines.join('\n'),
        );
        assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at /, 'no stack trace');
      });
    }
  });
});
