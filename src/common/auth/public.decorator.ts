import { applyDecorators, SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'gatehouse:isPublic';

// @nestjs/swagger's metadata key for @ApiOperation (not exported from its public entry point).
const SWAGGER_API_OPERATION = 'swagger/apiOperation';

/** Writes `security: []` into the operation, merging with (not replacing) any @ApiOperation. */
const openInSpec: MethodDecorator = (_target, _key, descriptor) => {
  const previous = (Reflect.getMetadata(SWAGGER_API_OPERATION, descriptor.value as object) ?? {}) as object;
  Reflect.defineMetadata(SWAGGER_API_OPERATION, { ...previous, security: [] }, descriptor.value as object);
  return descriptor;
};

/**
 * Opts a route out of authentication. Routes are protected unless they say this; the guard chain
 * reads the flag. The spec marks every operation as needing a credential and this one as open.
 */
export const Public = () => applyDecorators(SetMetadata(IS_PUBLIC, true), openInSpec);
