import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostIdentity } from '../security/host-identity.js';
import { boxPublicKey, newBoxKeyPem, signBoxKey } from './envelope.js';

/** The file of this host's box key (X25519, mode 0600), beside the host key in the data dir. */
export const BOX_KEY_FILE = 'hub-box-key.pem';

/** This host's key for messages sealed to it through the hub, and the host key's word that it is this host's. */
export interface HubKeys {
  readonly box: KeyObject;
  readonly boxPublic: string;
  readonly boxSig: string;
}

/** Reads the box key, or makes it at first use; binds it to the host key. */
export async function loadHubKeys(dataDir: string, identity: HostIdentity): Promise<HubKeys> {
  const path = join(dataDir, BOX_KEY_FILE);
  let box: KeyObject;
  try {
    box = createPrivateKey(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const pem = newBoxKeyPem();
    // wx: two daemons racing on one data dir do not overwrite each other's key
    await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
    box = createPrivateKey(pem);
  }
  const boxPublic = boxPublicKey(box);
  return { box, boxPublic, boxSig: signBoxKey(identity.privateKey, identity.name, boxPublic) };
}
