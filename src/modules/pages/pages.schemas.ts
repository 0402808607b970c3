import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

/**
 * The query of a mailed link. The token is read by the page's script, not by the server; any
 * other parameter (a mail client's tracking, say) is let through, so the page always opens.
 */
export class LinkPageQueryDto extends createZodDto(z.looseObject({ lang: z.string().max(35).optional() })) {}
