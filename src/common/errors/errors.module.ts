import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ProblemWriter } from './problem-writer';

/** The one problem+json filter and its writer; the pages behind each problem type are the problems module's. */
@Module({
  providers: [ProblemWriter, { provide: APP_FILTER, useClass: ProblemDetailsFilter }],
  exports: [ProblemWriter],
})
export class ErrorsModule {}
