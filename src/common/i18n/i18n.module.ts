import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { AcceptLanguageResolver, I18nModule as NestI18nModule } from 'nestjs-i18n';
import { DEFAULT_LANGUAGE } from './language';

/** Translation files live in src/i18n/<lang>/<namespace>.json and are copied to dist by nest-cli. */
export const I18N_PATH = join(__dirname, '../../i18n');

@Module({
  imports: [
    NestI18nModule.forRoot({
      fallbackLanguage: DEFAULT_LANGUAGE,
      loaderOptions: { path: I18N_PATH, watch: false },
      // The language is chosen per request by requestLanguage(), which also covers errors raised
      // before routing (404, body parsing), where nestjs-i18n's middleware context is not available.
      // With the middleware disabled the resolver below is never run; it is listed only because
      // nestjs-i18n logs a start-up notice when the list is empty.
      disableMiddleware: true,
      resolvers: [AcceptLanguageResolver],
      logging: false,
    }),
  ],
})
export class I18nModule {}
