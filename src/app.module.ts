import { DynamicModule, Module, Type } from '@nestjs/common';
import { AuthCoreModule } from './common/auth/auth-core.module';
import { BackgroundModule, BackgroundTasks } from './common/background';
import { ClockModule } from './common/clock';
import { CryptoModule } from './common/crypto/crypto.module';
import { EventsModule } from './common/events';
import { IdempotencyModule } from './common/idempotency/idempotency.module';
import { MailModule } from './common/mail/mail.module';
import { SmsModule } from './common/sms/sms.module';
import { ErrorsModule } from './common/errors/errors.module';
import { GeoModule } from './common/geo/geo.module';
import { I18nModule } from './common/i18n/i18n.module';
import { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './db/database.module';
import { AccountsModule } from './modules/accounts/accounts.module';
import { ApiKeysModule } from './modules/api-keys/api-keys.module';
import { AuthModule } from './modules/auth/auth.module';
import { BillingModule } from './modules/billing/billing.module';
import { DevMailModule } from './modules/dev-mail/dev-mail.module';
import { HealthModule } from './modules/health/health.module';
import { PagesModule } from './modules/pages/pages.module';
import { ProblemsModule } from './modules/problems/problems.module';
import { LicensesModule } from './modules/licenses/licenses.module';
import { MeteringModule } from './modules/metering/metering.module';
import { OidcModule } from './modules/oidc/oidc.module';
import { OrdersModule } from './modules/orders/orders.module';
import { ProductsModule } from './modules/products/products.module';
import { SubscriptionsModule } from './modules/subscriptions/subscriptions.module';
import { UsersModule } from './modules/users/users.module';
import { WebhooksModule } from './modules/webhooks/webhooks.module';

export interface AppModuleOptions {
  config: AppConfig;
  /** The connection string in use: DATABASE_URL, or the embedded Postgres started at boot. */
  databaseUrl: string;
  /** Apply pending migrations (createApp does, before the modules start). */
  migrate: boolean;
  /** Extra modules mounted beside the app's own; tests use it for probe routes. */
  extraModules?: Type[];
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(options.config),
        I18nModule,
        DatabaseModule.forRoot({
          url: options.databaseUrl,
          poolMax: options.config.database.poolMax,
          timeouts: options.config.database,
          beforeClose: BackgroundTasks,
        }),
        ClockModule,
        CryptoModule,
        EventsModule,
        BackgroundModule,
        IdempotencyModule,
        MailModule,
        SmsModule,
        GeoModule,
        ErrorsModule,
        ProblemsModule,
        // The route guard's ports: MeteringModule exports the Meter, ApiKeysModule the ApiKeyVerifier, AuthModule the SessionVerifier.
        AuthCoreModule.forRoot({ portsFrom: [MeteringModule, ApiKeysModule, AuthModule] }),
        HealthModule,
        AuthModule,
        OidcModule,
        UsersModule,
        AccountsModule,
        SubscriptionsModule,
        MeteringModule,
        ProductsModule,
        LicensesModule,
        OrdersModule,
        BillingModule,
        WebhooksModule,
        ApiKeysModule,
        PagesModule,
        // Development only: in production /dev/mail does not exist at all.
        ...(options.config.devMailPage ? [DevMailModule] : []),
        ...(options.extraModules ?? []),
      ],
    };
  }
}
