import { Module } from '@nestjs/common';
import { ProbsController } from './probs.controller';
import { ProblemsController } from './problems.controller';
import { ProblemsService } from './problems.service';

/** The pages behind each problem's `type` URI, from the error catalog in common/errors. */
@Module({
  controllers: [ProblemsController, ProbsController],
  providers: [ProblemsService],
})
export class ProblemsModule {}
