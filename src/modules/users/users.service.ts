import { Injectable } from '@nestjs/common';
import { actingUserId, Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { toPage } from '../../common/pagination';
import type { Database, Executor, Transaction } from '../../db/database';
import { fullName, toCurrentUserView, toUserView } from './users.mapper';
import { AccessChange, NewUser, UserRow, UsersRepository } from './users.repository';
import { CurrentUserView, UserListQueryDto, UserUpdateDto, UserView } from './users.schemas';

export type { AccessChange, NewUser, UserRow };

type Created = { outcome: 'created'; user: UserRow } | { outcome: 'email-taken' };

/**
 * A user's profile and the admin's list; what touches its sessions (status, role, me) is
 * UserAccessService in auth. The tx-first methods are the steps auth, oidc and accounts take on the
 * user row inside their own transactions (sign-in, reclaim, activation), so the row's SQL stays here.
 */
@Injectable()
export class UsersService {
  constructor(private readonly users: UsersRepository) {}

  findById(id: string): Promise<UserRow | undefined> {
    return this.users.findById(id);
  }

  findByIdIn(tx: Executor, id: string): Promise<UserRow | undefined> {
    return this.users.findByIdIn(tx, id);
  }

  findByEmail(email: string): Promise<UserRow | undefined> {
    return this.users.findByEmail(email);
  }

  /** Inserts a user unless its email is taken in any case (the unique index decides). */
  create(user: NewUser): Promise<Created> {
    return this.users.create(user);
  }

  /** `create` in the caller's transaction, where a taken email also aborts that transaction. */
  createIn(tx: Executor, user: NewUser): Promise<Created> {
    return this.users.createIn(tx, user);
  }

  /** Reads the user under an update lock, which also orders a change against refresh-token rotation. */
  lockById(tx: Transaction, id: string): Promise<UserRow | undefined> {
    return this.users.lockById(tx, id);
  }

  lockByEmail(tx: Transaction, email: string): Promise<UserRow | undefined> {
    return this.users.lockByEmail(tx, email);
  }

  /** The row goes to whoever has just proven its email elsewhere: password gone, email verified, INACTIVE becomes ACTIVE. */
  reclaim(tx: Transaction, id: string, now: Date): Promise<UserRow | undefined> {
    return this.users.reclaim(tx, id, now);
  }

  /** Held to the end of the transaction: changes that may leave no ACTIVE ADMIN count one after the other. */
  lockAdminCount(tx: Transaction): Promise<void> {
    return this.users.lockAdminCount(tx);
  }

  countActiveAdmins(tx: Transaction, filter: { except: string }): Promise<number> {
    return this.users.countActiveAdmins(tx, filter);
  }

  setAccess(tx: Transaction, id: string, change: AccessChange): Promise<UserRow | undefined> {
    return this.users.setAccess(tx, id, change);
  }

  setPassword(tx: Transaction, id: string, passwordHash: string): Promise<UserRow | undefined> {
    return this.users.setPassword(tx, id, passwordHash);
  }

  /** Outside a transaction: the admin bootstrap's new password, before its access changes. */
  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.users.update(id, { passwordHash });
  }

  /** An INACTIVE user becomes ACTIVE, its email verified at `now`; any other status stays. */
  activate(tx: Transaction, id: string, now: Date): Promise<void> {
    return this.users.activate(tx, id, now);
  }

  /** The user on the wire, as an admin or a registration answer shows it. */
  view(user: UserRow): UserView {
    return toUserView(user);
  }

  /** The user as its owner sees it (GET /v1/users/me, and every login answer). */
  currentView(user: UserRow, twoFactorEnabled: boolean): CurrentUserView {
    return toCurrentUserView(user, twoFactorEnabled);
  }

  /** The name a mail greets the user by. */
  nameOf(user: Pick<UserRow, 'firstName' | 'middleName' | 'lastName'>): string {
    return fullName(user);
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

/** The service over its own repository, for a command-line tool that runs without Nest's container. */
export function usersServiceFor(db: Database): UsersService {
  return new UsersService(new UsersRepository(db));
}
