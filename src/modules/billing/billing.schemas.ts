import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

export class WebhookReceivedDto extends createZodDto(z.object({ received: z.literal(true) }).meta({ id: 'WebhookReceived' })) {}
