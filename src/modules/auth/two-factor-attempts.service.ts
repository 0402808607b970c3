import { Injectable, Logger } from '@nestjs/common';
import { SecretBox } from '../../common/crypto/secret-box';
import { hashesEqual, sha256 } from '../../common/crypto/secret-token';
import { DomainError } from '../../common/errors/domain-error';
import { MailService } from '../../common/mail/mail.service';
import { Transaction } from '../../db/database';
import { UsersService } from '../users/users.service';
import { normalizeRecoveryCode, totpStepOf } from './totp';
import { TwoFactorRepository } from './two-factor.repository';
import { SecondFactor } from './two-factor.schemas';

/** Wrong second factors in a row, across challenges, that lock a user's second step. */
export const LOCKOUT_AFTER_FAILURES = 10;
const LOCKOUT_BASE_MS = 15 * 60_000;
/** Doubling stops here: a user who keeps being attacked is never shut out for days. */
const LOCKOUT_MAX_MS = 24 * 60 * 60_000;

const RECOVERY_CODE_MAC = 'recovery-code';

/** What checking a second factor came to; a refusal is thrown once its transaction has committed the count. */
export type FactorOutcome = { passed: true } | { passed: false; lockedUntil: Date | null; lockedNow: boolean };

/**
 * A user's second factors (TOTP codes and recovery codes), checked one at a time under the
 * credential's row lock. Wrong ones are counted per user, whichever challenge (or switch-off)
 * they came with: the tenth in a row locks the second step for 15 minutes, doubling with each
 * lockout until a right factor. While locked, every factor is refused, the right one too: a
 * correct password hands out fresh challenges, so a cap per challenge alone caps nothing.
 */
@Injectable()
export class TwoFactorAttemptsService {
  private readonly logger = new Logger('TwoFactor');

  constructor(
    private readonly repository: TwoFactorRepository,
    private readonly users: UsersService,
    private readonly box: SecretBox,
    private readonly mail: MailService,
  ) {}

  /**
   * Spends `factor` (a code's time step, or a recovery code) if it is right and the user is not
   * locked out; otherwise counts it. Undefined when the user has no confirmed authenticator.
   */
  async check(tx: Transaction, userId: string, factor: SecondFactor, now: Date): Promise<FactorOutcome | undefined> {
    const credential = await this.repository.lockCredential(tx, userId);
    if (!credential?.confirmedAt) return undefined;
    if (credential.lockedUntil && credential.lockedUntil > now) return { passed: false, lockedUntil: credential.lockedUntil, lockedNow: false };
    if (await this.spend(tx, userId, credential.secretSealed, factor, now)) {
      if (credential.failedAttempts > 0 || credential.lockouts > 0 || credential.lockedUntil) await this.repository.clearFailures(tx, userId);
      return { passed: true };
    }
    const counted = await this.repository.countFactorFailure(tx, userId);
    if (!counted || counted.failedAttempts < LOCKOUT_AFTER_FAILURES) return { passed: false, lockedUntil: null, lockedNow: false };
    const lockedUntil = new Date(now.getTime() + Math.min(LOCKOUT_BASE_MS * 2 ** Math.min(counted.lockouts, 16), LOCKOUT_MAX_MS));
    await this.repository.lockOut(tx, userId, lockedUntil);
    await this.mailLockout(tx, userId, lockedUntil, now);
    return { passed: false, lockedUntil, lockedNow: true };
  }

  /**
   * The refusal of a factor that did not pass: TWO_FACTOR_LOCKED while locked out (the lockout
   * that this factor started is logged, once; its mail was queued with it), else TWO_FACTOR_CODE_INVALID.
   */
  refusal(userId: string, outcome: Extract<FactorOutcome, { passed: false }>, now: Date): DomainError {
    if (!outcome.lockedUntil) return new DomainError('TWO_FACTOR_CODE_INVALID');
    if (outcome.lockedNow) {
      this.logger.warn(
        { event: 'two_factor_locked', userId, lockedUntil: outcome.lockedUntil.toISOString() },
        `Security: ${LOCKOUT_AFTER_FAILURES} wrong second factors in a row; the user's second step is locked`,
      );
    }
    const retryAfter = Math.max(1, Math.ceil((outcome.lockedUntil.getTime() - now.getTime()) / 1000));
    return new DomainError('TWO_FACTOR_LOCKED', { params: { retryAfter } });
  }

  /** How a new recovery code is stored: an HMAC under a server key, never the code. */
  hashRecoveryCode(code: string): string {
    return this.box.mac(RECOVERY_CODE_MAC, normalizeRecoveryCode(code));
  }

  private async spend(tx: Transaction, userId: string, secretSealed: string, factor: SecondFactor, now: Date): Promise<boolean> {
    if ('code' in factor) {
      const step = totpStepOf(this.box.open(secretSealed), factor.code, now);
      return step !== undefined && this.repository.useStep(tx, userId, step);
    }
    const code = normalizeRecoveryCode(factor.recoveryCode);
    // Codes handed out before they were keyed are plain SHA-256 hex, and keep working until used.
    const legacy = sha256(code);
    let match: string | undefined;
    // Every unused code is compared, in constant time, so the time taken tells nothing of which matched.
    for (const stored of await this.repository.unusedRecoveryCodes(tx, userId)) {
      const equal = stored.codeHash.includes('.') ? this.box.matches(RECOVERY_CODE_MAC, code, stored.codeHash) : hashesEqual(legacy, stored.codeHash);
      if (equal) match = stored.id;
    }
    return match !== undefined && this.repository.useRecoveryCode(tx, match, now);
  }

  /** In the lockout's transaction: the owner hears of it exactly when it commits. */
  private async mailLockout(tx: Transaction, userId: string, lockedUntil: Date, now: Date): Promise<void> {
    const user = await this.users.findByIdIn(tx, userId);
    if (!user) return;
    await this.mail.queue(tx, user, 'twoFactorLocked', {
      name: this.users.nameOf(user),
      failures: String(LOCKOUT_AFTER_FAILURES),
      minutes: String(Math.ceil((lockedUntil.getTime() - now.getTime()) / 60_000)),
    });
  }
}
