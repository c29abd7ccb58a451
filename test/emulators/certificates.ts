// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { X509Certificate as NodeX509Certificate, webcrypto } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

// The emulators trust nothing but this run's own CA: a fresh one per test process, so a
// key never outlives the run and TLS verification stays on everywhere.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const rsa = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
} as const;

/** Every name the emulated cloud answers to over HTTPS. */
export const emulatedHostNames: readonly string[] = [
  'azure.test',
  '*.azure.test',
  '*.vault.azure.test',
  '*.azurecr.azure.test',
  '*.hcp.azure.test',
  'localhost',
  '127.0.0.1',
];

/** A certificate and its private key, both PEM. */
export interface IssuedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-1 thumbprint, upper-case hex, as Azure shows it for an app's certificate. */
  readonly thumbprint: string;
}

/** What a leaf certificate is for; a server certificate by default. */
export interface LeafOptions {
  readonly usage?: 'server' | 'client';
  /** RSA when a consumer insists on it (MSAL signs client assertions with RS256). */
  readonly keyType?: 'ec' | 'rsa';
  readonly commonName?: string;
}

/** The per-run certificate authority: its PEM, the file children trust it from, and a way to issue leaves. */
export interface TestCertificateAuthority {
  readonly caPem: string;
  /** Mode 0600 file in a 0700 directory; point NODE_EXTRA_CA_CERTS here. */
  readonly caFile: string;
  /** The emulators' own server certificate, valid for `emulatedHostNames`. */
  readonly server: IssuedCertificate;
  /** Issues another leaf from the same CA, e.g. for a registry container that serves TLS itself. */
  issue(names: readonly string[], options?: LeafOptions): Promise<IssuedCertificate>;
  /** Writes PEM text beside the CA file (mode 0600) and returns its path. */
  writeFile(name: string, pem: string): string;
  /** Removes the temporary directory. */
  dispose(): void;
}

/** Creates a CA for this run, its server certificate, and writes the CA PEM to a private temp file. */
export async function createTestCertificateAuthority(): Promise<TestCertificateAuthority> {
  const caKeys = await webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify']);
  const caName = `CN=AKS Release Flow test CA ${new Date().toISOString()}`;
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    name: caName,
    keys: caKeys as webcrypto.CryptoKeyPair,
    signingAlgorithm: ecdsa,
    notBefore: hoursFromNow(-1),
    notAfter: hoursFromNow(48),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey as webcrypto.CryptoKey),
    ],
  });

  const issue = async (names: readonly string[], options: LeafOptions = {}): Promise<IssuedCertificate> => {
    const algorithm = options.keyType === 'rsa' ? rsa : ecdsa;
    const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.create({
      subject: `CN=${options.commonName ?? names[0] ?? 'emulated'}`,
      issuer: caCert.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ecdsa,
      notBefore: hoursFromNow(-1),
      notAfter: hoursFromNow(47),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment),
        new x509.ExtendedKeyUsageExtension([
          options.usage === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth,
        ]),
        ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names.map(generalName))] : []),
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ],
    });
    return toIssued(cert, keys.privateKey);
  };

  const dir = mkdtempSync(join(tmpdir(), 'emulated-azure-'));
  chmodSync(dir, 0o700);
  const writeFile = (name: string, pem: string): string => {
    const path = join(dir, name);
    writeFileSync(path, pem, { mode: 0o600 });
    return path;
  };
  const caPem = caCert.toString('pem') + '\n';
  return {
    caPem,
    caFile: writeFile('ca.pem', caPem),
    server: await issue(emulatedHostNames),
    issue,
    writeFile,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A self-signed RSA certificate as an app registration holds: Entra only needs its
 * public half, and MSAL signs client assertions with the private key (RS256).
 */
export async function createAppCertificate(commonName: string): Promise<IssuedCertificate> {
  const keys = (await webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: rsa,
    notBefore: hoursFromNow(-1),
    notAfter: hoursFromNow(48),
  });
  return toIssued(cert, keys.privateKey);
}

async function toIssued(
  cert: x509.X509Certificate,
  privateKey: webcrypto.CryptoKey,
): Promise<IssuedCertificate> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', privateKey);
  const certPem = cert.toString('pem') + '\n';
  return {
    certPem,
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n',
    thumbprint: new NodeX509Certificate(certPem).fingerprint.replace(/:/g, ''),
  };
}

function generalName(name: string): x509.JsonGeneralName {
  return /^[\d.]+$/.test(name) || name.includes(':')
    ? { type: 'ip', value: name }
    : { type: 'dns', value: name };
}

function hoursFromNow(hours: number): Date {
  return new Date(Date.now() + hours * 3_600_000);
}
