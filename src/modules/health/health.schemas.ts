import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

export class LivenessResponseDto extends createZodDto(z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' })) {}

export class ReadinessResponseDto extends createZodDto(
  z.object({ status: z.literal('ok'), database: z.literal('up'), redis: z.literal('up').optional() }).meta({ id: 'Readiness' }),
) {}
