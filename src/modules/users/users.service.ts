import { Injectable } from '@nestjs/common';
import { actingUserId, Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { toPage } from '../../common/pagination';
import { Clock } from '../../common/clock';
import { DomainEvents } from '../../common/events';
import { RefreshTokensRepository } from '../auth/refresh-tokens.repository';
import { TwoFactorRepository } from '../auth/two-factor.repository';
import { fullName, toCurrentUserView, toUserView } from './users.mapper';
import { AccessChange, UserRow, UsersRepository } from './users.repository';
import { UserListQueryDto, UserRoleUpdateDto, UserStatusUpdateDto, UserUpdateDto } from './users.schemas';
import { TransactionRunner } from '../../db/transaction';
import type { Executor } from '../../db/database';

@Injectable()
export class UsersService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly users: UsersRepository,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly twoFactor: TwoFactorRepository,
    private readonly clock: Clock,
    private readonly events: DomainEvents,
  ) {}

  findById(id: string): Promise<UserRow | undefined> {
    return this.users.findById(id);
  }

  /** Whom a mail about the user goes to, and the name it greets, in the caller's transaction. */
  async recipientIn(tx: Executor, id: string): Promise<{ user: UserRow; name: string } | undefined> {
    const user = await this.users.findByIdIn(tx, id);
    return user ? { user, name: fullName(user) } : undefined;
  }

  async me(principal: Principal) {
    const user = await this.users.findById(principal.userId);
    if (!user) throw new DomainError('UNAUTHORIZED');
    return { user: toCurrentUserView(user, await this.twoFactor.isEnabled(user.id)) };
  }

  /** Updates the caller, or, for an ADMIN only, the user named by `userId`. */
  async update(principal: Principal, dto: UserUpdateDto) {
    const { userId: named, ...changes } = dto;
    const userId = actingUserId(principal, named);
    const hasChanges = Object.values(changes).some((value) => value !== undefined);
    const user = hasChanges ? await this.users.update(userId, changes) : await this.users.findById(userId);
    if (!user) throw new DomainError('NOT_FOUND');
    return { user: toUserView(user) };
  }

  async list(query: UserListQueryDto) {
    const rows = await this.users.list(query);
    const page = toPage(rows, query.limit);
    return { items: page.items.map(toUserView), nextCursor: page.nextCursor };
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
    return { user: toUserView(user) };
  }
}

const isActiveAdmin = (user: Pick<UserRow, 'role' | 'status'>) => user.role === 'ADMIN' && user.status === 'ACTIVE';
