import { Agent, request } from 'node:https';
import type { Blob, Manifest } from './content';

/**
 * Seeds a registry with content from the builder, over plain HTTPS and independently
 * of the task's own registry client, so tests never check that client against itself.
 */
export interface SeedTarget {
  /** `https://host:port` of the registry or of the ACR front. */
  readonly baseUrl: string;
  readonly caPem: string;
  /** Value of the Authorization header, when the endpoint needs one. */
  readonly authorization?: string;
}

/** A response read whole: seeding only moves test-sized bodies. */
export interface SeedResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

const agents = new Map<string, Agent>();

/** Sends one request and reads the whole answer. */
export function send(
  target: SeedTarget,
  method: string,
  path: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<SeedResponse> {
  const key = target.baseUrl + target.caPem.length;
  const agent = agents.get(key) ?? new Agent({ keepAlive: true, ca: target.caPem });
  agents.set(key, agent);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, target.baseUrl),
      {
        method,
        agent,
        headers: {
          ...(target.authorization ? { authorization: target.authorization } : {}),
          ...(body ? { 'content-length': String(body.length) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Uploads a blob unless the registry has it (POST then a monolithic PUT). */
export async function pushBlob(target: SeedTarget, repository: string, content: Blob): Promise<void> {
  const head = await send(target, 'HEAD', `/v2/${repository}/blobs/${content.digest}`);
  if (head.status === 200) return;
  const start = await expect(send(target, 'POST', `/v2/${repository}/blobs/uploads/`), 202);
  const location = new URL(String(start.headers.location), target.baseUrl);
  location.searchParams.set('digest', content.digest);
  await expect(
    send(target, 'PUT', location.pathname + location.search, content.bytes, {
      'content-type': 'application/octet-stream',
    }),
    201,
  );
}

/** Puts manifest bytes under `reference` (a digest or a tag). */
export async function putManifest(
  target: SeedTarget,
  repository: string,
  manifest: Blob,
  reference: string = manifest.digest,
): Promise<void> {
  await expect(
    send(target, 'PUT', `/v2/${repository}/manifests/${reference}`, manifest.bytes, {
      'content-type': manifest.mediaType,
    }),
    201,
  );
}

/** Pushes a manifest with its blobs and children (children first), then tags it. */
export async function pushImage(
  target: SeedTarget,
  repository: string,
  manifest: Manifest,
  tags: readonly string[] = [],
): Promise<void> {
  for (const child of manifest.children) await pushImage(target, repository, child);
  await Promise.all(manifest.blobs.map((each) => pushBlob(target, repository, each)));
  await putManifest(target, repository, manifest);
  for (const tag of tags) await putManifest(target, repository, manifest, tag);
}

/** Closes the keep-alive connections seeding opened. */
export function closeSeedConnections(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

async function expect(response: Promise<SeedResponse>, status: number): Promise<SeedResponse> {
  const answer = await response;
  if (answer.status !== status) {
    throw new Error(
      `registry answered ${answer.status} (expected ${status}): ${answer.body.toString().slice(0, 300)}`,
    );
  }
  return answer;
}
