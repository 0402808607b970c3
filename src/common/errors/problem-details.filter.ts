import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemWriter } from './problem-writer';

/** The one global exception filter: everything thrown while serving a request becomes problem+json. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly writer: ProblemWriter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.writer.send(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}
