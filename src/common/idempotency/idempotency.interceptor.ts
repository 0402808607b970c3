import { ArgumentsHost, CallHandler, Catch, ExceptionFilter, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { catchError, from, Observable, switchMap, throwError } from 'rxjs';
import { DomainError } from '../errors/domain-error';
import { IdempotencyClaim, IdempotencyOutcome, IdempotencyService, parseIdempotencyKey, StoredReply } from './idempotency.service';

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

/**
 * After the guards (the principal is known), before the pipes: claims the Idempotency-Key or
 * replays its stored response. A request without the header costs one header lookup.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly idempotency: IdempotencyService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers['idempotency-key'];
    if (header === undefined) return next.handle();
    const key = parseIdempotencyKey(header);
    return from(this.begin(request, key)).pipe(
      switchMap((outcome) => {
        if (outcome.kind === 'replay') throw new IdempotentReplay(outcome.reply);
        if (outcome.kind === 'unclaimed') return next.handle();
        return next.handle().pipe(
          catchError((error: unknown) => {
            // Input refused by the pipes (or the handler) was never acted on: Stripe stores no result for it either.
            if (error instanceof DomainError && error.code === 'VALIDATION_FAILED') outcome.claim.storable = false;
            return throwError(() => error);
          }),
        );
      }),
    );
  }

  /**
   * Claims the key, then counts the call the route guard left pending: a replay shows the quota
   * as it stands and counts nothing, and a key in use or reused (thrown) counts nothing either.
   */
  private async begin(request: FastifyRequest, key: string): Promise<IdempotencyOutcome> {
    const outcome = await this.idempotency.begin(request, key);
    if (outcome.kind === 'claimed') request.idempotencyClaim = outcome.claim;
    const charge = request.pendingCharge;
    if (!charge) return outcome;
    request.pendingCharge = undefined;
    if (outcome.kind === 'replay') {
      await charge.show();
      return outcome;
    }
    try {
      await charge.take();
    } catch (error) {
      // Refused for its quota, the call never ran: the key is freed for a retry once the quota allows.
      if (outcome.kind === 'claimed') outcome.claim.storable = false;
      throw error;
    }
    return outcome;
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
 * before it is sent: a retry that arrives after the client got the answer always finds it.
 */
export function storeIdempotentResponses(fastify: FastifyInstance, idempotency: IdempotencyService): void {
  fastify.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotencyClaim;
    if (!claim) return payload;
    request.idempotencyClaim = undefined;
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
    await idempotency.finish(claim, reply.statusCode, reply.getHeaders(), body);
    return payload;
  });
}
