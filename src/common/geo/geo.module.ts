import { Global, Module } from '@nestjs/common';
import { GeoLocator } from './geo-locator';

/** Global: the metered endpoints and license validation all ask the one in-memory copy of the data. */
@Global()
@Module({ providers: [{ provide: GeoLocator, useFactory: () => GeoLocator.load() }], exports: [GeoLocator] })
export class GeoModule {}
