import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { Authenticated } from '../../common/auth/access.decorators';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { IntegrationErrors } from '../../common/errors/integration-problem-writer';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { ProductsService } from './products.service';
import {
  IntegrationProductDto,
  ProductCreateDto,
  ProductIdParamsDto,
  ProductListQueryDto,
  ProductPageDto,
  ProductResponseDto,
  ProductUpdateDto,
} from './products.schemas';

@ApiTags('Products')
@Controller('v1/products')
export class ProductsController {
  constructor(private readonly products: ProductsService) {}

  @Authenticated({ metered: 'unmetered' })
  @Get()
  @ApiOperation({ summary: 'The catalog, searchable by name, SKU or barcode' })
  @ZodResponse({ status: 200, type: ProductPageDto })
  listProducts(@Query() query: ProductListQueryDto) {
    return this.products.list(query);
  }

  @Authenticated({ metered: 'unmetered' })
  @Get(':id')
  @ApiOperation({ summary: 'One product' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: ProductResponseDto })
  getProduct(@Param() params: ProductIdParamsDto) {
    return this.products.get(params.id);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Post()
  @ApiOperation({ summary: 'Add a product (ADMIN)' })
  @ApiProblems('CONFLICT', 'INSUFFICIENT_SCOPE')
  @ZodResponse({ status: 201, type: ProductResponseDto })
  createProduct(@Body() dto: ProductCreateDto) {
    return this.products.create(dto);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Patch(':id')
  @ApiOperation({ summary: 'Change a product (ADMIN)' })
  @ApiProblems('NOT_FOUND', 'CONFLICT', 'INSUFFICIENT_SCOPE')
  @ZodResponse({ status: 200, type: ProductResponseDto })
  updateProduct(@Param() params: ProductIdParamsDto, @Body() dto: ProductUpdateDto) {
    return this.products.update(params.id, dto);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Withdraw a product from sale (ADMIN): a soft delete, active=false' })
  @ApiNoContentResponse({ description: 'Deactivated' })
  @ApiProblems('NOT_FOUND', 'INSUFFICIENT_SCOPE')
  async deleteProduct(@Param() params: ProductIdParamsDto) {
    await this.products.deactivate(params.id);
  }
}

/** The published integration endpoint, for clients written against it, with the docs' error format. */
@ApiTags('Integration')
@Controller('api/integration/products')
export class IntegrationProductsController {
  constructor(private readonly products: ProductsService) {}

  @Authenticated({ metered: 'integration.products.getAll' })
  @Get('getAll')
  @IntegrationErrors()
  @ApiOperation({ summary: 'Every product in the published integration format (PascalCase, prices as numbers)' })
  @ZodResponse({ status: 200, type: [IntegrationProductDto] })
  getAllProducts() {
    return this.products.integrationList();
  }
}
