import { Injectable } from '@nestjs/common';
import { Principal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { DomainEvents } from '../../common/events';
import type { Transaction } from '../../db/database';
import { TransactionRunner } from '../../db/transaction';
import { AccessChange, UserRow, UsersService } from '../users/users.service';
import { UserRoleUpdateDto, UserStatusUpdateDto } from '../users/users.schemas';
import { PasswordResetRepository } from './password-reset.repository';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { TwoFactorRepository } from './two-factor.repository';

/**
 * What a user may do and whether its login asks for a second factor: the parts of a user that
 * touch its sessions. Here rather than in the users module, which auth is built on.
 */
@Injectable()
export class UserAccessService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly users: UsersService,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly passwordResets: PasswordResetRepository,
    private readonly twoFactor: TwoFactorRepository,
    private readonly clock: Clock,
    private readonly events: DomainEvents,
  ) {}

  /**
   * Every way in the user had proven through auth ends, in the caller's transaction: its logins are
   * revoked, its pending password resets spent and its second factor removed (an account reclaimed
   * by a provider sign-in, oidc). The caller announces the revoked sessions once it has committed.
   */
  async endCredentialsOf(tx: Transaction, userId: string, now: Date): Promise<void> {
    await this.refreshTokens.revokeAllOf(tx, userId, now);
    await this.passwordResets.spendAllOf(tx, userId, now);
    await this.twoFactor.removeAllOf(tx, userId, now);
  }

  async me(principal: Principal) {
    const user = await this.users.findById(principal.userId);
    if (!user) throw new DomainError('UNAUTHORIZED');
    return { user: this.users.currentView(user, await this.twoFactor.isEnabled(user.id)) };
  }

  /** Suspending a user also ends its sessions: its refresh and access tokens stop working at once. */
  async setStatus(id: string, dto: UserStatusUpdateDto) {
    return this.setAccess(id, { status: dto.status }, dto.status === 'SUSPENDED');
  }

  /** A role change ends the user's sessions, so no token outlives the rights it was issued with. */
  async setRole(id: string, dto: UserRoleUpdateDto) {
    return this.setAccess(id, { role: dto.role }, true);
  }

  /**
   * A change that would leave no ACTIVE ADMIN is refused (LAST_ADMIN). The user row lock orders the
   * change, and the revocation of its refresh tokens, against token rotation.
   */
  private async setAccess(id: string, change: AccessChange, revokeSessions: boolean) {
    const now = this.clock.now();
    const user = await this.transactions.run(async (tx) => {
      const current = await this.users.lockById(tx, id);
      if (!current) throw new DomainError('NOT_FOUND');
      if (isActiveAdmin(current) && !isActiveAdmin({ ...current, ...change })) {
        await this.users.lockAdminCount(tx);
        if ((await this.users.countActiveAdmins(tx, { except: id })) === 0) throw new DomainError('LAST_ADMIN');
      }
      const changed = await this.users.setAccess(tx, id, change);
      if (revokeSessions) await this.refreshTokens.revokeAllOf(tx, id, now);
      return changed!;
    });
    this.events.emit('user.access-changed', { userId: id });
    return { user: this.users.view(user) };
  }
}

const isActiveAdmin = (user: Pick<UserRow, 'role' | 'status'>) => user.role === 'ADMIN' && user.status === 'ACTIVE';
