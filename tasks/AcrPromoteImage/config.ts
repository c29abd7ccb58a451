import { quoted } from '../shared/known-secrets';
import { TaskError } from '../shared/task-error';
import type { PromoteRequest } from './promote';

/**
 * Parsers for the task's inputs, pure: each takes the raw text and returns a typed
 * value or throws a TaskError whose message lists the accepted forms and quotes the value
 * redacted and cut to 200 characters.
 */

/** How to move the image: ask ARM to import it server-side, copy it ourselves, or choose. */
export type Method = 'auto' | 'copy' | 'import';

/** The accepted `method` values. */
export const methods: readonly Method[] = ['auto', 'copy', 'import'];

/** A parsed `sourceImage`. */
export interface ImageReference {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

// The distribution spec's grammar: lower-case path components joined by `/`, each made of
// alphanumerics with single separators (`.`, `_`, `__`, or runs of `-`).
const repositoryPattern =
  /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const digestPattern = /^sha256:[a-f0-9]{64}$/;
// ACR's limit on a repository name, which is below what the spec's grammar allows.
const maxRepositoryLength = 256;

/** Parses `repo:tag`, `repo@sha256:<hex>` or `repo:tag@sha256:<hex>`. */
export function parseImageReference(text: string): ImageReference {
  const bad = (): TaskError => new TaskError('BadImageReference', [quoted(text)]);
  const [name, digest, ...extra] = text.trim().split('@');
  if (!name || extra.length > 0) throw bad();
  if (digest !== undefined && !digestPattern.test(digest)) throw bad();
  const colon = name.lastIndexOf(':');
  const slash = name.lastIndexOf('/');
  const hasTag = colon > slash;
  const repository = hasTag ? name.slice(0, colon) : name;
  const tag = hasTag ? name.slice(colon + 1) : undefined;
  const firstComponent = repository.split('/')[0] ?? '';
  // A registry host in front of the repository (`contoso.azurecr.io/app`) belongs in sourceRegistry.
  if (repository.includes('/') && /[.:]/.test(firstComponent)) {
    throw new TaskError('ImageReferenceHasRegistry', [quoted(text), quoted(firstComponent)]);
  }
  if (repository.length > maxRepositoryLength || !repositoryPattern.test(repository)) throw bad();
  if (tag !== undefined && !tagPattern.test(tag)) throw bad();
  if (tag === undefined && digest === undefined) throw bad();
  return { repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** Parses a repository name (`targetRepository`). */
export function parseRepository(text: string): string {
  const repository = text.trim();
  if (repository.length > maxRepositoryLength || !repositoryPattern.test(repository)) {
    throw new TaskError('BadRepository', [quoted(text)]);
  }
  return repository;
}

/** Parses target tags, one a line. */
export function parseTags(lines: readonly string[]): string[] {
  for (const tag of lines) if (!tagPattern.test(tag)) throw new TaskError('BadTag', [quoted(tag)]);
  return [...new Set(lines)];
}

// The clouds whose registries have a well-known login server domain, by that domain.
const acrCloudNames: Readonly<Record<string, string>> = {
  'azurecr.io': 'AzureCloud',
  'azurecr.us': 'AzureUSGovernment',
  'azurecr.cn': 'AzureChinaCloud',
};

// Login server suffixes by cloud, as connections name it (in lower case).
const acrSuffixes: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(acrCloudNames).map(([suffix, cloud]) => [cloud.toLowerCase(), suffix]),
);

// DNS limits: a host name is at most 253 characters, each of its labels at most 63.
const maxHostLength = 253;
const maxLabelLength = 63;

/**
 * Turns `sourceRegistry`/`targetRegistry` into a login server. An ACR name (5 to 50
 * letters and digits) gets its cloud's domain; a login server or `host:port` is taken
 * as written (lower-cased), with an `https://` prefix or a trailing `/` forgiven. A login
 * server under another cloud's registry domain (`.azurecr.cn` for an AzureCloud
 * connection) is refused: the connection's token would not be accepted there.
 */
export function parseRegistry(inputName: string, text: string, environment: string): string {
  const value = text
    .trim()
    .replace(/^https:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
  if (/^[a-z0-9]{5,50}$/.test(value)) {
    const suffix = acrSuffixes[environment.toLowerCase()];
    if (!suffix) throw new TaskError('RegistryNameNeedsLoginServer', [inputName, quoted(text), environment]);
    return `${value}.${suffix}`;
  }
  const hostPort =
    /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::(\d{1,5}))?$/.exec(value);
  const host = hostPort?.[1] ?? '';
  const port = hostPort?.[2] ? Number(hostPort[2]) : undefined;
  if (
    !hostPort ||
    host.length > maxHostLength ||
    host.split('.').some((label) => label.length > maxLabelLength) ||
    (port !== undefined && (port < 1 || port > 65535)) ||
    (!value.includes('.') && port === undefined)
  ) {
    throw new TaskError('BadRegistry', [inputName, quoted(text)]);
  }
  const registryCloud = Object.entries(acrCloudNames).find(([suffix]) => host.endsWith(`.${suffix}`))?.[1];
  if (registryCloud && registryCloud.toLowerCase() !== environment.toLowerCase()) {
    throw new TaskError('RegistryInOtherCloud', [
      inputName,
      value,
      registryCloud,
      environment,
      connectionInputOf(inputName),
      registryCloud,
    ]);
  }
  return value;
}

// The connection input that signs in to the registry an input names.
function connectionInputOf(registryInput: string): string {
  return registryInput === 'sourceRegistry' ? 'sourceConnection' : 'targetConnection';
}

/**
 * `auto` imports server-side when ARM can: both registries are ACRs (their login servers
 * carry the cloud's registry domain), in the same cloud, and both connections name a
 * subscription to find them in. Otherwise, and for `copy`, the agent copies.
 */
export function chooseMethod(
  method: Method,
  config: Pick<PromoteConfig, 'request' | 'sameCloud'>,
  environment: string,
  subscriptionsKnown: boolean,
): 'import' | 'copy' {
  if (method !== 'auto') return method;
  const suffix = acrSuffixes[environment.toLowerCase()];
  const isAcr = (registry: string) => suffix !== undefined && registry.endsWith('.' + suffix);
  const { source, target } = config.request;
  return config.sameCloud && subscriptionsKnown && isAcr(source.registry) && isAcr(target.registry)
    ? 'import'
    : 'copy';
}

/** Raw inputs, as the entry file reads them. */
export interface RawInputs {
  readonly sourceRegistry: string;
  readonly sourceImage: string;
  readonly targetRegistry: string;
  readonly targetRepository?: string;
  readonly targetTags: readonly string[];
  readonly copyReferrers: boolean;
  readonly overwriteTags: boolean;
  readonly lockAfterPromotion: boolean;
  readonly method: Method;
  /** The clouds of the two connections (AzureCloud, AzureUSGovernment...). */
  readonly sourceEnvironment: string;
  readonly targetEnvironment: string;
}

/** The task's whole configuration. */
export interface PromoteConfig {
  readonly request: PromoteRequest;
  readonly lockAfterPromotion: boolean;
  readonly method: Method;
  readonly sameCloud: boolean;
}

/** Blobs in flight at once: enough to fill a link, few enough to stay well under the memory goal. */
export const blobConcurrency = 8;

/** Builds the configuration, or throws the first problem found. */
export function parseConfig(raw: RawInputs): PromoteConfig {
  const sourceRegistry = parseRegistry('sourceRegistry', raw.sourceRegistry, raw.sourceEnvironment);
  const targetRegistry = parseRegistry('targetRegistry', raw.targetRegistry, raw.targetEnvironment);
  const image = parseImageReference(raw.sourceImage);
  const targetRepository = raw.targetRepository ? parseRepository(raw.targetRepository) : image.repository;
  const tags = parseTags(raw.targetTags.length > 0 ? raw.targetTags : image.tag ? [image.tag] : []);
  if (tags.length === 0) throw new TaskError('NoTargetTags', [quoted(raw.sourceImage)]);
  if (sourceRegistry === targetRegistry && image.repository === targetRepository) {
    throw new TaskError('SameSourceAndTarget', [`${sourceRegistry}/${targetRepository}`]);
  }
  return {
    request: {
      source: { registry: sourceRegistry, ...image },
      target: { registry: targetRegistry, repository: targetRepository, tags },
      copyReferrers: raw.copyReferrers,
      overwriteTags: raw.overwriteTags,
      concurrency: blobConcurrency,
    },
    lockAfterPromotion: raw.lockAfterPromotion,
    method: raw.method,
    sameCloud: raw.sourceEnvironment.toLowerCase() === raw.targetEnvironment.toLowerCase(),
  };
}
