import { Injectable } from '@nestjs/common';
import { actingUserId, Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { toPage } from '../../common/pagination';
import type { Executor } from '../../db/database';
import { fullName, toUserView } from './users.mapper';
import { UserRow, UsersRepository } from './users.repository';
import { UserListQueryDto, UserUpdateDto } from './users.schemas';

/** A user's profile and the admin's list; what touches its sessions (status, role, me) is UserAccessService in auth. */
@Injectable()
export class UsersService {
  constructor(private readonly users: UsersRepository) {}

  findById(id: string): Promise<UserRow | undefined> {
    return this.users.findById(id);
  }

  /** Whom a mail about the user goes to, and the name it greets, in the caller's transaction. */
  async recipientIn(tx: Executor, id: string): Promise<{ user: UserRow; name: string } | undefined> {
    const user = await this.users.findByIdIn(tx, id);
    return user ? { user, name: fullName(user) } : undefined;
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
}
