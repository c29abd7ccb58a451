import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runTask, type Endpoint, type TaskRunResult } from './harness/agent';
import { startStagingApp, type StagingApp } from './fixtures/staging-app';

/**
 * AcceptanceGate@1's bad input, through the agent harness on Node 20 and Node 24. Each row
 * fails with one clear line per problem: what is wrong, where (input, file and line, field)
 * and how to fix it; no stack trace outside debug lines; no secret, whole or cut. An input
 * the gate refuses sends nothing (no request reaches the staging app) and sets no output
 * variable. A row whose problem shows only while the gate runs (a command the shell cannot
 * find, a readiness wait that times out) sets the outputs, with passRate 0.
 */
describe('AcceptanceGate@1 bad input: one clear line each', function () {
  this.timeout(120_000);
  const repoRoot = resolve(__dirname, '..');
  // Upper case and digits: no 4-character piece of it occurs in a log by chance.
  const apiToken = 'TK4R9QZ2MV7XW3PL8NB6YH5CJ1DF0GS';
  const fastClock = {
    NODE_OPTIONS: `--require ${join(repoRoot, 'test', 'fixtures', 'fast-clock.cjs')}`,
    GATE_CLOCK_SPEEDUP: '600',
  };
  const connection = (scheme: string): Endpoint => ({
    url: 'https://management.azure.com/',
    scheme,
    parameters: {
      tenantid: '72f988bf-0000-4000-8000-0000000000cc',
      serviceprincipalid: '66666666-0000-4000-8000-000000000006',
      serviceprincipalkey: 'bad-input-connection-secret',
      authenticationType: 'spnKey',
    },
    data: { environment: 'AzureCloud', subscriptionId: '00000000-0000-4000-8000-0000000000dd' },
  });
  const workspace = '7f3c0d52-0c8a-4e1b-9b6f-2b1d3c4e5f62';
  const goodChecks = (count: number) =>
    Array.from({ length: count }, (_, i) => `  - name: good ${i}\n    path: /healthz\n`).join('');
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48]);

  interface Row {
    readonly what: string;
    readonly inputs: Readonly<Record<string, string>>;
    readonly files?: Readonly<Record<string, string | Buffer>>;
    readonly endpoints?: Readonly<Record<string, Endpoint>>;
    readonly env?: Readonly<Record<string, string>>;
    /** Each must match one error line: the input, file or field, what is wrong, the fix. */
    readonly lines: readonly RegExp[];
    /** Refused up front (the default): nothing sent, no output variable. Otherwise failed while running. */
    readonly refused?: boolean;
  }

  const rows: Row[] = [
    // Checks file: broken content, with file, line and field.
    {
      what: 'a JSONPath that does not close, among ten good checks and a 90% minimum',
      inputs: { checks: 'checks.yaml', minPassRate: '90' },
      files: {
        'checks.yaml': `checks:\n${goodChecks(10)}  - name: version\n    path: /healthz\n    assertions:\n      - jsonPath: $.version[?(@ =~ /^1/\n        exists: true\n`,
      },
      lines: [
        /^checks\.yaml:25: checks\[10\] \(version\)\.assertions\[0\]\.jsonPath is not a valid JSONPath: the "\(" at character 12 is not closed; close it with "\)"\.$/,
      ],
    },
    {
      what: 'a JSONPath filter with =~',
      inputs: {
        checks:
          'checks:\n  - name: v\n    path: /healthz\n    assertions:\n      - jsonPath: $.items[?(@.v =~ /^1/)]\n        exists: true\n',
      },
      lines: [
        /^checks \(inline\):5: .*\.jsonPath is not a valid JSONPath: .*uses =~.*match with @\.match\(\/pattern\/\)/,
      ],
    },
    {
      what: 'a regular expression that does not compile',
      inputs: { checks: 'checks:\n  - name: a\n    path: /a\n    assertions:\n      - regex: "(unclosed"\n' },
      lines: [
        /^checks \(inline\):5: checks\[0\] \(a\)\.assertions\[0\]\.regex is not a valid regular expression/,
      ],
    },
    {
      what: 'malformed YAML',
      inputs: { checks: 'checks:\n  - name: a\n    path: /a\n   bad: [1, 2\n' },
      lines: [/^checks \(inline\):4: \(yaml\) .*; fix the YAML syntax\.$/],
    },
    {
      what: 'an unknown option in a check',
      inputs: { checks: 'checks:\n  - name: a\n    path: /a\n    expect: 200\n' },
      lines: [/^checks \(inline\):4: checks\[0\]\.expect unknown key; accepted: name, method, path/],
    },
    {
      what: 'a check of the wrong type, and one out of range',
      inputs: {
        checks:
          'checks:\n  - name: a\n    path: /a\n    repeat: many\n  - name: b\n    path: /b\n    timeoutMs: 0\n',
      },
      lines: [
        /^checks \(inline\):4: checks\[0\] \(a\)\.repeat must be a whole number from 1 to 1000; it is "many"\.$/,
        /^checks \(inline\):7: checks\[1\] \(b\)\.timeoutMs must be a whole number from 1 to 3600000; it is 0\.$/,
      ],
    },
    {
      what: 'a header naming a variable that is not set',
      inputs: { checks: 'checks:\n  - name: a\n    path: /a\n    headers:\n      X-Key: $(missingToken)\n' },
      lines: [
        /^checks \(inline\):5: .*headers\.X-Key refers to the pipeline variable "missingToken", which is not set; define it/,
      ],
    },
    {
      what: 'a repeated key',
      inputs: { checks: 'checks:\n  - name: a\n    path: /a\n    path: /b\n' },
      lines: [
        /^checks \(inline\):4: \(yaml\) the key "path" is repeated in one mapping \(first on line 3\); keep one of them\.$/,
      ],
    },
    {
      what: 'an empty checks file',
      inputs: { checks: 'empty.yaml' },
      files: { 'empty.yaml': '' },
      lines: [/^empty\.yaml:1: checks must be a non-empty list of checks/],
    },
    {
      what: 'a binary checks file',
      inputs: { checks: 'checks.png' },
      files: { 'checks.png': png },
      lines: [
        /^The checks file 'checks\.png' is not YAML text: it holds binary data \(a NUL byte at byte 8\)\. Point checks at the YAML file/,
      ],
    },
    {
      what: 'a checks file saved as UTF-16',
      inputs: { checks: 'checks.yaml' },
      files: { 'checks.yaml': Buffer.from('\uFEFFchecks:\n  - name: a\n    path: /a\n', 'utf16le') },
      lines: [/^The checks file 'checks\.yaml' is not YAML text: it is saved as UTF-16; save it as UTF-8\./],
    },
    {
      what: 'a checks path that is a folder',
      inputs: { checks: 'deploy' },
      files: { 'deploy/readme.txt': 'not checks' },
      lines: [/^The checks file 'deploy' is a folder, not a file\. Name the YAML file itself/],
    },
    {
      what: 'a checks file that does not exist',
      inputs: { checks: 'missing-checks.yaml' },
      lines: [
        /^The checks file 'missing-checks\.yaml' does not exist \(looked in .*\)\. Give a path relative/,
      ],
    },
    {
      what: 'unicode and spaces in the checks file path',
      inputs: { checks: 'deploy/Prüfungen ✓ v2.yaml' },
      files: { 'deploy/Prüfungen ✓ v2.yaml': 'checks:\n  - name: a\n    path: healthz\n' },
      lines: [
        /^deploy\/Prüfungen ✓ v2\.yaml:3: checks\[0\] \(a\)\.path must start with "\/", for example \/healthz; it is "healthz"\.$/,
      ],
    },
    {
      what: 'an oversized checks file',
      inputs: { checks: 'huge.yaml' },
      files: { 'huge.yaml': `checks:\n${'# padding\n'.repeat(1_100_000)}` },
      lines: [/^The checks file 'huge\.yaml' is 10\.5 MB, over the limit of 10\.0 MB\. Split the checks/],
    },
    // Inputs: empty, whitespace, out of range, wrong type, unknown option, oversized.
    {
      what: 'a whitespace-only baseUrl',
      inputs: { baseUrl: '   ', checks: 'checks:\n  - name: a\n    path: /a\n' },
      lines: [/^The input 'baseUrl' is empty\. Set baseUrl to the staging endpoint/],
    },
    {
      what: 'nothing to check (whitespace-only checks)',
      inputs: { checks: '  \n\t\n' },
      lines: [/^There is nothing to check: set checks, testCommand or logAnalyticsWorkspaceId\.$/],
    },
    {
      what: 'a baseUrl with the wrong scheme',
      inputs: { baseUrl: 'ftp://staging.contoso.com', checks: 'checks:\n  - name: a\n    path: /a\n' },
      lines: [
        /^The input 'baseUrl' must be an absolute http\(s\) URL .* but it is 'ftp:\/\/staging\.contoso\.com'\.$/,
      ],
    },
    {
      what: 'an oversized baseUrl holding a secret where the quote is cut',
      inputs: {
        baseUrl: `ftp://staging.test/${'a'.repeat(170)}${apiToken}${'b'.repeat(120 * 1024)}`,
        checks: 'checks:\n  - name: a\n    path: /a\n',
      },
      lines: [
        /^The input 'baseUrl' must be an absolute http\(s\) URL .* but it is 'ftp:\/\/staging\.test\/a+\*\*\*b+… \(\d+ more characters\)'\.$/,
      ],
    },
    {
      what: 'minPassRate out of range',
      inputs: { checks: 'checks:\n  - name: a\n    path: /a\n', minPassRate: '150' },
      lines: [/^The input 'minPassRate' must be a whole number from 0 to 100, but it is '150'\.$/],
    },
    {
      what: 'minPassRate of the wrong type',
      inputs: { checks: 'checks:\n  - name: a\n    path: /a\n', minPassRate: 'ninety' },
      lines: [/^The input 'minPassRate' must be a whole number from 0 to 100, but it is 'ninety'\.$/],
    },
    {
      what: 'retryFailed below range',
      inputs: { checks: 'checks:\n  - name: a\n    path: /a\n', retryFailed: '-1' },
      lines: [/^The input 'retryFailed' must be a whole number from 0 to 5, but it is '-1'\.$/],
    },
    {
      what: 'testTimeoutMinutes of zero',
      inputs: { testCommand: 'npx mocha', testTimeoutMinutes: '0' },
      lines: [/^The input 'testTimeoutMinutes' must be a whole number from 1 to 1440, but it is '0'\.$/],
    },
    {
      what: 'readinessTimeoutSeconds out of range',
      inputs: {
        checks: 'checks:\n  - name: a\n    path: /a\n',
        waitUntilReady: '/ready',
        readinessTimeoutSeconds: '99999',
      },
      lines: [
        /^The input 'readinessTimeoutSeconds' must be a whole number from 1 to 3600, but it is '99999'\.$/,
      ],
    },
    {
      what: 'a readiness URL that is neither a path nor a URL',
      inputs: { checks: 'checks:\n  - name: a\n    path: /a\n', waitUntilReady: 'ready' },
      lines: [
        /^The input 'waitUntilReady' must be a path such as \/healthz\/ready or an absolute http\(s\) URL, but it is 'ready'\.$/,
      ],
    },
    {
      what: 'an unknown option for publishResults',
      inputs: { checks: 'checks:\n  - name: a\n    path: /a\n', publishResults: 'sometimes' },
      lines: [/^The input 'publishResults' must be true or false, but it is 'sometimes'\.$/],
    },
    // The health query's Azure connection and settings.
    {
      what: 'a workspace that is not a GUID',
      inputs: { logAnalyticsWorkspaceId: 'orders-workspace', azureSubscription: 'azure' },
      endpoints: { azure: connection('ServicePrincipal') },
      lines: [
        /^The input 'logAnalyticsWorkspaceId' must be a workspace ID \(a GUID\) .* but it is 'orders-workspace'\.$/,
      ],
    },
    {
      what: 'a workspace without a connection',
      inputs: { logAnalyticsWorkspaceId: workspace },
      lines: [
        /^The input 'azureSubscription' is empty\. Select an Azure Resource Manager service connection\.$/,
      ],
    },
    {
      what: 'a connection that does not exist',
      inputs: { logAnalyticsWorkspaceId: workspace, azureSubscription: 'no-such-connection' },
      lines: [
        /^The service connection 'no-such-connection' named by the input 'azureSubscription' was not found/,
      ],
    },
    {
      what: 'a connection with the wrong scheme',
      inputs: { logAnalyticsWorkspaceId: workspace, azureSubscription: 'azure' },
      endpoints: { azure: connection('UsernamePassword') },
      lines: [
        /^The service connection 'azure' uses the authentication scheme 'UsernamePassword', which is not supported\. Use an Azure Resource Manager connection with one of: WorkloadIdentityFederation/,
      ],
    },
    {
      what: 'a health threshold with a bad operator',
      inputs: {
        logAnalyticsWorkspaceId: workspace,
        azureSubscription: 'azure',
        healthThresholds: 'failedRatePercent ~ 1',
      },
      endpoints: { azure: connection('ServicePrincipal') },
      lines: [
        /^The input 'healthThresholds', line 1 \('failedRatePercent ~ 1'\): '~' is not an operator; use <=, <, >= or >\.$/,
      ],
    },
    {
      what: 'a health threshold naming an unknown metric, on its line',
      inputs: {
        logAnalyticsWorkspaceId: workspace,
        azureSubscription: 'azure',
        healthThresholds: 'failedRatePercent <= 1\n\nerrorBudget <= 2',
      },
      endpoints: { azure: connection('ServicePrincipal') },
      lines: [
        /^The input 'healthThresholds', line 3 \('errorBudget <= 2'\): 'errorBudget' is not a metric the gate knows \(restarts, .*\); name one of them, or set healthQuery to a query whose first row has a column errorBudget\.$/,
      ],
    },
    {
      what: 'a relative limit on a column of a custom query, which has no baseline',
      inputs: {
        logAnalyticsWorkspaceId: workspace,
        azureSubscription: 'azure',
        healthQuery: 'AppRequests | summarize errorBudget = 1.0',
        healthThresholds: 'errorBudget <= +10%',
      },
      endpoints: { azure: connection('ServicePrincipal') },
      lines: [
        /^The input 'healthThresholds', line 1 \('errorBudget <= \+10%'\): 'errorBudget' comes from healthQuery, which has no previous release to compare with; give it a plain limit/,
      ],
    },
    {
      what: 'a weight that is not a positive number',
      inputs: {
        logAnalyticsWorkspaceId: workspace,
        azureSubscription: 'azure',
        healthThresholds: 'failedRatePercent: pass <= 1, weight 0',
      },
      endpoints: { azure: connection('ServicePrincipal') },
      lines: [
        /^The input 'healthThresholds', line 1 \('failedRatePercent: pass <= 1, weight 0'\): the weight '0' must be a positive number, for example weight 2\.$/,
      ],
    },
    {
      what: 'a warning line stricter than its pass line',
      inputs: {
        logAnalyticsWorkspaceId: workspace,
        azureSubscription: 'azure',
        healthThresholds: 'p95DurationMs: pass <= 800, warn <= 500',
      },
      endpoints: { azure: connection('ServicePrincipal') },
      lines: [
        /^The input 'healthThresholds', line 1 \('p95DurationMs: pass <= 800, warn <= 500'\): the warn line <= 500 is stricter than the pass line <= 800; a warning line lets through more/,
      ],
    },
    {
      what: "a Container Insights metric without the release's cluster scope",
      inputs: {
        logAnalyticsWorkspaceId: workspace,
        azureSubscription: 'azure',
        healthThresholds: 'restarts <= 0',
      },
      endpoints: { azure: connection('ServicePrincipal') },
      lines: [
        /^The input 'healthThresholds', line 1, names restarts, a Container Insights metric, which needs the release's pods: set clusterName, namespace and podTemplateHash/,
      ],
    },
    {
      what: 'a cluster scope without podTemplateHash',
      inputs: {
        logAnalyticsWorkspaceId: workspace,
        azureSubscription: 'azure',
        clusterName: 'aks-staging',
        namespace: 'shop',
      },
      endpoints: { azure: connection('ServicePrincipal') },
      lines: [
        /^Container Insights metrics need clusterName, namespace and podTemplateHash together, but podTemplateHash is empty\. Set it \(podTemplateHash is AksDeploy's output of that name\), or clear the others\.$/,
      ],
    },
    {
      what: 'Container Insights metrics against an Application Insights resource',
      inputs: {
        logAnalyticsWorkspaceId:
          '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Insights/components/orders-staging',
        azureSubscription: 'azure',
        clusterName: 'aks-staging',
        namespace: 'shop',
        podTemplateHash: '5d8f9c',
      },
      endpoints: { azure: connection('ServicePrincipal') },
      lines: [
        /^Container Insights metrics read the Log Analytics workspace the cluster sends to, but logAnalyticsWorkspaceId is the Application Insights resource '\/subscriptions\/s1\/.*\/orders-staging'\. Set it to that workspace's ID/,
      ],
    },
    {
      what: 'healthWaitMinutes out of range',
      inputs: { logAnalyticsWorkspaceId: workspace, azureSubscription: 'azure', healthWaitMinutes: '90' },
      endpoints: { azure: connection('ServicePrincipal') },
      lines: [/^The input 'healthWaitMinutes' must be a whole number from 0 to 60, but it is '90'\.$/],
    },
    {
      what: 'a health window start that is not a time',
      inputs: {
        logAnalyticsWorkspaceId: workspace,
        azureSubscription: 'azure',
        healthWindowStart: 'yesterday',
      },
      endpoints: { azure: connection('ServicePrincipal') },
      lines: [/^The health window start 'yesterday' is not a time\. Use ISO 8601/],
    },
    // Found while running: the gate reports them and sets its outputs, passRate 0.
    {
      what: 'a deployment that is never ready',
      inputs: {
        checks: 'checks:\n  - name: a\n    path: /healthz\n',
        waitUntilReady: '/ready',
        readinessTimeoutSeconds: '1',
      },
      lines: [
        /was not ready within 1 s \(\d+ polls?; last: status 404\)\. Check the deployment's rollout, or raise readinessTimeoutSeconds\.$/,
      ],
      refused: false,
    },
    {
      what: 'a test command the shell cannot find',
      inputs: { testCommand: 'CI=1 no-such-suite-runner --reporter xunit' },
      lines: [
        /^The test command exited with code 127, which means the shell found no such command: 'no-such-suite-runner', or a command it runs, is missing\. Install it/,
      ],
      refused: false,
    },
    {
      what: 'a test command that never ends (on a clock 600 times faster)',
      inputs: { testCommand: 'sleep 600', testTimeoutMinutes: '1' },
      env: fastClock,
      lines: [
        /^The test command 'sleep 600' did not finish within 1 minute, so it was stopped with every process it started\./,
      ],
      refused: false,
    },
    {
      what: 'a JUnit file cut short',
      inputs: {
        testCommand: `mkdir -p out && printf '<testsuite name="s"><testcase name="a">' > out/TEST-a.xml`,
        testResults: 'out/TEST-*.xml',
      },
      lines: [
        /^The test results file .*out\/TEST-a\.xml is not JUnit XML: it ends before <testsuite>, <testcase> are closed, as if it was cut short/,
      ],
      refused: false,
    },
    {
      what: 'a binary JUnit file',
      inputs: {
        testCommand: `mkdir -p out && printf '\\211PNG\\r\\n\\032\\n\\0\\0' > out/TEST-a.xml`,
        testResults: 'out/TEST-*.xml',
      },
      lines: [
        /^The test results file .*out\/TEST-a\.xml is not JUnit XML: it holds binary data \(a NUL byte at byte 8\)\./,
      ],
      refused: false,
    },
  ];

  let staging: StagingApp;
  before(() => {
    const built = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(built.status, 0, built.stderr);
  });
  beforeEach(async () => {
    staging = await startStagingApp({ '/healthz': { body: { status: 'ok', version: '1.4.2' } } });
  });
  afterEach(() => staging.stop());

  /** The lines a user reads: every error, and the result message. */
  const errorLines = (run: TaskRunResult) =>
    [...run.errors.map((error) => error.message), run.result?.message ?? ''].filter((line) => line !== '');

  for (const node of ['node20', 'node24'] as const) {
    for (const row of rows) {
      it(`${row.what} (${node})`, async () => {
        const run = await runTask({
          task: 'AcceptanceGate',
          node,
          inputs: { baseUrl: staging.url, ...row.inputs },
          secretVariables: { apiToken },
          ...(row.endpoints ? { endpoints: row.endpoints } : {}),
          ...(row.env ? { env: row.env } : {}),
          timeoutMs: 30_000,
          prepare: (dirs) => {
            for (const [file, content] of Object.entries(row.files ?? {})) {
              mkdirSync(dirname(join(dirs.sources, file)), { recursive: true });
              writeFileSync(join(dirs.sources, file), content);
            }
          },
        });
        assert.equal(run.result?.status, 'Failed', run.log);
        const lines = errorLines(run);
        for (const expected of row.lines) {
          assert.ok(
            lines.some((line) => expected.test(line)),
            `no line matches ${expected}:\n${lines.join('\n')}`,
          );
        }
        for (const line of lines) assert.ok(!line.includes('\n'), `not one line: ${line}`);
        const shown = run.stdout
          .split('\n')
          .filter((line) => !line.startsWith('##vso[task.debug]'))
          .join('\n');
        assert.doesNotMatch(shown + run.stderr, /\n\s+at .+:\d+:\d+/, 'a stack trace outside debug lines');
        for (let start = 0; start + 4 <= apiToken.length; start++) {
          assert.ok(
            !run.log.includes(apiToken.slice(start, start + 4)),
            'a piece of the secret reached the log',
          );
        }
        if (row.refused === false) {
          assert.equal(run.outputVariables.get('verdict')?.value, 'Failed');
          assert.equal(run.outputVariables.get('passRate')?.value, '0');
          assert.deepEqual(
            staging.requests.filter((request) => request.path !== '/ready'),
            [],
            'no check ran',
          );
        } else {
          assert.deepEqual(staging.requests, [], 'a refused input sent a request');
          assert.deepEqual([...run.outputVariables.keys()], [], 'a refused input set an output variable');
        }
      });
    }
  }
});
