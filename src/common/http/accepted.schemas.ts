import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

/** The body of a 202: the request was taken, and its effect (a mail, a text) follows. */
export class AcceptedResponseDto extends createZodDto(z.object({ accepted: z.literal(true) }).meta({ id: 'Accepted' })) {}
