import { AuthApi } from './auth.js';
import { LicensesApi } from './licenses.js';
import {
  AccessApi,
  AccountsApi,
  ApiKeysApi,
  CheckoutApi,
  HealthApi,
  IntegrationApi,
  OrdersApi,
  ProblemsApi,
  ProductsApi,
  SubscriptionsApi,
  UsersApi,
} from './resources.js';
import { Transport, type GatehouseClientOptions } from './transport.js';
import { WebhooksApi } from './webhooks.js';

/**
 * The Gatehouse API, one namespace per module:
 * `new GatehouseClient({ baseUrl, apiKey }).licenses.validate({ key, fingerprint })`.
 */
export class GatehouseClient {
  readonly auth: AuthApi;
  readonly users: UsersApi;
  readonly accounts: AccountsApi;
  readonly products: ProductsApi;
  readonly checkout: CheckoutApi;
  readonly orders: OrdersApi;
  readonly licenses: LicensesApi;
  readonly apiKeys: ApiKeysApi;
  readonly subscriptions: SubscriptionsApi;
  readonly access: AccessApi;
  readonly webhooks: WebhooksApi;
  readonly integration: IntegrationApi;
  readonly health: HealthApi;
  readonly problems: ProblemsApi;

  constructor(options: GatehouseClientOptions) {
    const transport = new Transport(options);
    this.auth = new AuthApi(transport);
    this.users = new UsersApi(transport);
    this.accounts = new AccountsApi(transport);
    this.products = new ProductsApi(transport);
    this.checkout = new CheckoutApi(transport);
    this.orders = new OrdersApi(transport);
    this.licenses = new LicensesApi(transport);
    this.apiKeys = new ApiKeysApi(transport);
    this.subscriptions = new SubscriptionsApi(transport);
    this.access = new AccessApi(transport);
    this.webhooks = new WebhooksApi(transport);
    this.integration = new IntegrationApi(transport);
    this.health = new HealthApi(transport);
    this.problems = new ProblemsApi(transport);
  }
}
