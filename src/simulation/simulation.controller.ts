import { Body, Controller, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiExcludeEndpoint,
  ApiNotFoundResponse,
  ApiOperation,
  ApiResponse,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { type Caller } from '../clients/caller';
import { CallerGuard, CurrentCaller } from '../clients/caller.guard';
import { API_KEY_SCHEME, BEARER_SCHEME } from '../http/api-key';
import { SimulationDisabledError } from '../common/domain-errors';
import { DATABASE_UNAVAILABLE_RESPONSE, ErrorBodyDto, INVALID_RESULT_RESPONSE } from '../common/error-body.dto';
import { CONFIG, type RelayConfig } from '../config/config';
import { SIMULATED_LLM_PREFIX } from '../llm-server/llm-server.client';
import { CallbackAckDto } from '../llm-callback/dto/llm-callback.dto';
import { LlmCallbackService } from '../llm-callback/llm-callback.service';
import { SimulatedForwardDto, SimulateLlmDto } from './dto/simulate-llm.dto';
import { SimulatedLlmServer } from './simulated-llm.server';
import { simulatedReview } from './simulated-review';

@ApiTags('simulation')
@Controller()
export class SimulationController {
  constructor(
    private readonly callbacks: LlmCallbackService,
    private readonly simulatedLlm: SimulatedLlmServer,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  @Post('simulate-llm/:job_id')
  @HttpCode(200)
  @UseGuards(CallerGuard)
  @ApiSecurity(API_KEY_SCHEME)
  @ApiBearerAuth(BEARER_SCHEME)
  @ApiOperation({
    summary: "Imitate the LLM's callback for a job",
    description:
      "Feeds the callback's body ({ok, result, error}) through the same path as the real callback, without the " +
      "per-job credential; it needs an API key like /v1/reviews (a client's key: its own jobs only). An empty body (the " +
      'default) generates a plausible successful result. Off in production unless SIMULATION_ENABLED=true.',
  })
  @ApiBody({ type: SimulateLlmDto, required: false })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong API key', type: ErrorBodyDto })
  @ApiNotFoundResponse({ description: 'No such job, or simulation disabled', type: ErrorBodyDto })
  @ApiBadRequestResponse({ description: 'Invalid body', type: ErrorBodyDto })
  @ApiResponse({ status: 413, description: 'Body over CALLBACK_MAX_BODY_BYTES', type: ErrorBodyDto })
  @ApiResponse({ status: 415, description: 'Body is not JSON', type: ErrorBodyDto })
  @ApiConflictResponse({ description: 'A different result was already recorded', type: ErrorBodyDto })
  @ApiUnprocessableEntityResponse(INVALID_RESULT_RESPONSE)
  @ApiServiceUnavailableResponse(DATABASE_UNAVAILABLE_RESPONSE)
  simulate(
    @CurrentCaller() caller: Caller,
    @Param('job_id') jobId: string,
    @Body() body: SimulateLlmDto = {},
  ): Promise<CallbackAckDto> {
    if (!this.config.simulationEnabled) throw new SimulationDisabledError();
    const ok = body.ok ?? true;
    const result = body.result !== undefined ? body.result : ok ? simulatedReview(jobId) : null;
    return this.callbacks.simulateCallback(caller, jobId, { ok, result, error: body.error });
  }

  /** The built-in LLM server used when no LLM server is configured: accepts the job, calls back a moment later. */
  @Post(`${SIMULATED_LLM_PREFIX.slice(1)}/*path`)
  @HttpCode(202)
  @ApiExcludeEndpoint()
  acceptForward(@Body() forward: SimulatedForwardDto): { accepted: boolean } {
    if (this.config.llmServers.every((server) => server.url !== null)) throw new SimulationDisabledError();
    this.simulatedLlm.scheduleCallback(forward.job_id, forward.callback_token);
    return { accepted: true };
  }
}
