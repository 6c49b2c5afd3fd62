import { Body, Controller, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { DATABASE_UNAVAILABLE_RESPONSE, ErrorBodyDto } from '../common/error-body.dto';
import { LlmProgressDto, ProgressAckDto } from './dto/llm-progress.dto';
import { CALLBACK_BEARER_SCHEME, CALLBACK_TOKEN_SCHEME, presentedToken } from './llm-callback.controller';
import { ProgressService } from './progress.service';

@ApiTags('llm-callback')
@ApiSecurity(CALLBACK_TOKEN_SCHEME)
@ApiSecurity(CALLBACK_BEARER_SCHEME)
@Controller('v1/llm/progress')
export class ProgressController {
  constructor(private readonly progress: ProgressService) {}

  @Post(':job_id')
  @ApiOperation({
    summary: "The LLM server's heartbeat for a long job",
    description:
      'POST to the progress_url sent with the job (it carries ?token=…), or with Authorization: Bearer ' +
      '<callback_token>, while working on it. Each heartbeat moves the callback deadline to at least now + ' +
      'LLM_CALLBACK_TIMEOUT_SECONDS, never past LLM_JOB_MAX_SECONDS after the forward, and the job shows the latest ' +
      'progress, stage and message. Writes coalesce to one per job per second. A job no longer processing (finished, ' +
      'cancelled) answers 200 with its status, and nothing changes: stop working on it.',
  })
  @ApiAcceptedResponse({ description: 'Taken: the deadline moved on', type: ProgressAckDto })
  @ApiOkResponse({ description: 'The job is no longer processing; nothing changed', type: ProgressAckDto })
  @ApiBadRequestResponse({ description: 'Invalid body', type: ErrorBodyDto })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong callback credential', type: ErrorBodyDto })
  @ApiNotFoundResponse({ description: 'No such job', type: ErrorBodyDto })
  @ApiServiceUnavailableResponse(DATABASE_UNAVAILABLE_RESPONSE)
  async receive(
    @Param('job_id') jobId: string,
    @Body() body: LlmProgressDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ProgressAckDto> {
    const { taken, ack } = await this.progress.accept(jobId, presentedToken(request), body);
    response.status(taken ? 202 : 200);
    return ack;
  }
}
