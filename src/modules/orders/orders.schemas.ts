import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { idSchema } from '../../lib/ids';
import { pageSchema, paginationQuerySchema } from '../../common/pagination';

const orderFields = {
  id: z.string().meta({ example: 'ord_01jh8x2v3kf6qz9w0c4m5t7r8y' }),
  userId: z.string(),
  status: z.enum(['PENDING', 'PAID', 'FAILED', 'REFUNDED', 'PARTIALLY_REFUNDED']),
  currency: z.string(),
  amountTotal: z.string().meta({ example: '249.00' }),
  amountRefunded: z.string(),
  paidAt: z.iso.datetime({ offset: true }).nullable(),
  oversold: z.boolean().meta({ description: 'Paid for more units than were in stock; stock stopped at 0' }),
  createdAt: z.iso.datetime({ offset: true }),
};

export const orderSchema = z.object(orderFields).meta({ id: 'Order' });

export class OrderDetailResponseDto extends createZodDto(
  z
    .object({
      ...orderFields,
      items: z.array(z.object({ productId: z.string(), quantity: z.number().int(), unitPriceNet: z.string(), vat: z.string(), unitPriceGross: z.string() })),
    })
    .meta({ id: 'OrderDetail' }),
) {}

export class OrderPageDto extends createZodDto(pageSchema(orderSchema, 'OrderPage')) {}
export class OrderListQueryDto extends createZodDto(paginationQuerySchema) {}
export class OrderIdParamsDto extends createZodDto(z.strictObject({ id: idSchema('ord') })) {}
