import argon2 from 'argon2';
import bcrypt from 'bcryptjs';

export interface Argon2Params {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

/** bcrypt hashes as the Go easy-chat stored them ($2a$/$2b$/$2y$, cost in the hash). */
const BCRYPT = /^\$2[aby]\$\d{2}\$/;

/**
 * argon2id hashing; cost comes from config (cheap in tests, OWASP profile by default).
 * Hashes imported from the Go easy-chat are bcrypt: they are verified as such and
 * replaced by argon2id at the next successful login (`needsRehash`).
 */
export class PasswordHasher {
  /** A hash of a random string, verified against when a phone is unknown so timing does not reveal it. */
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly params: Argon2Params) {}

  hash(password: string): Promise<string> {
    return argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: this.params.memoryKib,
      timeCost: this.params.timeCost,
      parallelism: this.params.parallelism,
    });
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      if (BCRYPT.test(hash)) return await bcrypt.compare(password, hash);
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  /** Whether a hash that just verified should be replaced by an argon2id one. */
  needsRehash(hash: string): boolean {
    return !hash.startsWith('$argon2id$');
  }

  /** Spends the same time as a real verification, always failing. */
  async verifyAgainstDummy(password: string): Promise<false> {
    this.dummyHash ??= this.hash(`dummy-${Math.random()}`);
    await this.verify(await this.dummyHash, password);
    return false;
  }
}
