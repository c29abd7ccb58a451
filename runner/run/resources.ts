/**
 * The runner's resources file: what Azure DevOps holds for a pipeline outside its YAML.
 * Service connections, environments and their Kubernetes resources, the local folders of
 * the repositories a pipeline names, the folders of other pipelines' runs (pipeline
 * resources), variable groups, and what the machine needs to reach the services (a CA
 * bundle, host names, environment for task processes).
 *
 * ```yaml
 * repositories:            # alias → folder, relative to this file
 *   self: .
 *   releaseFlow: ../aks-release-flow
 * connections:             # by the name a pipeline uses
 *   orders-nonprod:
 *     type: azurerm
 *     url: https://management.azure.com/
 *     scheme: ServicePrincipal
 *     parameters: { tenantid: ..., serviceprincipalid: ..., serviceprincipalkey: ..., authenticationType: spnKey }
 *     data: { subscriptionId: ..., environment: AzureCloud }
 * environments:
 *   staging:
 *     orders: { type: Kubernetes, connection: staging-kubernetes, namespace: orders }
 * pipelines:               # a pipeline resource's source → the folder holding that pipeline's runs
 *   orders-api-ci: runs/orders-api-ci
 * variableGroups:
 *   shared: { variables: { region: westeurope }, secrets: { apiKey: ... } }
 * machine:
 *   caFile: ca.pem
 *   hosts: { contosononprod.azurecr.io: 127.0.0.1 }
 *   env: { NODE_OPTIONS: --require /path/preload.cjs }
 * ```
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import type { ServiceConnection } from '../builtin/types';

/** A Kubernetes resource of an environment. */
export interface EnvironmentResource {
  readonly name: string;
  readonly type: 'Kubernetes';
  /** The name of the Kubernetes service connection it deploys through. */
  readonly connection: string;
  readonly namespace?: string;
}

/** A variable group's values. */
export interface VariableGroup {
  readonly variables: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, string>>;
}

/** The resources file, read and checked. */
export interface RunnerResources {
  /** The file it came from; undefined when built in memory. */
  readonly file?: string;
  /** Repository alias → absolute folder. `self` defaults to the pipeline file's repository. */
  readonly repositories: Readonly<Record<string, string>>;
  readonly connections: readonly ServiceConnection[];
  /** Environment name → resource name → resource. */
  readonly environments: Readonly<Record<string, Readonly<Record<string, EnvironmentResource>>>>;
  /** A pipeline's name → the absolute folder holding its runs. */
  readonly pipelines: Readonly<Record<string, string>>;
  readonly variableGroups: Readonly<Record<string, VariableGroup>>;
  readonly machine: {
    readonly caFile?: string;
    readonly hosts: Readonly<Record<string, string>>;
    /** Added to the environment of every task and script. */
    readonly env: Readonly<Record<string, string>>;
  };
}

/** A mistake in the resources file: one line naming the file and the entry. */
export class ResourcesError extends Error {
  override name = 'ResourcesError';
}

/** No resources at all: every connection, environment and pipeline resource is then missing. */
export const emptyResources: RunnerResources = {
  repositories: {},
  connections: [],
  environments: {},
  pipelines: {},
  variableGroups: {},
  machine: { hosts: {}, env: {} },
};

const connectionTypes = ['azurerm', 'dockerregistry', 'kubernetes', 'generic', 'github', 'git'] as const;

/** A connection id as Azure DevOps gives one: a GUID, here derived from the name so it is stable. */
export function connectionId(name: string): string {
  const hex = createHash('sha256').update(`aks-release-flow-runner/${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Reads and checks a resources file; every problem is a ResourcesError naming the entry. */
export function readResources(file: string): RunnerResources {
  const path = resolve(file);
  if (!existsSync(path)) throw new ResourcesError(`The resources file ${file} does not exist.`);
  let document: unknown;
  try {
    document = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ResourcesError(`${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseResources(document ?? {}, path);
}

/** Checks resources given as data; relative paths are taken from the folder of `file`. */
export function parseResources(document: unknown, file: string): RunnerResources {
  const base = dirname(file);
  const where = (path: string) => `${file}: ${path}`;
  const top = mapping(document, where('the file'));
  const known = ['repositories', 'connections', 'environments', 'pipelines', 'variableGroups', 'machine'];
  for (const key of Object.keys(top)) {
    if (!known.includes(key)) {
      throw new ResourcesError(
        `${where(key)} is not a resources section; expected one of: ${known.join(', ')}.`,
      );
    }
  }

  const repositories: Record<string, string> = {};
  for (const [alias, folder] of Object.entries(mapping(top.repositories ?? {}, where('repositories')))) {
    const path = resolve(base, text(folder, where(`repositories.${alias}`)));
    if (!existsSync(path) || !statSync(path).isDirectory()) {
      throw new ResourcesError(`${where(`repositories.${alias}`)}: the folder ${path} does not exist.`);
    }
    repositories[alias] = path;
  }

  const connections: ServiceConnection[] = [];
  for (const [name, value] of Object.entries(mapping(top.connections ?? {}, where('connections')))) {
    const at = where(`connections.${name}`);
    const entry = mapping(value, at);
    const type = text(entry.type, `${at}.type`).toLowerCase();
    if (!(connectionTypes as readonly string[]).includes(type)) {
      throw new ResourcesError(`${at}.type is '${type}'; expected one of: ${connectionTypes.join(', ')}.`);
    }
    connections.push({
      id: typeof entry.id === 'string' ? entry.id : connectionId(name),
      name,
      type,
      url: text(entry.url, `${at}.url`),
      scheme: text(entry.scheme, `${at}.scheme`),
      parameters: strings(entry.parameters ?? {}, `${at}.parameters`),
      data: strings(entry.data ?? {}, `${at}.data`),
    });
  }

  const environments: Record<string, Record<string, EnvironmentResource>> = {};
  for (const [name, value] of Object.entries(mapping(top.environments ?? {}, where('environments')))) {
    const resources: Record<string, EnvironmentResource> = {};
    for (const [resource, raw] of Object.entries(mapping(value ?? {}, where(`environments.${name}`)))) {
      const at = where(`environments.${name}.${resource}`);
      const entry = mapping(raw, at);
      if (entry.type !== 'Kubernetes') {
        throw new ResourcesError(
          `${at}.type must be Kubernetes, the only resource type the runner deploys to.`,
        );
      }
      const connection = text(entry.connection, `${at}.connection`);
      if (!connections.some((each) => each.name === connection)) {
        throw new ResourcesError(
          `${at}.connection names '${connection}', which connections does not declare.`,
        );
      }
      resources[resource] = {
        name: resource,
        type: 'Kubernetes',
        connection,
        ...(entry.namespace === undefined ? {} : { namespace: text(entry.namespace, `${at}.namespace`) }),
      };
    }
    environments[name] = resources;
  }

  const pipelines: Record<string, string> = {};
  for (const [name, folder] of Object.entries(mapping(top.pipelines ?? {}, where('pipelines')))) {
    pipelines[name] = resolve(base, text(folder, where(`pipelines.${name}`)));
  }

  const variableGroups: Record<string, VariableGroup> = {};
  for (const [name, value] of Object.entries(mapping(top.variableGroups ?? {}, where('variableGroups')))) {
    const at = where(`variableGroups.${name}`);
    const entry = mapping(value, at);
    variableGroups[name] = {
      variables: strings(entry.variables ?? {}, `${at}.variables`),
      secrets: strings(entry.secrets ?? {}, `${at}.secrets`),
    };
  }

  const machineEntry = mapping(top.machine ?? {}, where('machine'));
  const caFile =
    machineEntry.caFile === undefined
      ? undefined
      : resolve(base, text(machineEntry.caFile, where('machine.caFile')));
  if (caFile && !existsSync(caFile)) {
    throw new ResourcesError(`${where('machine.caFile')}: the file ${caFile} does not exist.`);
  }
  return {
    file,
    repositories,
    connections,
    environments,
    pipelines,
    variableGroups,
    machine: {
      ...(caFile ? { caFile } : {}),
      hosts: strings(machineEntry.hosts ?? {}, where('machine.hosts')),
      env: strings(machineEntry.env ?? {}, where('machine.env')),
    },
  };
}

function mapping(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ResourcesError(`${where} must be a mapping.`);
  }
  return value as Record<string, unknown>;
}

function text(value: unknown, where: string): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string' || value.length === 0)
    throw new ResourcesError(`${where} must be set (text).`);
  return value;
}

function strings(value: unknown, where: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(mapping(value, where)).map(([key, each]) => [
      key,
      each === null || each === '' ? '' : text(each, `${where}.${key}`),
    ]),
  );
}
