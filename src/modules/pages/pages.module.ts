import { Module } from '@nestjs/common';
import { PagesController } from './pages.controller';
import { PagesService } from './pages.service';

/** GET /activate and /reset-password: the pages mailed links open unless a vendor hosts its own. */
@Module({ controllers: [PagesController], providers: [PagesService] })
export class PagesModule {}
