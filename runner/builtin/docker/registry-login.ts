/**
 * A Docker registry service connection as Docker@2 reads it (docker-common's
 * GenericAuthenticationTokenProvider: the `registry`, `username` and `password`
 * authorization parameters), the image names it qualifies (ContainerConnection
 * .prefixRegistryIfRequired), and the auth files buildah reads credentials from.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { BuiltinContext } from '../types';
import { StepFailure } from '../support/failure';
import { textInput } from '../support/inputs';

/** The credentials of one registry. */
export interface RegistryLogin {
  /** The registry as the connection names it (a URL or a host). */
  readonly registry: string;
  /** `host[:port]`: what image names are prefixed with and what auth files are keyed by. */
  readonly host: string;
  readonly username: string;
  readonly password: string;
}

/** Docker Hub's login server: its images are not prefixed (ContainerConnection). */
const dockerHub = 'index.docker.io';

/** The containerRegistry input's connection, or undefined when the input is empty. */
export function registryLogin(context: BuiltinContext): RegistryLogin | undefined {
  const name = textInput(context, 'containerRegistry');
  if (!name) return undefined;
  const connection = context.connection(name);
  if (!connection) {
    throw new StepFailure(
      `Service connection '${name}' (containerRegistry) was not found: declare it in the runner's resources file, or fix containerRegistry.`,
    );
  }
  if (connection.type.toLowerCase() !== 'dockerregistry') {
    throw new StepFailure(
      `Service connection '${name}' is of type ${connection.type}, not dockerregistry: containerRegistry needs a Docker registry connection.`,
    );
  }
  if (connection.scheme !== 'UsernamePassword') {
    throw new StepFailure(
      `Service connection '${name}' uses the ${connection.scheme} scheme; the local runner signs in to registries with UsernamePassword only: give the connection a username and password.`,
    );
  }
  const registry = connection.parameters.registry || connection.url;
  const { username, password } = connection.parameters;
  if (!registry || !username || !password) {
    throw new StepFailure(
      `Service connection '${name}' lacks its ${!registry ? 'registry' : !username ? 'username' : 'password'}: set registry, username and password on it.`,
    );
  }
  return { registry, host: registryHost(registry), username, password };
}

/** `host[:port]` of a registry written as a URL (`https://host:port/`) or as a bare host. */
export function registryHost(registry: string): string {
  const trimmed = registry.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return new URL(trimmed).host;
  return trimmed.replace(/\/+$/, '');
}

/**
 * `repository` qualified with the registry's host (not for Docker Hub), lower-cased and
 * without spaces as the real task's generateValidImageName makes it.
 */
export function qualifiedImageName(host: string, repository: string): string {
  return validImageName(host.toLowerCase() === dockerHub ? repository : `${host}/${repository}`);
}

/** An image name as the real task's generateValidImageName makes it: lower case, no spaces. */
export function validImageName(name: string): string {
  return name.toLowerCase().replace(/ /g, '');
}

/** The `auth` value of an auth file entry: base64 of `username:password`. */
export function basicAuth(login: RegistryLogin): string {
  return Buffer.from(`${login.username}:${login.password}`).toString('base64');
}

/** Writes a containers-auth.json (docker config.json format) for `logins`, mode 0600 in a 0700 folder. */
export function writeAuthFile(path: string, logins: readonly RegistryLogin[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const auths = Object.fromEntries(logins.map((login) => [login.host, { auth: basicAuth(login) }]));
  writeFileSync(path, JSON.stringify({ auths }, null, 2), { mode: 0o600 });
}

/**
 * The config.json of an earlier `Docker@2 login` (the DOCKER_CONFIG variable), when it is
 * inside Agent.TempDirectory as the real task requires; undefined otherwise.
 */
export function loggedInConfig(context: BuiltinContext): string | undefined {
  const folder = context.variable('DOCKER_CONFIG');
  if (!folder) return undefined;
  const file = join(folder, 'config.json');
  const inside = !relative(context.dirs.temp, file).startsWith('..');
  return inside && existsSync(file) ? file : undefined;
}

/** The registries an earlier login's config.json holds credentials for. */
export function loggedInRegistries(configFile: string): string[] {
  try {
    const parsed = JSON.parse(readFileSync(configFile, 'utf8')) as { auths?: Record<string, unknown> };
    return Object.keys(parsed.auths ?? {});
  } catch {
    throw new StepFailure(
      `The Docker config ${configFile} (from an earlier Docker@2 login) is not valid JSON: log in again.`,
    );
  }
}

/** Removes `registry`'s credentials from a login's config.json; the folder goes with the last one. */
export function removeLogin(
  configFile: string,
  registryHostName: string | undefined,
): 'removed' | 'absent' | 'all' {
  if (registryHostName === undefined) {
    rmSync(dirname(configFile), { recursive: true, force: true });
    return 'all';
  }
  const parsed = JSON.parse(readFileSync(configFile, 'utf8')) as { auths?: Record<string, unknown> };
  const auths = parsed.auths ?? {};
  if (!(registryHostName in auths)) return 'absent';
  delete auths[registryHostName];
  if (Object.keys(auths).length === 0) {
    rmSync(dirname(configFile), { recursive: true, force: true });
    return 'all';
  }
  writeFileSync(configFile, JSON.stringify({ ...parsed, auths }, null, 2), { mode: 0o600 });
  return 'removed';
}
