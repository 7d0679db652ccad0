/** For the hub's envelope and bundle tests: hosts with a host key and a box key, and the code an envelope error carries. */
import { generateKeyPairSync } from 'node:crypto';
import { boxPublicKey, generateBoxKey, HubEnvelopeError, type HubEnvelopeErrorCode } from '../../src/hub/envelope.js';
import { keyFingerprint } from '../../src/security/certificate.js';

/** A host as the hub knows it: its name, host key pair (Ed25519, or a site CA's RSA) and fingerprint, and its box key. */
export function sealingHost(name: string, type: 'ed25519' | 'rsa' = 'ed25519') {
  const { privateKey, publicKey } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  const box = generateBoxKey();
  return { name, privateKey, publicKey, fingerprint: keyFingerprint(publicKey), box, boxPublic: boxPublicKey(box) };
}
export type SealingHost = ReturnType<typeof sealingHost>;

/** The HubEnvelopeError code `run` throws, 'none' if it returns; any other exception fails the test. */
export function envelopeErrorCode(run: () => unknown): HubEnvelopeErrorCode | 'none' {
  try {
    run();
  } catch (error) {
    if (error instanceof HubEnvelopeError) return error.code;
    throw error;
  }
  return 'none';
}
