import { setTimeout as sleep } from 'node:timers/promises';
import { Body, Controller, Get, Module, type OnModuleInit, Post, Query } from '@nestjs/common';
import { IsEmail, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { Type } from 'class-transformer';
import { ValidateNested } from 'class-validator';
import { DataSource } from 'typeorm';
import { CommonErrors } from '../../src/common/app-error.js';
import { type Data, type Page, data, page } from '../../src/common/envelope.js';
import { PageQuery } from '../../src/common/pagination.js';
import { Authenticated, Public } from '../../src/common/permissions.js';

class ProbeTag {
  @IsString()
  @Length(1, 10)
  label: string;
}

class EchoBody {
  @IsString()
  @Length(1, 50)
  name: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10)
  count?: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => ProbeTag)
  tag?: ProbeTag;
}

class SlowBody {
  @IsInt()
  @Min(0)
  @Max(5_000)
  delay_ms: number;
}

class UniqueBody {
  @IsEmail()
  email: string;
}

/**
 * Routes that exist only in the e2e tests, to exercise the HTTP conventions (validation,
 * envelopes, pagination, idempotency, unique violations, unexpected errors) through the real
 * app on real Postgres and Redis before the feature modules that will rely on them exist.
 */
@Controller('probe')
export class ProbeController implements OnModuleInit {
  /** Handler runs started so far (tests wait on it instead of sleeping). */
  invocations = 0;
  /** The answers GET /probe/held holds back until release(). */
  private readonly held: (() => void)[] = [];

  constructor(private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    await this.dataSource.query(
      'CREATE TABLE IF NOT EXISTS probe_unique (email citext PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now())',
    );
  }

  @Post('echo')
  @Public()
  echo(@Body() body: EchoBody): Data<EchoBody & { invocation: number }> {
    this.invocations += 1;
    return data({ ...body, invocation: this.invocations });
  }

  @Post('slow')
  @Public()
  async slow(@Body() body: SlowBody): Promise<Data<{ invocation: number }>> {
    this.invocations += 1;
    const invocation = this.invocations;
    await sleep(body.delay_ms);
    return data({ invocation });
  }

  /** A credentialed request that is answered only when the test calls release(). */
  @Get('held')
  @Authenticated()
  async hold(): Promise<Data<{ invocation: number }>> {
    this.invocations += 1;
    const invocation = this.invocations;
    await new Promise<void>((resolve) => this.held.push(resolve));
    return data({ invocation });
  }

  /** Answers every request GET /probe/held is holding. */
  release(): void {
    for (const answer of this.held.splice(0)) answer();
  }

  @Post('unique')
  @Public()
  async unique(@Body() body: UniqueBody): Promise<Data<{ email: string }>> {
    await this.dataSource.query('INSERT INTO probe_unique (email) VALUES ($1)', [body.email]);
    return data({ email: body.email });
  }

  @Get('numbers')
  @Public()
  async numbers(@Query() query: PageQuery): Promise<Page<{ n: number }>> {
    const rows: { n: number }[] = await this.dataSource.query(
      'SELECT n FROM generate_series(1, 250) AS n ORDER BY n LIMIT $1 OFFSET $2',
      [query.limit, query.offset],
    );
    return page(rows, 250, query);
  }

  @Get('missing')
  @Public()
  missing(): never {
    throw CommonErrors.notFound('Widget');
  }

  @Get('boom')
  @Public()
  async boom(): Promise<never> {
    // A real driver error carrying SQL: none of it may reach the client.
    await this.dataSource.query('SELECT * FROM table_that_does_not_exist_secret_internal');
    throw new Error('unreachable');
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
