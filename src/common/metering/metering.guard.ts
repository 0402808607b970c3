import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Meter, MeteredEndpoint } from './meter';
import { METERED, UNMETERED } from './metered.decorator';

/**
 * Last in the global chain, after authorization: a refused call was never counted. ADMINs are
 * not metered; public routes have no one to count.
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
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const targets = [context.getHandler(), context.getClass()];
    const metered = this.reflector.getAllAndOverride<MeteredEndpoint | undefined>(METERED, targets);
    if (metered) await this.meter.meterCall(request, reply, principal, metered);
    else if (!this.reflector.getAllAndOverride<boolean>(UNMETERED, targets)) await this.meter.countAuthenticatedCall(request, reply, principal);
    return true;
  }
}
