import type { TokenCredential } from '@azure/core-auth';
import { RegistryError } from './errors';
import { discard, readBody, type Transport } from './transport';

/**
 * Sign-in to a registry the way ACR expects: an Entra access token for the registry
 * audience is exchanged at `/oauth2/exchange` for an ACR refresh token, which
 * `/oauth2/token` turns into access tokens, one per set of repository scopes. Both are
 * cached (per registry, and per registry and scope) and fetched again before they expire.
 * A registry whose `/v2/` answers 200 without a challenge is read anonymously.
 *
 * Hand-written because the SDK's challenge handler asks for one scope per call and keeps
 * one token: a promotion needs pull on the source, pull+push on the target, and pull on a
 * sibling repository to mount from, at once, from parallel workers.
 * ACR token endpoints: https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md
 */
export interface RegistryCredentials {
  /** The Authorization header for `scopes` at `registry` (`host:port`), or undefined when anonymous. */
  authorization(registry: string, scopes: readonly string[], refresh: boolean): Promise<string | undefined>;
}

interface CachedToken {
  readonly token: string;
  /** When to stop using it: a margin before its `exp`. */
  readonly renewAt: number;
}

interface Challenge {
  readonly realm: URL;
  readonly service: string;
}

/** Longest margin before expiry at which a token is renewed. */
const renewMarginMs = 5 * 60_000;

/** ACR sign-in with an Entra credential; one instance per connection. */
export class AcrCredentials implements RegistryCredentials {
  private readonly challenges = new Map<string, Promise<Challenge | undefined>>();
  private readonly refreshTokens = new Map<string, Promise<CachedToken>>();
  private readonly accessTokens = new Map<string, Promise<CachedToken>>();

  /**
   * @param aadScope the Entra scope of the registry audience, e.g. `https://containerregistry.azure.net/.default`
   */
  constructor(
    private readonly transport: Transport,
    private readonly credential: TokenCredential,
    private readonly aadScope: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Token exchanges and token calls made so far, for the summary. */
  tokenRequests = 0;

  async authorization(
    registry: string,
    scopes: readonly string[],
    refresh: boolean,
  ): Promise<string | undefined> {
    const challenge = await this.challenge(registry);
    if (!challenge) return undefined;
    const key = `${registry} ${[...scopes].sort().join(' ')}`;
    if (refresh) this.accessTokens.delete(key);
    const token = await this.cached(this.accessTokens, key, () =>
      this.accessToken(registry, challenge, scopes),
    );
    return `Bearer ${token.token}`;
  }

  private challenge(registry: string): Promise<Challenge | undefined> {
    let pending = this.challenges.get(registry);
    if (!pending) {
      pending = this.probe(registry);
      pending.catch(() => this.challenges.delete(registry));
      this.challenges.set(registry, pending);
    }
    return pending;
  }

  // GET /v2/ without credentials tells a registry that wants tokens (401 + Bearer
  // challenge) from an open one (200), and an address that is no registry at all.
  private async probe(registry: string): Promise<Challenge | undefined> {
    const operation = 'GET /v2/ (sign-in)';
    const response = await this.transport.send({
      method: 'GET',
      url: new URL(`https://${registry}/v2/`),
      idempotent: true,
      operation,
    });
    await discard(response);
    if (response.status === 200) return undefined;
    const challenge = parseBearerChallenge(String(response.headers['www-authenticate'] ?? ''));
    // The Entra token is exchanged at the challenge's realm. ACR names its own login server
    // there; a realm on another host (or over plain http) would be handed the connection's
    // token, so it gets none.
    if (response.status === 401 && challenge && !isOwnRealm(challenge.realm, registry)) {
      throw new RegistryError('SignInElsewhere', {
        registry,
        operation,
        status: response.status,
        realmHost: challenge.realm.host,
      });
    }
    if (response.status === 401 && challenge) return challenge;
    throw new RegistryError(response.status === 404 ? 'RegistryNotFound' : 'Unexpected', {
      registry,
      operation,
      status: response.status,
    });
  }

  private async cached(
    cache: Map<string, Promise<CachedToken>>,
    key: string,
    fetch: () => Promise<CachedToken>,
  ): Promise<CachedToken> {
    const existing = cache.get(key);
    if (existing) {
      const token = await existing.catch(() => undefined);
      if (token && token.renewAt > this.now()) return token;
      if (cache.get(key) !== existing) return this.cached(cache, key, fetch);
    }
    const pending = fetch();
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
    return pending;
  }

  private async refreshToken(registry: string, challenge: Challenge): Promise<CachedToken> {
    const aad = await this.credential.getToken(this.aadScope);
    if (!aad)
      throw new RegistryError('SignInFailed', { registry, operation: 'Entra sign-in', message: 'no token' });
    const exchange = new URL('/oauth2/exchange', challenge.realm);
    const form = new URLSearchParams({
      grant_type: 'access_token',
      service: challenge.service,
      access_token: aad.token,
    });
    const body = await this.post(registry, exchange, form, 'POST /oauth2/exchange');
    return this.toCached(String(body.refresh_token ?? ''), registry, 'POST /oauth2/exchange');
  }

  private async accessToken(
    registry: string,
    challenge: Challenge,
    scopes: readonly string[],
  ): Promise<CachedToken> {
    const refresh = await this.cached(this.refreshTokens, registry, () =>
      this.refreshToken(registry, challenge),
    );
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      service: challenge.service,
      refresh_token: refresh.token,
    });
    for (const scope of scopes) form.append('scope', scope);
    const body = await this.post(registry, challenge.realm, form, 'POST /oauth2/token');
    return this.toCached(String(body.access_token ?? ''), registry, 'POST /oauth2/token');
  }

  private async post(
    registry: string,
    url: URL,
    form: URLSearchParams,
    operation: string,
  ): Promise<Record<string, unknown>> {
    this.tokenRequests++;
    const response = await this.transport.send({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(form.toString()),
      // A token request changes nothing on the server: asking twice is harmless.
      idempotent: true,
      operation,
    });
    const bytes = await readBody(response, 1024 * 1024);
    if (response.status !== 200) {
      throw new RegistryError(response.status === 429 ? 'Throttled' : 'SignInFailed', {
        registry,
        operation,
        status: response.status,
      });
    }
    return JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  }

  private toCached(token: string, registry: string, operation: string): CachedToken {
    const expiresAt = jwtExpiry(token);
    if (!token || expiresAt === undefined) {
      throw new RegistryError('SignInFailed', {
        registry,
        operation,
        message: 'the registry returned no usable token',
      });
    }
    const lifetime = expiresAt - this.now();
    return { token, renewAt: expiresAt - Math.min(renewMarginMs, lifetime / 4) };
  }
}

/** Parses `Bearer realm="…",service="…"`; undefined when it is not a Bearer challenge. */
export function parseBearerChallenge(header: string): Challenge | undefined {
  if (!/^Bearer\s/i.test(header)) return undefined;
  const params = new Map<string, string>();
  for (const match of header.matchAll(/(\w+)="([^"]*)"/g)) params.set(match[1]!.toLowerCase(), match[2]!);
  const realm = params.get('realm');
  const service = params.get('service');
  if (!realm || !service) return undefined;
  try {
    return { realm: new URL(realm), service };
  } catch {
    return undefined;
  }
}

function isOwnRealm(realm: URL, registry: string): boolean {
  return realm.protocol === 'https:' && realm.host === new URL(`https://${registry}`).host;
}

/** Milliseconds since the epoch at which a JWT expires; undefined when it is not a JWT with `exp`. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
