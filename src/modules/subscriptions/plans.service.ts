import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { DomainEvents } from '../../common/events';
import { GeoLocator } from '../../common/geo/geo-locator';
import { Language } from '../../common/i18n/language';
import { parseMoney } from '../../common/money/money';
import { AppConfig, InjectConfig } from '../../config/config';
import { PRESET_PLAN_CODES } from '../../db/schema/subscriptions';
import { DEV_STRIPE_PRICES } from './dev-stripe-prices';
import { PlanChanges, PlansRepository, PresetCode } from './plans.repository';
import { SubscriptionsRepository } from './subscriptions.repository';
import { toPlanView } from './subscriptions.mapper';
import { PlanUpdateDto } from './subscriptions.schemas';

@Injectable()
export class PlansService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Plans');

  constructor(
    private readonly plans: PlansRepository,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly events: DomainEvents,
    private readonly geo: GeoLocator,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * A plan, or a running period's terms, that restricts by place has the geographic data read now,
   * not by its first caller. In development against a local Stripe, paid presets get test prices.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.stripe.seedDevPrices) await this.seedDevPrices();
    const [plan, terms] = await Promise.all([this.plans.findPlaceRestrictingScope(), this.subscriptions.findPlaceRestrictingTerms()]);
    this.geo.prepareFor(plan ?? terms);
  }

  /** An ADMIN's own price, or a preset's price set before, is kept. */
  private async seedDevPrices(): Promise<void> {
    const seeded: string[] = [];
    for (const price of DEV_STRIPE_PRICES) {
      if (await this.plans.setStripePriceIdIfUnset(price.code, price.id)) seeded.push(`${price.code} ${price.id}`);
    }
    if (seeded.length > 0) this.logger.log(`Development Stripe (STRIPE_API_BASE): test prices for ${seeded.join(', ')}`);
  }

  /** The presets, cheapest first as the README lists them, in the caller's language. */
  async listPresets(lang: Language) {
    const rows = await this.plans.listPresets();
    const order = (code: string) => PRESET_PLAN_CODES.indexOf(code as PresetCode);
    return { items: rows.sort((a, b) => order(a.code) - order(b.code)).map((row) => toPlanView(row, lang)) };
  }

  /**
   * ADMIN: new terms for a preset. Running subscriptions keep the snapshot they started their
   * period with; the next period (a renewal or a new plan change) takes these.
   */
  async updatePreset(code: PresetCode, dto: PlanUpdateDto, lang: Language) {
    const changes: PlanChanges = {
      ...(dto.limits !== undefined ? { limits: dto.limits } : {}),
      ...(dto.rateLimit !== undefined ? { rateLimitCount: dto.rateLimit?.count ?? null, rateLimitWindowSeconds: dto.rateLimit?.windowSeconds ?? null } : {}),
      ...(dto.geoScope !== undefined ? { geoScope: dto.geoScope } : {}),
      ...(dto.price !== undefined ? { priceMinor: parseMoney(dto.price)! } : {}),
      ...(dto.currency !== undefined ? { currency: dto.currency } : {}),
      ...(dto.stripePriceId !== undefined ? { stripePriceId: dto.stripePriceId } : {}),
    };
    const row = Object.keys(changes).length > 0 ? await this.plans.updatePreset(code, changes) : await this.plans.findPreset(code);
    if (!row) throw new DomainError('NOT_FOUND');
    this.geo.prepareFor(row.geoScope);
    // NONE's terms are read live by everyone on the free tier (other instances within the cache TTL).
    this.events.emit('plan.changed', { code });
    return toPlanView(row, lang);
  }
}
