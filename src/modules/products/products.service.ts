import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { GeoLocator } from '../../common/geo/geo-locator';
import { parseMoney, parseRate } from '../../common/money/money';
import { toPage } from '../../common/pagination';
import type { Transaction } from '../../db/database';
import { toIntegrationProductView, toProductView } from './products.mapper';
import { NewProduct, ProductRow, ProductsRepository } from './products.repository';
import { ProductCreateDto, ProductListQueryDto, ProductUpdateDto, ProductView } from './products.schemas';

@Injectable()
export class ProductsService implements OnApplicationBootstrap {
  constructor(
    private readonly products: ProductsRepository,
    private readonly geo: GeoLocator,
  ) {}

  /** A stored product that restricts by place has the geographic data read now, not by its first caller. */
  async onApplicationBootstrap(): Promise<void> {
    this.geo.prepareFor(await this.products.findPlaceRestrictingScope());
  }

  /** The stored product, active or not: a license may still be granted for one that is no longer sold. */
  findById(id: string): Promise<ProductRow | undefined> {
    return this.products.findById(id);
  }

  findByIds(ids: string[]): Promise<ProductRow[]> {
    return this.products.findByIds(ids);
  }

  /**
   * Takes sold units from counted stock, which never goes below zero; unlimited stock is left
   * alone. Returns how many units were missing (0 when there were enough).
   */
  async takeStock(tx: Transaction, productId: string, quantity: number): Promise<number> {
    const stock = await this.products.lockStock(tx, productId);
    if (stock === undefined) return 0;
    await this.products.setStock(tx, productId, Math.max(stock - quantity, 0));
    return Math.max(quantity - stock, 0);
  }

  async create(dto: ProductCreateDto): Promise<ProductView> {
    const { priceNet, vat, ...rest } = dto;
    const row = await this.products.insert({ ...rest, priceNetMinor: parseMoney(priceNet)!, vatBasisPoints: parseRate(vat)! });
    this.geo.prepareFor(row.geoScope);
    return toProductView(row);
  }

  async update(id: string, dto: ProductUpdateDto): Promise<ProductView> {
    const { priceNet, vat, ...rest } = dto;
    const changes: Partial<NewProduct> = {
      ...rest,
      ...(priceNet !== undefined ? { priceNetMinor: parseMoney(priceNet)! } : {}),
      ...(vat !== undefined ? { vatBasisPoints: parseRate(vat)! } : {}),
    };
    const row = Object.keys(changes).length > 0 ? await this.products.update(id, changes) : await this.products.findById(id);
    if (!row) throw new DomainError('NOT_FOUND');
    this.geo.prepareFor(row.geoScope);
    return toProductView(row);
  }

  /** A soft delete: the product stays for orders and licenses that name it, but can no longer be sold. */
  async deactivate(id: string): Promise<void> {
    if (!(await this.products.update(id, { active: false }))) throw new DomainError('NOT_FOUND');
  }

  async get(id: string): Promise<ProductView> {
    const row = await this.products.findById(id);
    if (!row) throw new DomainError('NOT_FOUND');
    return toProductView(row);
  }

  async list(query: ProductListQueryDto) {
    const page = toPage(await this.products.list(query), query.limit);
    return { items: page.items.map(toProductView), nextCursor: page.nextCursor };
  }

  /** The published integration format, products on sale only; numbers computed from the stored integers. */
  async integrationList() {
    return (await this.products.activeForIntegrationList()).map(toIntegrationProductView);
  }
}
