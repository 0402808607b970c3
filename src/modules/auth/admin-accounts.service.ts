import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { AppConfig, InjectConfig } from '../../config/config';
import { UsersService } from '../users/users.service';
import { newPasswordSchema } from './auth.schemas';
import { PasswordService } from './password.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { TransactionRunner } from '../../db/transaction';

/**
 * Makes sure an ACTIVE ADMIN with a given email exists.
 * - At boot, from ADMIN_EMAIL/ADMIN_PASSWORD: creates it if missing. An existing user with that
 *   email is never promoted here: anyone could have registered it first.
 * - From `npm run create-admin` (an operator's deliberate act): creates or promotes the user,
 *   sets its password and ends its existing sessions.
 */
@Injectable()
export class AdminAccountsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminAccounts');

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly users: UsersService,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly passwords: PasswordService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap() {
    if (!this.config.admin) return;
    const { email, password } = this.config.admin;
    const existing = await this.users.findByEmail(email);
    if (existing && existing.role !== 'ADMIN') {
      this.logger.error(`ADMIN_EMAIL ${email} belongs to a user who is not an ADMIN; not promoting it. Use npm run create-admin.`);
      return;
    }
    if (!existing) await this.create(email, password);
  }

  async ensure(email: string, password: string): Promise<{ id: string; created: boolean }> {
    const existing = await this.users.findByEmail(email);
    if (!existing) return { id: await this.create(email, password), created: true };
    assertPasswordPolicy(password);
    await this.users.setPasswordHash(existing.id, await this.passwords.hash(password));
    // ACTIVE, and every refresh token revoked: whoever held a session before does not inherit ADMIN.
    const now = this.clock.now();
    await this.transactions.run(async (tx) => {
      await this.users.lockById(tx, existing.id);
      await this.users.setAccess(tx, existing.id, { role: 'ADMIN', status: 'ACTIVE' });
      await this.refreshTokens.revokeAllOf(tx, existing.id, now);
    });
    return { id: existing.id, created: false };
  }

  private async create(email: string, password: string): Promise<string> {
    assertPasswordPolicy(password);
    const result = await this.users.create({
      email,
      passwordHash: await this.passwords.hash(password),
      firstName: 'Admin',
      lastName: 'User',
      language: 'en',
      locale: 'en',
      timezone: 'UTC',
      role: 'ADMIN',
      status: 'ACTIVE',
      emailVerifiedAt: this.clock.now(),
    });
    // Taken: another instance booting at the same moment created it first.
    if (result.outcome === 'email-taken') return (await this.users.findByEmail(email))!.id;
    this.logger.log(`Created ADMIN ${email}`);
    return result.user.id;
  }
}

function assertPasswordPolicy(password: string) {
  const policy = newPasswordSchema.safeParse(password);
  if (!policy.success) throw new Error(`The admin password is refused: ${policy.error.issues.map((issue) => issue.message).join('; ')}`);
}
