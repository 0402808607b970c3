import { iso } from '../../common/iso';
import { UserIdentityView } from './oidc.schemas';
import { UserIdentityRow } from './user-identities.repository';

export function toUserIdentityView(row: UserIdentityRow): UserIdentityView {
  return { id: row.id, provider: row.provider, email: row.email, createdAt: iso(row.createdAt) };
}
