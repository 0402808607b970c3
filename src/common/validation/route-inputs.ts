import type { ArgumentMetadata, Type } from '@nestjs/common';
import { PARAMTYPES_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { FastifyRequest } from 'fastify';
import { ValidationPipe } from './validation.pipe';

type InputType = 'body' | 'query' | 'param';

interface Input {
  type: InputType;
  data: string | undefined;
  metatype: Type | undefined;
}

/**
 * What a handler takes from the request, read once from its parameter decorators: its body,
 * query and path parameters, in the order Nest's pipes run on them. A handler that declares no
 * query has been given an untyped one at boot (refuseQueriesNoHandlerDeclares), which the pipe
 * refuses unless empty.
 */
export interface RouteInputs {
  inputs: Input[];
}

const INPUT_TYPES: Partial<Record<string, InputType>> = {
  [RouteParamtypes.BODY]: 'body',
  [RouteParamtypes.QUERY]: 'query',
  [RouteParamtypes.PARAM]: 'param',
};

/** The inputs of `controller.prototype[name]`, read at boot (RouteExecutor). */
export function routeInputsOf(controller: Type, name: string): RouteInputs {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<string, { index: number; data?: unknown }>;
  const paramtypes = (Reflect.getMetadata(PARAMTYPES_METADATA, controller.prototype as object, name) ?? []) as (Type | undefined)[];
  const inputs: Input[] = [];
  for (const [key, { index, data }] of Object.entries(args)) {
    const type = INPUT_TYPES[key.split(':')[0]!];
    if (type) inputs.push({ type, data: typeof data === 'string' ? data : undefined, metatype: paramtypes[index] });
  }
  return { inputs };
}

const pipe = new ValidationPipe();

/**
 * Refuses the request's input as the pipeline will (the global pipe on each input), before the
 * handler's turn: for a step that must know the call is valid
 * before it acts (metering counts only calls that pass). Only the global pipe runs here: no
 * route has pipes of its own.
 */
export function assertValidInputs(request: FastifyRequest, route: RouteInputs): void {
  for (const input of route.inputs) {
    const metadata: ArgumentMetadata = { type: input.type, data: input.data, metatype: input.metatype };
    pipe.transform(valueOf(request, input), metadata);
  }
}

/** The value Nest hands the parameter (its route-params factory, for these three types). */
function valueOf(request: FastifyRequest, input: Input): unknown {
  const source = input.type === 'body' ? request.body : input.type === 'query' ? request.query : request.params;
  return input.data === undefined ? source : (source as Record<string, unknown> | undefined)?.[input.data];
}
