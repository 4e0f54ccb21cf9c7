import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Provider secrets (access tokens, app secrets) at rest: AES-256-GCM under SECRETS_KEY, stored as
 * `v1:<iv b64>:<tag b64>:<ciphertext b64>`. A wrong key or a tampered value fails to decrypt.
 */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

/** SECRETS_KEY: 32 bytes as 64 hex characters or base64. */
export function parseSecretsKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new Error('SECRETS_KEY must be 32 bytes, as 64 hex characters or base64.');
  return key;
}

export function generateSecretsKey(): string {
  return randomBytes(32).toString('hex');
}

export function createSecretBox(secretsKey: string | undefined): SecretBox {
  const key = secretsKey ? parseSecretsKey(secretsKey) : undefined;
  const need = () => {
    if (!key) throw new Error('SECRETS_KEY is not set: provider secrets cannot be stored or read.');
    return key;
  };
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', need(), iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(':');
    },
    open(sealed) {
      const [version, iv, tag, data] = sealed.split(':');
      if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', need(), Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    },
  };
}

/** A short, non-reversible fingerprint, to tell a changed secret apart without showing it. */
export const secretFingerprint = (plain: string) => createHash('sha256').update(plain).digest('hex').slice(0, 8);
