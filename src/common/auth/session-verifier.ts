import type { UserPrincipal } from './principal';

/**
 * Checks a verified access token against the current state of its login and user. Implemented by
 * the auth module; the global guards depend only on this contract.
 */
export abstract class SessionVerifier {
  /**
   * The principal of a verified access token, with the user's current role and status, or a
   * DomainError: SESSION_REVOKED
   * (logout, role change, password reset, refresh-token reuse) or ACCOUNT_SUSPENDED.
   */
  abstract verify(token: UserPrincipal): Promise<UserPrincipal>;
}
