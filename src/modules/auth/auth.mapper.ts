import { iso } from '../../common/iso';
import type { CurrentUserView } from '../users/users.schemas';
import { Session, TwoFactorChallengeAnswer } from './auth.schemas';
import { IssuedToken, TokenPair } from './tokens.service';

export function toSession(user: CurrentUserView, tokens: TokenPair): Session {
  return {
    accessToken: { token: tokens.accessToken.token, expirationDate: iso(tokens.accessToken.expiresAt) },
    refreshToken: { token: tokens.refreshToken.token, expirationDate: iso(tokens.refreshToken.expiresAt) },
    requiredAuthenticatorType: null,
    user,
  };
}

export function toChallengeAnswer(purpose: TwoFactorChallengeAnswer['requiredAuthenticatorType'], challenge: IssuedToken): TwoFactorChallengeAnswer {
  return {
    accessToken: null,
    refreshToken: null,
    requiredAuthenticatorType: purpose,
    challenge: { token: challenge.token, expirationDate: iso(challenge.expiresAt) },
  };
}
