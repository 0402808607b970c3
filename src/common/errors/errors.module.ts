import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ProblemWriter } from './problem-writer';
import { ProbsController } from './probs.controller';
import { ProblemsController } from './problems.controller';
import { ProblemsService } from './problems.service';

@Module({
  controllers: [ProblemsController, ProbsController],
  providers: [ProblemsService, ProblemWriter, { provide: APP_FILTER, useClass: ProblemDetailsFilter }],
  exports: [ProblemWriter],
})
export class ErrorsModule {}
