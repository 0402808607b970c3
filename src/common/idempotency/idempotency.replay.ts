import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { IdempotencyClaim, IdempotencyService, StoredReply } from './idempotency.service';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on an @Idempotent() route called with an Idempotency-Key that this request claimed. */
    idempotencyClaim?: IdempotencyClaim;
  }
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
export function storeIdempotentResponses(fastify: FastifyInstance, idempotency: IdempotencyService): void {
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
