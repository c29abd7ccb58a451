import { constants, createSign, createVerify, type KeyObject } from 'node:crypto';

/** A JWT split into its decoded parts, before any check. */
export interface DecodedJwt {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly signingInput: string;
  readonly signature: Buffer;
}

/** Signs `payload` with RS256, the algorithm Entra and Azure DevOps use for their tokens. */
export function signJwt(
  payload: Record<string, unknown>,
  privateKey: KeyObject,
  header: Record<string, unknown> = {},
): string {
  const signingInput = `${base64url({ typ: 'JWT', alg: 'RS256', ...header })}.${base64url(payload)}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Splits and decodes a compact JWT; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as Record<string, unknown>,
      payload: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as Record<string, unknown>,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/**
 * Checks the signature with `publicKey`. RS256 and PS256 are the two algorithms MSAL
 * signs certificate assertions with (PS256 when it sends an x5t#S256 thumbprint).
 */
export function hasValidSignature(jwt: DecodedJwt, publicKey: KeyObject): boolean {
  const verify = createVerify('RSA-SHA256').update(jwt.signingInput);
  if (jwt.header.alg === 'RS256') return verify.verify(publicKey, jwt.signature);
  if (jwt.header.alg === 'PS256') {
    return verify.verify(
      { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
      jwt.signature,
    );
  }
  return false;
}

/** Seconds since the epoch, the unit of `exp`, `nbf` and `iat`. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
