import { iso } from '../../common/iso';
import { AccountRow } from './accounts.repository';
import { AccountView } from './accounts.schemas';

export function toAccountView(row: AccountRow): AccountView {
  return {
    id: row.id,
    userId: row.userId,
    accountType: row.accountType,
    mobilePhone: row.mobilePhone,
    address: row.address,
    company: row.company,
    industry: row.industry,
    status: row.status,
    emailVerified: row.emailVerified,
    phoneVerified: row.phoneVerified,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}
