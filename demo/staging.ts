/**
 * How the new release misbehaves on staging when broken on purpose. The emulated kubelet
 * runs no containers: it is told what a container built from an image does.
 * - `--break staging`: it crashes on start, as the sample app does with the staging Key
 *   Vault's malformed connection string, so AksDeploy@1's rollout fails and rolls back.
 * - `--break health`: it starts, is ready and stays up (the rollout and the HTTP checks
 *   pass), but logs errors, which Container Insights sends to staging's workspace.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatedWorld } from './world';

/** The release's image on staging: the non-production registry's reference to CI's digest. */
function stagingImage(world: EmulatedWorld, ciRunFolder: string): string {
  const digest = readFileSync(join(ciRunFolder, 'artifacts', 'image', 'digest'), 'utf8').trim();
  return `${world.registries.nonprod.loginServer}/orders/api@${digest}`;
}

/** Makes the image CI pushed crash on staging on start. */
export function crashOnStaging(world: EmulatedWorld, ciRunFolder: string): void {
  world.clusters.staging.setImageBehaviour(stagingImage(world, ciRunFolder), {
    neverReady: true,
    exitAfterMs: 300,
    exitCode: 1,
    logs: [
      `${new Date().toISOString()} error APPLICATIONINSIGHTS_CONNECTION_STRING is malformed: its InstrumentationKey is not a GUID. Copy it from the Application Insights resource's Overview page; it reads InstrumentationKey=<GUID>;IngestionEndpoint=https://<region>.in.applicationinsights.azure.com/;...`,
    ],
  });
}

/** How many error lines the release logs on staging: past the warning line (5) of the world's healthThresholds. */
export const stagingErrorLines = 8;

/**
 * Makes the image CI pushed log errors on staging as soon as it starts, while it stays
 * ready: its calls to the payments service fail, which no HTTP check of the gate reaches.
 */
export function logErrorsOnStaging(world: EmulatedWorld, ciRunFolder: string): void {
  world.clusters.staging.setImageBehaviour(stagingImage(world, ciRunFolder), {
    logs: [
      'info orders-api listening on :8080',
      ...Array.from(
        { length: stagingErrorLines },
        (_, index) =>
          `error payments: POST https://payments.orders.svc/api/charges failed: connect ECONNREFUSED 10.0.42.7:443 (order ord-${1001 + index})`,
      ),
    ],
  });
}
