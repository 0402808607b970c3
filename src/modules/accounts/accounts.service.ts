import { randomBytes, randomInt } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { actingUserId, ownedBy, Principal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { parseSecretToken, secretMatches, secretTokenWith, sha256 } from '../../common/crypto/secret-token';
import { DomainError } from '../../common/errors/domain-error';
import { DomainEvents } from '../../common/events';
import { I18nService } from '../../common/i18n/i18n.service';
import { MailService } from '../../common/mail/mail.service';
import { SmsSender } from '../../common/sms/sms.service';
import { assertAllowedLink, linkWith } from '../../common/validation/links';
import { AppConfig, InjectConfig } from '../../config/config';
import { UsersService } from '../users/users.service';
import { toAccountView } from './accounts.mapper';
import { AccountRow, AccountsRepository, TokenOutcome } from './accounts.repository';
import { AccountActivationRequestDto, ActivateAccountDto, ActivatePhoneDto, PhoneActivationRequestDto } from './accounts.schemas';
import { TransactionRunner } from '../../db/transaction';

export const PHONE_CODE_TTL_SECONDS = 600;
export const PHONE_SENDS_PER_HOUR = 3;
export const PHONE_CODE_MAX_ATTEMPTS = 5;

@Injectable()
export class AccountsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly accounts: AccountsRepository,
    private readonly users: UsersService,
    private readonly mail: MailService,
    private readonly sms: SmsSender,
    private readonly i18n: I18nService,
    private readonly clock: Clock,
    private readonly events: DomainEvents,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The user's account, in whatever status (subscriptions asks whether it is ACTIVE). */
  findByUser(userId: string): Promise<AccountRow | undefined> {
    return this.accounts.findByUser(userId);
  }

  async me(principal: Principal) {
    const account = await this.accounts.findByUser(principal.userId);
    if (!account) throw new DomainError('NOT_FOUND');
    return { account: toAccountView(account) };
  }

  /**
   * Creates (201) or, while PENDING, refreshes (200) the account, and queues a mail with a new
   * activation link; past MAIL_MAX_PER_ADDRESS_PER_HOUR such mails, 429 and nothing changes.
   */
  async requestActivation(
    principal: Principal,
    dto: AccountActivationRequestDto,
  ): Promise<{ created: boolean; body: { account: ReturnType<typeof toAccountView> } }> {
    const userId = actingUserId(principal, dto.userId);
    if (dto.activationPageLink) assertAllowedLink('activationPageLink', dto.activationPageLink, this.config.allowedLinkOrigins);
    const user = await this.users.findById(userId);
    if (!user) throw new DomainError('NOT_FOUND');

    const secret = randomBytes(32).toString('base64url');
    const ttl = this.config.accounts.emailTokenTtlSeconds;
    // The new token and its mail commit together; the mail is sent afterwards, never awaited here.
    const result = await this.transactions.run(async (tx) => {
      const upserted = await this.accounts.upsertPending(
        tx,
        user.id,
        { accountType: dto.accountType, mobilePhone: dto.mobilePhone, address: dto.address, company: dto.company ?? null, industry: dto.industry ?? null },
        { hash: sha256(secret), expiresAt: new Date(this.clock.now().getTime() + ttl * 1000) },
      );
      if (!upserted) return undefined;
      // `<accountId>.<secret>`: the token alone finds the account, so the link needs no login.
      const { token } = secretTokenWith(upserted.account.id, secret);
      const page = dto.activationPageLink ?? linkWith(this.config.linkPages.activation, { lang: user.language });
      const queued = await this.mail.queue(tx, user, 'accountActivation', {
        name: this.users.nameOf(user),
        link: linkWith(page, { emailVerificationToken: token }),
        hours: String(Math.round(ttl / 3600)),
      });
      // The caller is the user (or an ADMIN): nothing to hide. Refused, nothing changes, so the
      // links already mailed keep working.
      if (!queued.queued) throw new DomainError('RATE_LIMITED', { params: { retryAfter: queued.retryAfterSeconds } });
      return upserted;
    });
    if (!result) {
      const existing = await this.accounts.findByUser(user.id);
      throw new DomainError(existing?.status === 'SUSPENDED' ? 'ACCOUNT_SUSPENDED' : 'ACCOUNT_ALREADY_ACTIVE');
    }
    return { created: result.created, body: { account: toAccountView(result.account) } };
  }

  /**
   * Activates the account the mailed token names, and its user, without a login: the token is
   * the proof. Every check runs under the row lock, so of two uses at once exactly one finds the
   * account PENDING; a later use of the same token answers ACCOUNT_ALREADY_ACTIVE, any other
   * INVALID_TOKEN. userId and accountId, when sent, must be the token's own.
   */
  async activate(dto: ActivateAccountDto) {
    const presented = presentedToken(dto);
    if (!presented) throw new DomainError('INVALID_TOKEN');
    const now = this.clock.now();
    const account = await this.transactions.run(async (tx) => {
      const row = await this.accounts.lockByEmailToken(tx, presented.accountId);
      const matches = row?.emailTokenHash != null && secretMatches(presented.secret, row.emailTokenHash);
      if (!row || !matches || (dto.userId !== undefined && dto.userId !== row.userId)) throw new DomainError('INVALID_TOKEN');
      if (row.status === 'ACTIVE') throw new DomainError('ACCOUNT_ALREADY_ACTIVE');
      if (row.status === 'SUSPENDED') throw new DomainError('ACCOUNT_SUSPENDED');
      if (!row.emailTokenExpiresAt || row.emailTokenExpiresAt <= now) throw new DomainError('TOKEN_EXPIRED');
      // The account and its user become ACTIVE together.
      const activated = await this.accounts.activate(tx, ownedBy(row.userId), row.id);
      await this.users.activate(tx, row.userId, now);
      return activated;
    });
    // The user is ACTIVE now: caches holding its INACTIVE status must let it through at once.
    this.events.emit('user.access-changed', { userId: account.userId });
    return { account: toAccountView(account) };
  }

  /**
   * Texts a 6-digit code, at most three times an hour per account and PHONE_SENDS_PER_NUMBER_PER_DAY
   * times a UTC day per number (429 after either).
   */
  async requestPhoneVerification(principal: Principal, dto: PhoneActivationRequestDto) {
    const { userId, accountId } = await this.target(principal, dto);
    assertAllowedLink('phoneActivationPageLink', dto.phoneActivationPageLink, this.config.allowedLinkOrigins);
    const now = this.clock.now();
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const reservation = await this.transactions.run((tx) =>
      this.accounts.reservePhoneCode(
        tx,
        ownedBy(userId),
        accountId,
        { hash: phoneCodeHash(accountId, code), expiresAt: new Date(now.getTime() + PHONE_CODE_TTL_SECONDS * 1000) },
        { perAccount: { maxSends: PHONE_SENDS_PER_HOUR, windowSeconds: 3600 }, perNumberPerDay: this.config.accounts.phoneSendsPerNumberPerDay },
        now,
      ),
    );
    if (reservation.outcome === 'not-found') throw new DomainError('NOT_FOUND');
    if (reservation.outcome !== 'reserved') {
      const retryAt = reservation.outcome === 'account-limit' ? reservation.windowEndsAt.getTime() : nextUtcMidnight(now);
      const retryAfter = Math.max(1, Math.ceil((retryAt - now.getTime()) / 1000));
      throw new DomainError('RATE_LIMITED', { params: { retryAfter } });
    }
    const { account } = reservation;
    const user = await this.users.findById(userId);
    const link = linkWith(dto.phoneActivationPageLink, { userId, accountId });
    await this.sms.send(account.mobilePhone, this.i18n.translate('sms:phoneVerification', user?.language ?? 'en', { code, link }));
    return { accepted: true as const };
  }

  async activatePhone(principal: Principal, dto: ActivatePhoneDto) {
    const { userId, accountId } = await this.target(principal, dto);
    const codeHash = phoneCodeHash(accountId, dto.phoneVerificationToken);
    const now = this.clock.now();
    const result = await this.transactions.run((tx) => this.accounts.verifyPhoneCode(tx, ownedBy(userId), accountId, codeHash, PHONE_CODE_MAX_ATTEMPTS, now));
    return { account: toAccountView(unwrap(result)) };
  }

  /**
   * The user and account a self-service request names, each defaulting to the caller's own: only
   * an ADMIN names another user, and a named account must be that user's (else 404, later).
   */
  private async target(principal: Principal, named: { userId?: string; accountId?: string }): Promise<{ userId: string; accountId: string }> {
    const userId = actingUserId(principal, named.userId);
    if (named.accountId !== undefined) return { userId, accountId: named.accountId };
    const account = await this.accounts.findByUser(userId);
    if (!account) throw new DomainError('NOT_FOUND');
    return { userId, accountId: account.id };
  }
}

/**
 * The account and secret a presented activation token stands for. Tokens read
 * `<accountId>.<secret>`; links mailed before that carried the bare secret, which still works
 * with the accountId (and userId) sent beside it.
 */
function presentedToken(dto: ActivateAccountDto): { accountId: string; secret: string } | undefined {
  const parsed = parseSecretToken(dto.emailVerificationToken);
  if (parsed) return dto.accountId === undefined || dto.accountId === parsed.id ? { accountId: parsed.id, secret: parsed.secret } : undefined;
  if (dto.accountId === undefined || dto.userId === undefined) return undefined;
  return { accountId: dto.accountId, secret: dto.emailVerificationToken };
}

function unwrap(result: TokenOutcome<AccountRow>): AccountRow {
  switch (result.outcome) {
    case 'ok':
      return result.account;
    case 'not-found':
      throw new DomainError('NOT_FOUND');
    case 'invalid':
      throw new DomainError('INVALID_TOKEN');
    case 'expired':
      throw new DomainError('TOKEN_EXPIRED');
  }
}

const nextUtcMidnight = (now: Date) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);

/** Bound to the account, so a code is worthless for any other. */
const phoneCodeHash = (accountId: string, code: string) => sha256(`${accountId}:${code}`);
