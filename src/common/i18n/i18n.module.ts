import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { I18nModule as NestI18nModule } from 'nestjs-i18n';
import { DEFAULT_LANGUAGE } from './language';

/** Translation files live in src/i18n/<lang>/<namespace>.json and are copied to dist by nest-cli. */
export const I18N_PATH = join(__dirname, '../../i18n');

@Module({
  imports: [
    NestI18nModule.forRoot({
      fallbackLanguage: DEFAULT_LANGUAGE,
      loaderOptions: { path: I18N_PATH, watch: false },
      // Language is chosen per request by requestLanguage(), which the error filter and mailers share.
      disableMiddleware: true,
      logging: false,
    }),
  ],
})
export class I18nModule {}
