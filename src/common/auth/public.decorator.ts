import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';

export const IS_PUBLIC = 'gatehouse:isPublic';

/**
 * Opts a route out of authentication. Routes are protected unless they say this; the guard chain
 * reads the flag. The spec marks every operation as needing a credential and this one as open:
 * @ApiOperation merges into the operation's other @ApiOperation options, in either order, once its
 * default empty `summary` is left out (an explicit undefined is dropped, an omitted key is not).
 */
export const Public = () => applyDecorators(SetMetadata(IS_PUBLIC, true), ApiOperation({ security: [], summary: undefined }));
