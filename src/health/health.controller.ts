import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { WorkSignal } from '../scheduler/work-signal';

const ALIVE: HealthCheckResult = { status: 'ok', info: {}, error: {}, details: {} };
const ALIVE_SCHEMA = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    info: { type: 'object' },
    error: { type: 'object' },
    details: { type: 'object' },
  },
  example: ALIVE,
};

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly work: WorkSignal,
  ) {}

  /**
   * Not through HealthCheckService: terminus answers every check 503 from the moment shutdown begins, and an
   * orchestrator kills a process whose liveness fails, cutting its drain short.
   */
  @Get('live')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Liveness: the process answers (200 while draining too)' })
  @ApiOkResponse({ description: 'The process is alive', schema: ALIVE_SCHEMA })
  live(): HealthCheckResult {
    return ALIVE;
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: the database answers and the process is not draining' })
  @ApiServiceUnavailableResponse({ description: 'Draining after SIGTERM, or the database does not answer' })
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => {
        const session = this.indicators.check('intake');
        return this.work.isDraining ? session.down('draining') : session.up();
      },
      () => this.database.pingCheck('database', { timeout: 2000 }),
    ]);
  }
}
