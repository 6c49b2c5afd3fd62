import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { ClientIdFilter } from './client-filter';
import { ReviewDto } from './review.dto';

export class ReviewChangesQueryDto {
  @ClientIdFilter()
  client_id?: string;

  /** `next_cursor` of the previous answer: the changes committed after it. Without it, from the oldest change kept. */
  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 200 })
  // Only its type here: anything else that is not a cursor the relay gave out is 400 `invalid_cursor`.
  @IsOptional()
  @IsString()
  after?: string;

  /** Most jobs in one answer (1 to 1000). */
  @ApiPropertyOptional({ type: 'integer', default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 100;
}

export class ReviewChangesDto {
  /**
   * Jobs whose status changed after the cursor, in the order the changes were committed, each in its current state.
   * A job that changed several times since the cursor appears once, at its latest change.
   */
  items: ReviewDto[];
  /**
   * Pass as `after` for the next changes; always present. With no new changes it is the cursor given (or the start),
   * so a reader keeps polling with it. Store it durably once the items are processed.
   */
  next_cursor: string;
}
