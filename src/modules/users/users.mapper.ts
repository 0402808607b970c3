import { UserView } from './users.schemas';
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
    emailVerifiedAt: row.emailVerifiedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export const fullName = (row: Pick<UserRow, 'firstName' | 'middleName' | 'lastName'>) =>
  [row.firstName, row.middleName, row.lastName].filter(Boolean).join(' ');
