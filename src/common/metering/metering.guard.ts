import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseIdempotencyKey } from '../idempotency/idempotency.service';
import { IDEMPOTENT } from '../idempotency/idempotent.decorator';
import { assertValidInputs } from '../validation/route-inputs';
import { Meter, MeteredEndpoint } from './meter';
import { METERED, UNMETERED } from './metered.decorator';

/**
 * Last in the global chain, after authorization: a refused call was never counted. ADMINs are
 * not metered; public routes have no one to count. A call is counted only once it is known to be
 * new and valid: input the pipeline will refuse is refused here first, and on an @Idempotent route
 * called with a key the count waits for the key's claim, so a replay or a 409 costs nothing. The
 * count still comes before the handler: a call over quota never runs.
 */
@Injectable()
export class MeteringGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly meter: Meter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = request.principal;
    if (!principal || principal.role === 'ADMIN') return true;
    const targets = [context.getHandler(), context.getClass()];
    const metered = this.reflector.getAllAndOverride<MeteredEndpoint | undefined>(METERED, targets);
    if (!metered && this.reflector.getAllAndOverride<boolean>(UNMETERED, targets)) return true;
    const charge = await this.meter.admit(request, context.switchToHttp().getResponse<FastifyReply>(), principal, metered ?? null);
    if (!charge) return true;
    const idempotencyKey = this.reflector.get<boolean>(IDEMPOTENT, context.getHandler()) ? request.headers['idempotency-key'] : undefined;
    // What the pipeline would refuse is refused before the count, with the same answers: a bad key header, then bad input.
    if (idempotencyKey !== undefined) parseIdempotencyKey(idempotencyKey);
    assertValidInputs(context);
    if (idempotencyKey !== undefined) request.pendingCharge = charge;
    else await charge.take();
    return true;
  }
}
