import { iso, isoOrNull } from '../../common/iso';
import { CurrentUserView, UserView } from './users.schemas';
import { UserRow } from './users.repository';

export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    firstName: row.firstName,
    middleName: row.middleName,
    lastName: row.lastName,
    language: row.language,
    locale: row.locale,
    timezone: row.timezone,
    role: row.role,
    status: row.status,
    emailVerifiedAt: isoOrNull(row.emailVerifiedAt),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

export const fullName = (row: Pick<UserRow, 'firstName' | 'middleName' | 'lastName'>) =>
  [row.firstName, row.middleName, row.lastName].filter(Boolean).join(' ');

/** The user as its owner sees it (GET /v1/users/me, and every login answer). */
export const toCurrentUserView = (row: UserRow, twoFactorEnabled: boolean): CurrentUserView => ({ ...toUserView(row), name: fullName(row), twoFactorEnabled });
