// `npm run bench -- keyvault` (or `node bench/keyvault.mjs`): KeyVaultSecrets@1 against an
// emulated vault of 1,000 secrets with 25 ms of latency on every vault request, compared in
// the same run, alternating, with
//   floor    pages × latency + ⌈secrets / concurrency⌉ × latency (pages as the emulator served them)
//   floor, overlapped  latency + max(pages, ⌈secrets / concurrency⌉) × latency: gets start as
//            pages arrive, so the slower of the two streams, plus one request, bounds the run
//   chunked  AzureKeyVault@2's scheme: the same client, gets in chunks of 20 with a barrier after each
//   task     the bundled task (dist/tasks/KeyVaultSecrets) spawned by the agent harness: wall time
//   core     the task's core in-process with the same client (no process start, no sign-in)
// Prints a table, then, as its last line, one JSON object (see ../shared/design/benchmarks.md).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/cjs/api';
import { buildTasks, median } from './support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
require(join(root, 'test', 'support', 'loopback-dns.cjs'));
// The emulators, the harness and the task core are TypeScript, loaded as the tests load them.
register();

const secrets = 1000;
const latencyMs = 25;
const concurrency = 16;
const chunkSize = 20;
const runs = Number(process.env.BENCH_RUNS ?? 5);

const { startEmulatedCloud } = require('../test/emulators/cloud.ts');
const { createKeyVaultEmulator } = require('../test/emulators/keyvault.ts');
const { runTask } = require('../test/harness/agent.ts');
const { createVaultClient, listAllSecrets } = require('../tasks/KeyVaultSecrets/vault.ts');
const { run } = require('../tasks/KeyVaultSecrets/run.ts');
const { parseRules } = require('../tasks/KeyVaultSecrets/rules.ts');
const { createCredential } = require('../tasks/shared/azure-credential.ts');
const { resolveCloud } = require('../tasks/shared/cloud.ts');
const { defaultRetryPolicy } = require('../tasks/shared/network.ts');

buildTasks();

const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const clientId = '5b6e2c1a-0d0b-4b8e-9d7f-3c2a1e0f9a11';
const clientSecret = 'bench-client-secret-value';
const cloud = await startEmulatedCloud();
cloud.entra.addApp(tenantId, { clientId, secrets: [clientSecret] });
const keyVault = createKeyVaultEmulator({
  tenantId,
  authorityUrl: cloud.authorityHost.replace(/\/$/, ''),
  authorize: (token, audience) => cloud.entra.verifyAccessToken(token, audience),
});
cloud.azure.register(/\.vault\.azure\.test$/, keyVault.handler);
const vault = keyVault.addVault('bench-kv');
for (let i = 0; i < secrets; i++)
  vault.setSecret(`secret-${String(i).padStart(4, '0')}`, `value-${i}-${'x'.repeat(24)}`);
const isVault = (request) => request.url.hostname.endsWith('.vault.azure.test');
cloud.azure.setLatency(latencyMs, isVault);

const endpointData = {
  environment: 'AzureCloud',
  environmentAuthorityUrl: cloud.authorityHost,
  AzureKeyVaultDnsSuffix: cloud.azure.authority('vault.azure.test'),
  AzureKeyVaultServiceEndpointResourceId: keyVault.resource,
};
const connection = {
  id: 'conn',
  inputName: 'azureSubscription',
  cloud: resolveCloud('conn', {
    ...endpointData,
    url: cloud.azure.url('management.azure.test', '/'),
    azureKeyVaultDnsSuffix: endpointData.AzureKeyVaultDnsSuffix,
    azureKeyVaultServiceEndpointResourceId: keyVault.resource,
  }),
  authentication: { scheme: 'ServicePrincipal', tenantId, clientId, secret: clientSecret },
};
const network = { extraCaPem: cloud.azure.ca.caPem };
const vaultUrl = cloud.azure.url('bench-kv.vault.azure.test', '').replace(/\/$/, '');
// One signed-in client shared by the in-process schemes, as one task run would have.
const client = createVaultClient(
  vaultUrl,
  createCredential(connection, network),
  network,
  defaultRetryPolicy,
);
await listAllSecrets(client);

const vaultRequests = () => cloud.azure.requests.filter((entry) => entry.host.endsWith('.vault.azure.test'));
const listPages = () =>
  vaultRequests().filter((entry) => entry.path.split('?')[0] === '/secrets' && entry.status === 200).length;

async function timed(work) {
  cloud.azure.clearRequestLog();
  const started = performance.now();
  const detail = await work();
  return { ms: performance.now() - started, pages: listPages(), requests: vaultRequests().length, ...detail };
}

const schemes = {
  chunked: () =>
    timed(async () => {
      const names = (await listAllSecrets(client))
        .filter((secret) => secret.enabled)
        .map((secret) => secret.name);
      for (let i = 0; i < names.length; i += chunkSize) {
        await Promise.all(names.slice(i, i + chunkSize).map((name) => client.getSecret(name)));
      }
      return { loaded: names.length };
    }),
  task: () =>
    timed(async () => {
      const result = await runTask({
        task: 'KeyVaultSecrets',
        node: 'node20',
        inputs: {
          azureSubscription: 'conn',
          keyVaultName: 'bench-kv',
          secrets: '*',
          concurrency: String(concurrency),
        },
        endpoints: {
          conn: {
            url: cloud.azure.url('management.azure.test', '/'),
            scheme: 'ServicePrincipal',
            parameters: {
              tenantid: tenantId,
              serviceprincipalid: clientId,
              serviceprincipalkey: clientSecret,
              authenticationType: 'spnKey',
            },
            data: endpointData,
          },
        },
        env: cloud.azure.env(),
        timeoutMs: 120_000,
      });
      if (result.result?.status !== 'Succeeded') throw new Error(`task failed:\n${result.log}`);
      return {
        loaded: [...result.variables.values()].filter((each) => each.secret).length,
        processMs: result.durationMs,
      };
    }),
  core: () =>
    timed(async () => {
      let loaded = 0;
      await run(
        {
          vaultName: 'bench-kv',
          rules: parseRules(['*']).rules,
          naming: { mode: 'asIs', prefix: '' },
          allowEmptyValues: false,
          concurrency,
        },
        {
          vault: client,
          setSecretVariable: () => loaded++,
          setOutputVariable: () => undefined,
          warn: () => undefined,
          info: () => undefined,
          writeSecretFile: () => undefined,
          uploadSummary: () => undefined,
          describeSignInFailure: (cause) => cause,
          now: () => new Date(),
        },
      );
      return { loaded };
    }),
};

// Warm-up, then alternate the schemes run by run.
for (const scheme of Object.values(schemes)) await scheme();
const samples = Object.fromEntries(Object.keys(schemes).map((name) => [name, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, scheme] of Object.entries(schemes)) samples[name].push(await scheme());
}
await cloud.azure.stop();

const pages = median(samples.task.map((sample) => sample.pages));
const floorMs = pages * latencyMs + Math.ceil(secrets / concurrency) * latencyMs;
const overlapFloorMs = latencyMs + Math.max(pages, Math.ceil(secrets / concurrency)) * latencyMs;
const taskMs = Math.round(median(samples.task.map((sample) => sample.ms)));
const chunkedMs = Math.round(median(samples.chunked.map((sample) => sample.ms)));
const coreMs = Math.round(median(samples.core.map((sample) => sample.ms)));

const rows = [
  ['floor', floorMs, `${pages} pages × ${latencyMs} ms + ⌈${secrets}/${concurrency}⌉ × ${latencyMs} ms`],
  [
    'floor, overlapped',
    overlapFloorMs,
    `${latencyMs} ms + max(${pages} pages, ⌈${secrets}/${concurrency}⌉) × ${latencyMs} ms: gets while listing`,
  ],
  [
    'chunked (20, barrier)',
    chunkedMs,
    `same client; ${median(samples.chunked.map((s) => s.requests))} vault requests`,
  ],
  [
    'task (bundle, spawned)',
    taskMs,
    `wall time incl. process start and sign-in; ${median(samples.task.map((s) => s.requests))} vault requests`,
  ],
  [
    'task core (in-process)',
    coreMs,
    `same client as chunked; ${median(samples.core.map((s) => s.requests))} vault requests`,
  ],
];
console.log(
  `keyvault: ${secrets} secrets, ${latencyMs} ms latency per vault request, concurrency ${concurrency}, median of ${runs} runs (${process.version})`,
);
console.log('scheme                    median ms   ×floor  note');
for (const [name, ms, note] of rows) {
  console.log(
    `${name.padEnd(25)} ${String(ms).padStart(9)}   ${(ms / floorMs).toFixed(2).padStart(6)}  ${note}`,
  );
}
console.log(
  `goal: taskMs ≤ 1.3 × floorMs (${Math.round(1.3 * floorMs)}) → ${taskMs <= 1.3 * floorMs ? 'met' : 'missed'}; taskMs < chunkedMs → ${taskMs < chunkedMs ? 'met' : 'missed'}`,
);
console.log(
  JSON.stringify({
    bench: 'keyvault',
    node: process.version,
    runs,
    metrics: { secrets, latencyMs, concurrency, pages, taskMs, floorMs, overlapFloorMs, chunkedMs, coreMs },
  }),
);
