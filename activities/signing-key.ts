import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import type { SecretRef } from '../workflows/definitions';
import { signingKeyRef } from '../workflows/naming';
import type { SecretStore } from '../secrets/secret-store';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const KEY_ALGORITHM = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};

export interface SigningKey {
  privateKey: SecretRef;
  certificatePem: string;
  expiresAt: string;
}

interface StoredSigningKey {
  privateKeyPem: string;
  certificatePem: string;
  expiresAt: string;
}

function toPem(der: ArrayBuffer, label: string): string {
  const body = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').trimEnd();
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

export function createSigningKeyActivities({ secrets, validityDays }: { secrets: SecretStore; validityDays: number }) {
  return {
    /**
     * Generates the RSA key pair and self-signed X.509 certificate for the JWT bearer flow. The private key goes
     * straight into the secret store under a reference derived from the operation, so a retry returns the same pair
     * instead of making a second one; only the public certificate leaves this activity.
     */
    async prepareSigningKey(input: { tenantId: string; operationId: string; commonName: string }): Promise<SigningKey> {
      const ref = signingKeyRef(input.tenantId, input.operationId);
      const existing = await secrets.get({ secretRef: ref });
      if (existing) {
        const stored = JSON.parse(existing) as StoredSigningKey;
        return { privateKey: { secretRef: ref }, certificatePem: stored.certificatePem, expiresAt: stored.expiresAt };
      }
      const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
      const notBefore = new Date(Date.now() - 60_000);
      const notAfter = new Date(notBefore.getTime() + validityDays * 86_400_000);
      const certificate = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex'),
        name: `CN=${input.commonName.replace(/[,=+<>#;"\\]/g, ' ')}`,
        notBefore,
        notAfter,
        signingAlgorithm: KEY_ALGORITHM,
        keys,
      });
      const stored: StoredSigningKey = {
        privateKeyPem: toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'),
        certificatePem: certificate.toString('pem'),
        expiresAt: notAfter.toISOString(),
      };
      await secrets.put(ref, JSON.stringify(stored));
      return { privateKey: { secretRef: ref }, certificatePem: stored.certificatePem, expiresAt: stored.expiresAt };
    },

    /** The public certificate of a stored key pair (to restore it if a rotation is undone). */
    async signingCertificateOf(input: { ref: SecretRef }): Promise<string | undefined> {
      const stored = await secrets.get(input.ref);
      return stored ? (JSON.parse(stored) as StoredSigningKey).certificatePem : undefined;
    },

    async deleteSecret(input: { ref: SecretRef }): Promise<void> {
      await secrets.delete(input.ref);
    },
  };
}
