import type { FastifyRequest } from 'fastify';
import type { Language } from '../i18n/language';

export type Role = 'USER' | 'ADMIN';
export type UserStatus = 'INACTIVE' | 'ACTIVE' | 'SUSPENDED';

/** Who is calling. API keys (a later issue) add `kind: 'apiKey'` with a scope. */
export interface Principal {
  kind: 'user';
  userId: string;
  /** The login this access token came from (its refresh-token family). */
  sessionId: string;
  role: Role;
  status: UserStatus;
  language: Language;
  locale: string;
  timezone: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication guard on protected routes. */
    principal?: Principal;
  }
}

export const principalOf = (request: FastifyRequest): Principal | undefined => request.principal;
