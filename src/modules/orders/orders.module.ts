import { Module } from '@nestjs/common';
import { ProductsModule } from '../products/products.module';
import { UsersModule } from '../users/users.module';
import { CheckoutService } from './checkout.service';
import { OrdersController } from './orders.controller';
import { OrdersRepository } from './orders.repository';
import { OrdersService } from './orders.service';

@Module({
  imports: [ProductsModule, UsersModule],
  controllers: [OrdersController],
  providers: [CheckoutService, OrdersService, OrdersRepository],
  exports: [OrdersRepository],
})
export class OrdersModule {}
