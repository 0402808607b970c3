import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyInstance, FastifyReply } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on an @Idempotent() route called with an Idempotency-Key that this request claimed. */
    idempotencyClaim?: IdempotencyClaim;
  }
}

/** A claim this request holds: its response is stored (or the key freed) when it is sent. */
export interface IdempotencyClaim {
  id: string;
  claimId: string;
  /** False once the request failed validation: no result is stored for input never acted on. */
  storable: boolean;
}

export interface StoredReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Where a claimed request's answer is stored: IdempotencyService. */
export interface IdempotentResponseStore {
  finish(claim: IdempotencyClaim, status: number, headers: Record<string, unknown>, body: string | undefined): Promise<void>;
}

export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** Thrown to answer with a stored response instead of running the handler; IdempotentReplayFilter sends it. */
export class IdempotentReplay extends Error {
  constructor(readonly reply: StoredReply) {
    super('Idempotent replay');
    this.name = 'IdempotentReplay';
  }
}

/** Sends a stored response as it was first sent, marked as a replay. */
@Catch(IdempotentReplay)
export class IdempotentReplayFilter implements ExceptionFilter<IdempotentReplay> {
  catch(replay: IdempotentReplay, host: ArgumentsHost): void {
    const { status, headers, body } = replay.reply;
    void host.switchToHttp().getResponse<FastifyReply>().status(status).headers(headers).header(REPLAYED_HEADER, 'true').send(body);
  }
}

/**
 * Stores what a claimed request answers (success, refusal or problem), as serialized, just
 * before it is sent: a retry that arrives after the client got the answer always finds it. Input
 * refused as invalid (by the pipes or the handler) was never acted on, and Stripe stores no result
 * for it either: its key is freed instead.
 */
export function storeIdempotentResponses(fastify: FastifyInstance, idempotency: IdempotentResponseStore): void {
  // A callback hook: the answers without a claim (nearly all) pass it without a promise.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const claim = request.idempotencyClaim;
    if (!claim) return done(null, payload);
    request.idempotencyClaim = undefined;
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
    if (reply.statusCode === 422 && body !== undefined && isValidationFailure(body)) claim.storable = false;
    idempotency.finish(claim, reply.statusCode, reply.getHeaders(), body).then(
      () => done(null, payload),
      (error: Error) => done(error),
    );
  });
}

function isValidationFailure(body: string): boolean {
  try {
    return (JSON.parse(body) as { code?: unknown }).code === 'VALIDATION_FAILED';
  } catch {
    return false;
  }
}
