import { readFileSync } from 'node:fs';
import * as tl from 'azure-pipelines-task-lib/task';
import type { NetworkSettings } from './network';

/** Reads the agent's proxy and CA settings (Agent.ProxyUrl, Agent.ProxyBypassList, Agent.CAInfo). */
export function readNetworkSettings(): NetworkSettings {
  const url = tl.getVariable('Agent.ProxyUrl');
  const bypass = JSON.parse(tl.getVariable('Agent.ProxyBypassList') || '[]') as string[];
  const caFile = tl.getVariable('Agent.CAInfo');
  return {
    ...(url
      ? {
          proxy: {
            url,
            username: tl.getVariable('Agent.ProxyUsername') || undefined,
            password: tl.getVariable('Agent.ProxyPassword') || undefined,
            bypass: bypass.map((pattern) => new RegExp(pattern, 'i')),
          },
        }
      : {}),
    ...(caFile ? { extraCaPem: readFileSync(caFile, 'utf8') } : {}),
  };
}
