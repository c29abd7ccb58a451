import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { markdownToHtml } from '../runner/markdown';
import type { RunRecord } from '../runner/run/record';
import type { ReadBack } from '../demo/read-back';
import { descendantPids } from '../demo/processes';
import { endsWithin } from './support/processes';

const repoRoot = resolve(__dirname, '..');
const loopbackOnly = join(repoRoot, 'demo', 'loopback-only.cjs');

interface DemoResult {
  outcome: { status: string; exitCode: number; headline: string };
  runs: (RunRecord & { folder: string; report: string })[];
  facts: ReadBack;
}

interface DemoRun {
  readonly code: number | null;
  readonly output: string;
  readonly result: DemoResult | undefined;
  readonly outDir: string;
}

/**
 * Runs `npm run demo`'s command as a child process, into a fresh output folder under the
 * repository's dist/, inside the git work tree as `npm run demo`'s own dist/demo is.
 */
function runDemo(args: readonly string[]): Promise<DemoRun> {
  mkdirSync(join(repoRoot, 'dist'), { recursive: true });
  const outDir = mkdtempSync(join(repoRoot, 'dist', 'demo-test-'));
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts', '--out-dir', outDir, ...args], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const resultFile = join(outDir, 'result.json');
      const result = existsSync(resultFile)
        ? (JSON.parse(readFileSync(resultFile, 'utf8')) as DemoResult)
        : undefined;
      resolvePromise({ code, output, result, outDir });
    });
  });
}

const runOf = (result: DemoResult, pipeline: string) => result.runs.find((run) => run.pipeline === pipeline);
const stageResults = (run: RunRecord | undefined) =>
  Object.fromEntries((run?.stages ?? []).map((stage) => [stage.name, stage.result]));
const stepsOf = (run: RunRecord | undefined) =>
  (run?.stages ?? []).flatMap((stage) => stage.jobs).flatMap((job) => job.steps);

describe('npm run demo', function () {
  this.timeout(180_000);
  const outDirs: string[] = [];
  after(() => {
    for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
  });
  const demo = async (...args: string[]) => {
    const run = await runDemo(args);
    outDirs.push(run.outDir);
    return run;
  };

  it('runs the three example pipelines, PR → CI → CD, and production runs the digest CI pushed', async () => {
    const run = await demo();
    const { result } = run;
    assert.ok(result, run.output);
    assert.equal(run.code, 0, run.output);
    assert.equal(result.outcome.status, 'Succeeded');
    assert.deepEqual(
      result.runs.map((each) => [each.pipeline, each.result]),
      [
        ['orders-api-pr', 'Succeeded'],
        ['orders-api-ci', 'Succeeded'],
        ['orders-api-cd', 'Succeeded'],
      ],
    );
    const cd = runOf(result, 'orders-api-cd')!;
    assert.equal(cd.reason, 'ResourceTrigger', 'CI completing triggered CD');
    assert.equal(cd.triggeredBy?.pipeline, 'orders-api-ci');
    assert.deepEqual(Object.keys(stageResults(cd)), [
      'Staging',
      'Acceptance',
      'Validation',
      'Promote',
      'Production',
      'Verify',
    ]);

    const { facts } = result;
    const digest = facts.image!.digest;
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(facts.registries.nonprod.digest, digest, 'the non-production registry holds what CI pushed');
    assert.equal(facts.registries.prod.digest, digest, 'the production registry holds the same bytes');
    for (const pod of facts.pods.staging) {
      assert.equal(pod.image, `${facts.registries.nonprod.loginServer}/orders/api@${digest}`);
      assert.ok(pod.imageID?.endsWith(digest), `${pod.pod} pulled ${pod.imageID}`);
    }
    assert.ok(facts.pods.production.length >= 2);
    for (const pod of facts.pods.production) {
      assert.equal(
        pod.image,
        `${facts.registries.prod.loginServer}/orders/api@${digest}`,
        'production pulls from production',
      );
      assert.ok(pod.imageID?.endsWith(digest), `${pod.pod} pulled ${pod.imageID}`);
    }
    assert.ok(facts.production.identical);
    // Each environment deployed its own overlay of the same base: replicas and settings
    // differ, the image is the same digest, each from its own registry.
    assert.deepEqual(
      [facts.deployments.staging?.replicas, facts.deployments.production?.replicas],
      [1, 3],
      'staging runs overlays/staging, production overlays/production',
    );
    assert.deepEqual(
      [facts.deployments.staging?.environment, facts.deployments.production?.environment],
      ['staging', 'production'],
    );
    assert.match(facts.deployments.staging?.configMap ?? '', /^orders-api-[a-z0-9]{10}$/);
    assert.equal(facts.pods.staging.length, 1);
    assert.equal(facts.pods.production.length, 3);
    assert.ok(facts.sameDigest, 'both clusters run the digest CI pushed, each from its own registry');
    const deploySteps = stepsOf(cd).filter((step) => step.task === 'AksDeploy@1');
    assert.deepEqual(
      deploySteps.map((step) =>
        step.logLines.find((line) => line.startsWith('Rendered '))?.replace(/ in \d+ ms$/, ''),
      ),
      [
        'Rendered ../ci/manifests/overlays/staging with kubectl kustomize: 4 objects',
        'Rendered ../ci/manifests/overlays/production with kubectl kustomize: 4 objects',
      ],
    );
    // Both gates judged real telemetry: staging's requests and both clusters' Container Insights.
    assert.deepEqual(
      [facts.gates.acceptance?.verdict, facts.gates.verify?.verdict],
      ['Passed', 'Passed'],
      run.output,
    );
    assert.equal(facts.rollback, undefined, 'nothing to roll back');
    assert.ok(facts.integrationSecretSeen, 'the integration tests saw the Key Vault secret through env:');
    assert.equal(facts.validation?.result, 'Succeeded');
    assert.match(facts.validation?.answer ?? '', /^Approved by --approve/);
    assert.ok(
      stepsOf(runOf(result, 'orders-api-ci')).every(
        (step) => !step.logLines.some((line) => line.includes('Password=')),
      ),
      'no connection string reaches a log',
    );
    assert.match(run.output, /━━ Summary/);
    const html = readFileSync(join(run.outDir, 'report.html'), 'utf8');
    assert.ok(html.includes(digest));

    // The summaries, under the names the Extensions tab shows, and only markdown it renders.
    const summaries = result.runs.flatMap((each) => stepsOf(each)).flatMap((step) => step.summaries);
    const names = summaries.map((summary) => summary.name);
    for (const name of [
      'Key Vault secrets (orders-ci-kv).md',
      'Key Vault secrets (orders-staging-kv).md',
      'Deploy to AKS (staging).md',
      'Deploy to AKS (production).md',
      'Acceptance gate (Acceptance).md',
      `Image promotion to ${facts.registries.prod.loginServer.replace(':', '-')}.md`,
    ])
      assert.ok(names.includes(name), `no summary named '${name}' among ${names.join(', ')}`);
    for (const summary of summaries) {
      const text = readFileSync(summary.file, 'utf8');
      assert.doesNotMatch(text, /<svg/i, `${summary.name} holds an inline SVG`);
    }
    const headings = summaries
      .filter((summary) => summary.name.startsWith('Deploy to AKS'))
      .map((summary) => readFileSync(summary.file, 'utf8').split('\n', 1)[0]);
    assert.equal(new Set(headings).size, 2, `the two deploys' headings must differ: ${headings.join(' / ')}`);
    for (const each of result.runs) assert.ok(existsSync(each.report), `${each.pipeline} has its report`);
  });

  it('--break pr fails a unit test: the PR pipeline stops, nothing runs after it and nothing is pushed', async () => {
    const run = await demo('--break', 'pr');
    const { result } = run;
    assert.ok(result, run.output);
    assert.equal(run.code, 1, run.output);
    assert.deepEqual(
      result.runs.map((each) => [each.pipeline, each.result]),
      [['orders-api-pr', 'Failed']],
    );
    const unitTests = stepsOf(runOf(result, 'orders-api-pr')).find(
      (step) => step.displayName === 'Unit tests (npm test)',
    );
    assert.equal(unitTests?.result, 'Failed');
    assert.equal(result.facts.image, undefined, 'nothing was pushed');
  });

  it('--break acceptance fails the gate on staging, stops before promotion and exits non-zero', async () => {
    const run = await demo('--break', 'acceptance');
    const { result } = run;
    assert.ok(result, run.output);
    assert.equal(run.code, 1, run.output);
    assert.deepEqual(stageResults(runOf(result, 'orders-api-cd')), {
      Staging: 'Succeeded',
      Acceptance: 'Failed',
      Validation: 'Skipped',
      Promote: 'Skipped',
      Production: 'Skipped',
      Verify: 'Skipped',
    });
    assert.equal(result.facts.registries.prod.digest, undefined, 'nothing reached production');
    assert.deepEqual(result.facts.pods.production, []);
  });

  it('--break health passes the HTTP checks, fails the gate on Container Insights data, and promotes nothing', async () => {
    const run = await demo('--break', 'health');
    const { result } = run;
    assert.ok(result, run.output);
    assert.equal(run.code, 1, run.output);
    assert.deepEqual(stageResults(runOf(result, 'orders-api-cd')), {
      Staging: 'Succeeded',
      Acceptance: 'Failed',
      Validation: 'Skipped',
      Promote: 'Skipped',
      Production: 'Skipped',
      Verify: 'Skipped',
    });
    const gate = stepsOf(runOf(result, 'orders-api-cd')).find((step) => step.task === 'AcceptanceGate@1')!;
    assert.ok(
      gate.logLines.some((line) =>
        /The acceptance gate failed: 100% \(5 passed, 0 flaky, 0 failed/.test(line),
      ),
      'every HTTP check passed',
    );
    const { facts } = result;
    assert.equal(facts.gates.acceptance?.verdict, 'Failed');
    assert.deepEqual(
      facts.gates.acceptance?.failedMetrics.map((metric) => [metric.name, metric.value]),
      [['errorLogLines', '8']],
    );
    assert.match(run.output, /Gates {7}staging: Failed, score [\d.]+: failed on errorLogLines = 8/);
    assert.equal(facts.registries.prod.digest, undefined, 'nothing was promoted');
    assert.deepEqual(facts.pods.production, [], 'production untouched');
    assert.match(readFileSync(join(run.outDir, 'report.html'), 'utf8'), /not promoted/);
  });

  it('--break production fails Verify after the deploy and redeploys the release production ran before', async () => {
    const run = await demo('--break', 'production');
    const { result } = run;
    assert.ok(result, run.output);
    assert.equal(run.code, 1, run.output);
    const cd = runOf(result, 'orders-api-cd');
    assert.deepEqual(stageResults(cd), {
      Staging: 'Succeeded',
      Acceptance: 'Succeeded',
      Validation: 'Succeeded',
      Promote: 'Succeeded',
      Production: 'Succeeded',
      Verify: 'Failed',
    });
    const { facts } = result;
    const digest = facts.image!.digest;
    assert.equal(facts.gates.acceptance?.verdict, 'Passed', 'staging never sees the failure');
    assert.equal(facts.gates.verify?.verdict, 'Failed');
    const failed = facts.gates.verify!.failedMetrics.map((metric) => metric.name);
    assert.ok(
      failed.includes('restarts') && failed.includes('oomKilled'),
      `Verify names the restarts and the OOM kills: ${failed.join(', ')}`,
    );
    assert.equal(facts.registries.prod.digest, digest, 'the release was promoted');
    assert.equal(facts.rollback?.result, 'Succeeded');
    // What production's cluster runs afterwards: the release it ran before, by its digest.
    const previous = facts.production.previous!;
    assert.match(previous.image, new RegExp(`^${facts.registries.prod.loginServer}/orders/api@sha256:`));
    assert.ok(!previous.image.endsWith(digest));
    assert.ok(previous.runsNow, run.output);
    assert.equal(facts.pods.production.length, 3);
    for (const pod of facts.pods.production) {
      assert.equal(pod.image, previous.image);
      assert.ok(
        pod.imageID?.endsWith(previous.image.replace(/^.*@/, '')),
        `${pod.pod} pulled ${pod.imageID}`,
      );
    }
    assert.ok(!facts.production.identical);
    assert.match(
      run.output,
      /Rollback {4}Verify redeployed what production ran before \(succeeded\): production runs /,
    );
  });

  it('--break staging shows the failed rollout with its diagnosis, rolls back, and stops before promotion', async () => {
    const run = await demo('--break', 'staging');
    const { result } = run;
    assert.ok(result, run.output);
    assert.equal(run.code, 1, run.output);
    const cd = runOf(result, 'orders-api-cd');
    assert.equal(stageResults(cd).Staging, 'Failed');
    assert.equal(stageResults(cd).Promote, 'Skipped');
    // The diagnosis: the failing pods' own logs, then the rollback.
    assert.match(run.output, /APPLICATIONINSIGHTS_CONNECTION_STRING is malformed/);
    assert.match(run.output, /rolled back to its previous revision/);
    // The step's one line ends with the cause; its summary says why and what the rollback restored.
    const deploy = stepsOf(cd).find((step) => step.task === 'AksDeploy@1' && step.result === 'Failed')!;
    assert.match(
      deploy.message,
      /First cause: .*CrashLoopBackOff.*APPLICATIONINSIGHTS_CONNECTION_STRING is malformed/,
    );
    assert.equal(deploy.summaries[0]?.name, 'Deploy to AKS (staging).md');
    const summary = readFileSync(deploy.summaries[0]!.file, 'utf8');
    assert.match(
      summary,
      /^## Deploy to AKS: ❌ failed, rolled back · orders on .* · environment staging · stage Staging\n/,
    );
    assert.match(summary, /### Why it failed\n\n#### Deployment orders\/orders-api: CrashLoopBackOff/);
    assert.match(summary, /```\n.*APPLICATIONINSIGHTS_CONNECTION_STRING is malformed/);
    assert.match(summary, /\| Unhealthy \|/);
    assert.doesNotMatch(summary, /\| (Pulled|Scheduled|Created|Started) /, 'only Warning events');
    assert.match(summary, /Rolled back to revision \d+, which is ready: `.*orders\/api@sha256:/);
    const html = readFileSync(join(run.outDir, 'report.html'), 'utf8');
    assert.match(html, /<h2>Why it stopped<\/h2>/);
    assert.match(html, /<pre>[^<]*First cause: /);
    assert.match(html, /not promoted/);
    assert.equal(result.facts.registries.prod.digest, undefined);
    // Staging runs the previous release again, not the one that crashed.
    assert.ok(result.facts.pods.staging.length > 0);
    for (const pod of result.facts.pods.staging) assert.ok(!pod.image.endsWith(result.facts.image!.digest));
  });

  // Right after start-up (registries and emulators up) and mid-pipeline (a task process running).
  for (const moment of [/Started the emulated Azure/, /▶ Unit tests \(npm test\)/]) {
    it(`stops everything it started on Ctrl-C (at ${moment.source})`, async () => {
      const outDir = mkdtempSync(join(tmpdir(), 'demo-test-'));
      outDirs.push(outDir);
      const child = spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts', '--out-dir', outDir], {
        cwd: repoRoot,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const seen: number[] = [];
      const exited = new Promise<number | null>((resolveExit) => child.on('close', resolveExit));
      await new Promise<void>((ready) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          // Mid-pipeline: the registries, the emulators and a task process are all running.
          if (moment.test(output) && seen.length === 0) {
            seen.push(...descendantPids(child.pid));
            child.kill('SIGINT');
            ready();
          }
        });
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        void exited.then(() => ready());
      });
      assert.equal(await exited, 130, output);
      assert.match(output, /SIGINT: stopping everything the demo started/);
      assert.ok(seen.length >= 2, `the registries were running: ${seen.length} descendants`);
      const alive: number[] = [];
      for (const pid of seen) if (!(await endsWithin(pid))) alive.push(pid);
      assert.deepEqual(alive, [], 'no process the demo started outlives it');
    });
  }

  it('refuses anything but loopback in the processes it runs', () => {
    const attempt = (target: string) =>
      spawnSync(
        process.execPath,
        [
          '--require',
          loopbackOnly,
          '-e',
          `require('node:net').connect(${target}).on('error', (e) => { console.log(e.message); process.exit(3); }).on('connect', () => process.exit(0));`,
        ],
        { encoding: 'utf8', timeout: 10_000 },
      );
    for (const target of ["{ host: '203.0.113.7', port: 443 }", "443, 'example.com'"]) {
      const run = attempt(target);
      assert.equal(run.status, 3, run.stderr);
      assert.match(
        run.stdout,
        /The demo talks only to loopback; it refused to reach (203\.0\.113\.7|example\.com)/,
      );
    }
  });
});

describe('demo report markdown', () => {
  const cases: { name: string; markdown: string; html: string }[] = [
    {
      name: 'a table with code and an escaped bar',
      markdown: '| Variable | Version |\n| --- | --: |\n| API_TOKEN | `a\\|b` |',
      html: '<table><thead><tr><th>Variable</th><th>Version</th></tr></thead><tbody><tr><td>API_TOKEN</td><td><code>a|b</code></td></tr></tbody></table>',
    },
    {
      name: 'a heading with bold',
      markdown: '## Gate: **passed**',
      html: '<h2>Gate: <strong>passed</strong></h2>',
    },
    { name: 'a list', markdown: '- one\n- `two`', html: '<ul><li>one</li><li><code>two</code></li></ul>' },
    {
      name: 'markup, escaped',
      markdown: '<script>alert(1)</script>',
      html: '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>',
    },
    {
      name: 'an SVG with a handler, escaped',
      markdown: '<svg onload="x()"></svg>',
      html: '<p>&lt;svg onload=&quot;x()&quot;&gt;&lt;/svg&gt;</p>',
    },
    {
      name: 'an inline SVG as text, as Azure DevOps shows it',
      markdown: '<svg width="1"><rect/></svg>',
      html: '<p>&lt;svg width=&quot;1&quot;&gt;&lt;rect/&gt;&lt;/svg&gt;</p>',
    },
  ];
  for (const row of cases) {
    it(`renders ${row.name}`, () => assert.equal(markdownToHtml(row.markdown), row.html));
  }
});
