import { Global, Module } from '@nestjs/common';
import { geoDataFiles, GeoLocator } from './geo-locator';

/** Global: the metered endpoints and license validation all ask the one in-memory copy of the data, and products and plans say when it is needed. */
@Global()
@Module({ providers: [{ provide: GeoLocator, useFactory: () => new GeoLocator(geoDataFiles()) }], exports: [GeoLocator] })
export class GeoModule {}
