import { z } from 'zod';
import { GEO_SCOPES } from '../../db/schema/geo-scopes';

/**
 * A list of geographic scopes as a request gives it: at least one, each known, none twice (the
 * duplicate's index is the field named). The same rules as a plan's geoScope.
 */
export const geoScopeListSchema = z
  .array(z.enum(GEO_SCOPES))
  .min(1)
  .max(GEO_SCOPES.length)
  .superRefine((scopes, ctx) => {
    scopes.forEach((scope, index) => {
      if (scopes.indexOf(scope) !== index) ctx.addIssue({ code: 'custom', path: [index], message: 'Listed more than once', params: { code: 'DUPLICATE' } });
    });
  })
  .meta({ uniqueItems: true });
