import { Logger } from '@nestjs/common';

// Framework and embedded-Postgres chatter is noise in test output; warnings and errors still show.
Logger.overrideLogger(['error', 'warn']);
