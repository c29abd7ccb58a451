import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sampleAppObjects } from '../demo/manifests';
import { markdownToHtml } from '../runner/markdown';
import { descendantPids } from '../demo/processes';

const repoRoot = resolve(__dirname, '..');
const loopbackOnly = join(repoRoot, 'demo', 'loopback-only.cjs');

interface DemoResult {
  outcome: { status: string; exitCode: number };
  image: { digest: string; sbomDigest: string; platforms: string[] };
  registries: {
    nonprod: { digest?: string; sbom: boolean };
    prod: { digest?: string; sbom: boolean };
    identical: boolean;
  };
  steps: { task: string; stage: string; status: string; message: string; outputs: Record<string, string> }[];
}

interface DemoRun {
  readonly code: number | null;
  readonly output: string;
  readonly result: DemoResult | undefined;
  readonly outDir: string;
}

/** Runs `npm run demo`'s command as a child process, into a fresh output folder. */
function runDemo(args: readonly string[]): Promise<DemoRun> {
  const outDir = mkdtempSync(join(tmpdir(), 'demo-test-'));
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

describe('npm run demo', function () {
  this.timeout(120_000);
  const outDirs: string[] = [];
  after(() => {
    for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
  });
  const demo = async (...args: string[]) => {
    const run = await runDemo(args);
    outDirs.push(run.outDir);
    return run;
  };
  const step = (run: DemoRun, task: string, stage?: string) =>
    run.result?.steps.find((each) => each.task === task && (stage === undefined || each.stage === stage));

  it('promotes the tested digest to production, identical in both registries, with its SBOM', async () => {
    const run = await demo();
    const { result } = run;
    assert.ok(result, run.output);
    assert.equal(run.code, 0, run.output);
    assert.equal(result.outcome.exitCode, 0);
    assert.deepEqual(result.image.platforms, ['linux/amd64', 'linux/arm64/v8']);
    assert.equal(result.registries.nonprod.digest, result.image.digest);
    assert.equal(result.registries.prod.digest, result.image.digest);
    assert.ok(result.registries.identical);
    assert.ok(result.registries.prod.sbom, 'the SBOM went along');
    assert.equal(step(run, 'KeyVaultSecrets@1')?.status, 'Succeeded');
    assert.equal(step(run, 'AcceptanceGate@1')?.outputs.verdict, 'Passed');
    assert.equal(step(run, 'ManualValidation@1 (agentless)')?.status, 'AutoApproved');
    assert.equal(step(run, 'AcrPromoteImage@1')?.outputs.imageDigest, result.image.digest);
    // The log shows the Key Vault secrets only masked.
    assert.match(run.output, /APPLICATIONINSIGHTS_CONNECTION_STRING = \*\*\*, API_TOKEN = \*\*\*/);
    assert.match(run.output, /auto-approved by the demo/);
    assert.match(run.output, /━━ Summary/);
    assert.match(
      run.output,
      new RegExp(`Production {2}${result.image.digest} \\(identical in both registries\\)`),
    );
    const summaries = readdirSync(join(run.outDir, 'summaries'));
    assert.deepEqual(summaries, [
      '01-KeyVaultSecrets.md',
      '02-AksDeploy.md',
      '03-AcceptanceGate.md',
      '05-AcrPromoteImage.md',
      '06-KeyVaultSecrets.md',
      '07-AksDeploy.md',
    ]);
    const html = readFileSync(join(run.outDir, 'report.html'), 'utf8');
    assert.match(html, /<table>/);
    assert.ok(html.includes(result.image.digest));
    assert.ok(existsSync(join(run.outDir, 'tasks', 'AcrPromoteImage', 'index.js')), 'tasks unpacked');

    const deploys = result.steps.filter((each) => each.task === 'AksDeploy@1');
    assert.equal(deploys.length, 2);
    assert.equal(result.outcome.status, 'Succeeded', run.output);
    for (const deploy of deploys) {
      assert.equal(deploy.status, 'Succeeded');
      assert.equal(deploy.outputs.rolloutStatus, 'Succeeded');
      const applied = (deploy.outputs.appliedObjects ?? '').split('\n');
      for (const object of sampleAppObjects) assert.ok(applied.includes(object), `${object} applied`);
    }
  });

  it('--break acceptance fails the gate, stops before promotion and exits non-zero', async () => {
    const run = await demo('--break', 'acceptance');
    const { result } = run;
    assert.ok(result, run.output);
    assert.equal(run.code, 1, run.output);
    assert.equal(result.outcome.status, 'Failed');
    const gate = step(run, 'AcceptanceGate@1');
    assert.equal(gate?.status, 'Failed');
    assert.equal(gate?.outputs.verdict, 'Failed');
    assert.equal(step(run, 'AcrPromoteImage@1')?.status, 'Skipped');
    assert.equal(result.registries.nonprod.digest, result.image.digest);
    assert.equal(result.registries.prod.digest, undefined, 'nothing reached production');
    assert.match(run.output, /Health: failedRatePercent is 12.5/);
  });

  it('--break staging shows the failed rollout with its diagnosis, rolls back, and stops before promotion', async () => {
    const run = await demo('--break', 'staging');
    const { result } = run;
    assert.ok(result, run.output);
    assert.equal(run.code, 1, run.output);
    const staging = result.steps.find((each) => each.task === 'AksDeploy@1');
    assert.equal(staging?.status, 'Failed');
    assert.equal(staging?.outputs.rolloutStatus, 'RolledBack');
    // The diagnosis: the failing pods' own logs, then the rollback.
    assert.match(run.output, /Error: APPLICATIONINSIGHTS_CONNECTION_STRING is not a valid connection string/);
    assert.match(run.output, /rolled back to its previous revision/);
    assert.equal(step(run, 'AcrPromoteImage@1')?.status, 'Skipped');
    assert.equal(result.registries.prod.digest, undefined);
  });

  // Right after start-up (registries and emulators up) and mid-pipeline (a task process running).
  for (const moment of [/CI pushed|Started the emulated Azure/, /▶ Acceptance gate/]) {
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
      const alive = seen.filter((pid) => existsSync(`/proc/${pid}`) && !isZombie(pid));
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

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
