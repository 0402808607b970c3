import { Injectable } from '@nestjs/common';
import { ownedBy, Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { TransactionRunner } from '../../db/transaction';
import { UsersService } from '../users/users.service';
import { toUserIdentityView } from './oidc.mapper';
import { UserIdentitiesRepository } from './user-identities.repository';

/** The caller's own linked identities; nobody reads or unlinks another user's. */
@Injectable()
export class UserIdentitiesService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly identities: UserIdentitiesRepository,
    private readonly users: UsersService,
  ) {}

  async list(principal: Principal) {
    const rows = await this.identities.listOwned(ownedBy(principal.userId));
    return { items: rows.map(toUserIdentityView) };
  }

  /**
   * A user without a password keeps its last identity (LAST_SIGN_IN_METHOD). The user row lock
   * orders two unlinks at once, so they cannot each see the other identity and remove both.
   */
  async unlink(principal: Principal, id: string): Promise<void> {
    // A way in is changed by the person signed in, not by a key acting for them.
    if (principal.kind !== 'user') throw new DomainError('FORBIDDEN');
    await this.transactions.run(async (tx) => {
      const user = await this.users.lockById(tx, principal.userId);
      if (!user) throw new DomainError('UNAUTHORIZED');
      if (!(await this.identities.findOwned(tx, ownedBy(user.id), id))) throw new DomainError('NOT_FOUND');
      if (user.passwordHash === null && (await this.identities.countOwned(tx, user.id)) <= 1) throw new DomainError('LAST_SIGN_IN_METHOD');
      await this.identities.deleteOwned(tx, ownedBy(user.id), id);
    });
  }
}
